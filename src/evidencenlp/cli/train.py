"""``evidencenlp train`` — parse options, call :func:`evidencenlp.training.train`, print the figures, save."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from evidencenlp.cli._app import app, backend_option, console, err_console, fail
from evidencenlp.defaults import DEFAULT_C, STATIC_HEAD_PARAMS

if TYPE_CHECKING:
    from evidencenlp.training import TaskScore


def _scores_table(title: str, columns: dict[str, list[TaskScore]]) -> Table:
    table = Table(title=title)
    table.add_column("task")
    for name in columns:
        table.add_column(name, justify="right")
    first = next(iter(columns.values()))
    for i, s in enumerate(first):
        table.add_row(s.task, *[f"acc {c[i].accuracy:.3f} · macro-F1 {c[i].macro_f1:.3f} (n={c[i].n})"
                                for c in columns.values()])
    return table


def _bundle_weights(bundles: list[Path], weight: float) -> dict[str, object]:
    """The classifier's ``source_weights`` with the bundle notes' weight (nothing when no bundles are given)."""
    if not bundles:
        return {}
    from evidencenlp.classifier import EvidenceClassifier, with_source_weight
    from evidencenlp.sources.bundles import BUNDLE_ORIGIN

    return {"source_weights": with_source_weight(EvidenceClassifier().get_params()["source_weights"], BUNDLE_ORIGIN,
                                                 weight)}


@app.command()
def train(
    data: list[Path] = typer.Option([], "--data", help="Extra labelled file(s) with the corpus columns (repeatable)."),
    include_decisions: Path = typer.Option(None, "--include-decisions",
                                           help="Review database: add the inspectors' confirmed labels."),
    phase1: Path = typer.Option(None, "--phase1", help="Real NHS feedback: a pxtextmining phase-1 file (e.g. "
                                "../shared/data/pxtextmining-phase1/text_data.csv), read where it is, never copied."),
    inspection: bool = typer.Option(False, "--inspection", help="Add the CQC inspection report paragraphs "
                                    "(training/inspection/cqc_reports.csv)."),
    bundles: list[Path] = typer.Option([], "--bundles", help="A folder of assessment bundles (*.json, as "
                                       "`evaluate --assessments` reads) whose labelled notes join the training rows "
                                       "(training only, never held out; repeatable)."),
    bundle_weight: float = typer.Option(1.0, "--bundle-weight", min=0.01, max=10.0,
                                        help="Sample weight of the --bundles notes (corpus notes weigh 1, framework "
                                        "sentences 0.3)."),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Do not use training/corpus/*.csv."),
    no_framework: bool = typer.Option(False, "--no-framework-examples", help="Do not use framework-derived sentences."),
    out: Path = typer.Option(None, "--out", help="Folder to save the classifier in (default: the checkout's models/)."),
    C: float = typer.Option(DEFAULT_C, "--C", min=1e-4, help="Inverse regularisation strength of the heads."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out split."),
    backend: str = backend_option(),
) -> None:
    """Train the classifier, report held-out figures (grouped split), then refit on everything and save."""
    from evidencenlp.modelcard import write_model_card
    from evidencenlp.paths import default_model_output
    from evidencenlp.training import TrainingOptions
    from evidencenlp.training import train as run_training

    target = out or default_model_output()
    if target is None:
        raise fail("installed from a wheel, the packaged model cannot be overwritten: name a folder with --out")
    options = TrainingOptions(data=tuple(data), include_decisions=include_decisions, corpus=not no_corpus,
                              framework_examples=not no_framework, params={"C": C, "backend": backend,
                                                              **(STATIC_HEAD_PARAMS if backend == "static" else {}),
                                                              **_bundle_weights(bundles, bundle_weight)},
                              seed=seed, phase1=phase1,
                              inspection=inspection, bundles=tuple(bundles))
    try:
        result = run_training(options, log=lambda msg: err_console.print(msg, highlight=False))
    except KeyboardInterrupt:
        raise fail("interrupted: nothing was saved", code=130) from None
    columns = {"held-out": result.heldout}
    if result.heldout_before_decisions is not None:
        columns = {"before (without decisions)": result.heldout_before_decisions,
                   "after (with decisions)": result.heldout}
    console.print(_scores_table("Held-out figures", columns))
    clf = result.classifier
    clf.save(target)
    write_model_card(clf, target)
    console.print(f"saved classifier {clf.model_version} to {target} "
                  f"(training data sha256 {clf.training_data_['sha256'][:12]}…, {result.rows:,} rows)")
