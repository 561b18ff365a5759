"""``evidencenlp train`` — fit the heads on framework-derived examples, the corpus and any extra data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from evidencenlp.cli._app import app, console, err_console, fail
from evidencenlp.frameworks import load_crosswalk, load_frameworks
from evidencenlp.heads import DEFAULT_C
from evidencenlp.matching import FrameworkIndex
from evidencenlp.modelcard import write_model_card
from evidencenlp.paths import models_dir
from evidencenlp.training import TaskScore, embed_texts, fit_bundle, holdout_split, score_bundle
from evidencenlp.training_data import framework_examples, load_corpus, load_labelled


def _scores_table(title: str, columns: dict[str, list]) -> Table:
    table = Table(title=title)
    table.add_column("task")
    for name in columns:
        table.add_column(name, justify="right")
    first = next(iter(columns.values()))
    for i, s in enumerate(first):
        table.add_row(s.task, *[f"acc {c[i].accuracy:.3f} · macro-F1 {c[i].macro_f1:.3f} (n={c[i].n})"
                                for c in columns.values()])
    return table


def _as_metrics(scores: list[TaskScore]) -> dict[str, dict[str, float | int]]:
    """Task → {accuracy, macro_f1, n}, as stored in heads.json and read by the model card."""
    return {s.task: {"accuracy": round(s.accuracy, 4), "macro_f1": round(s.macro_f1, 4), "n": s.n} for s in scores}


@app.command()
def train(
    data: list[Path] = typer.Option([], "--data", help="Extra labelled file(s) with the corpus columns (repeatable)."),
    include_decisions: Path = typer.Option(None, "--include-decisions",
                                           help="Review database: add the inspectors' confirmed labels."),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Do not use training/corpus/*.csv."),
    no_framework: bool = typer.Option(False, "--no-framework-examples", help="Do not use framework-derived sentences."),
    out: Path = typer.Option(None, "--out", help="Where to save the heads (default: the project's models/)."),
    C: float = typer.Option(DEFAULT_C, "--C", min=1e-4, help="Inverse regularisation strength of the heads."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out split."),
) -> None:
    """Train the heads, report held-out figures (grouped split), then refit on everything and save."""
    fws = load_frameworks()
    crosswalk = load_crosswalk(frameworks=fws)
    index = FrameworkIndex(fws, crosswalk)
    parts = []
    if not no_framework:
        parts.append(framework_examples(fws, crosswalk))
    if not no_corpus:
        parts.append(load_corpus(statements=index.statements))
    for path in data:
        frame = load_labelled(path, statements=index.statements)
        frame["origin"] = f"data:{path.name}"
        parts.append(frame)
    decisions = None
    if include_decisions is not None:
        from evidencenlp.review.store import confirmed_labels

        decisions = confirmed_labels(include_decisions)
        if decisions.empty:
            raise fail(f"{include_decisions}: no confirmed decisions to learn from")
        decisions = decisions.assign(origin="decisions")
        parts.append(decisions)
    if not parts:
        raise fail("no training data: drop --no-corpus or --no-framework-examples, or give --data")
    frame = pd.concat(parts, ignore_index=True)
    for col in ("key_question", "statement", "evidence_category", "band", "principles", "origin"):
        frame[col] = frame[col].fillna("").astype(str)
    err_console.print(f"embedding {len(frame):,} training texts …")
    vectors = embed_texts(frame["text"].tolist())

    train_mask, test_mask = holdout_split(frame, vectors, seed=seed)
    n_test = int(test_mask.sum())
    split = (f"grouped held-out split (seed {seed}): {n_test} non-framework notes for testing, "
             f"{int(train_mask.sum())} rows for training; near-duplicates (cosine ≥ 0.92) kept on one side")
    err_console.print(f"fitting on the training split ({split}) …")
    after = score_bundle(fit_bundle(frame[train_mask], vectors[train_mask], index, C=C),
                         frame[test_mask], vectors[test_mask], index)
    columns = {"held-out": after}
    if decisions is not None:
        no_dec = train_mask & (frame["origin"] != "decisions").to_numpy()
        before = score_bundle(fit_bundle(frame[no_dec], vectors[no_dec], index, C=C),
                              frame[test_mask], vectors[test_mask], index)
        columns = {"before (without decisions)": before, "after (with decisions)": after}
    console.print(_scores_table("Held-out figures", columns))

    err_console.print("refitting on all data …")
    bundle = fit_bundle(frame, vectors, index, C=C)
    bundle.metrics = {"holdout": {"split": split, **_as_metrics(after)}}
    if decisions is not None:
        bundle.metrics["holdout_before_decisions"] = _as_metrics(columns["before (without decisions)"])
    target = out or models_dir()
    bundle.save(target)
    write_model_card(bundle, target)
    console.print(f"saved heads {bundle.model_version} to {target} "
                  f"(training data sha256 {bundle.training_data['sha256'][:12]}…, {len(frame):,} rows)")
