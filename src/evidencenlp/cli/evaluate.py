"""``evidencenlp evaluate`` — cross-validation, fixed splits or scoring a labelled file, with baselines."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evidencenlp.cli._app import app, console, err_console, fail
from evidencenlp.defaults import DEFAULT_C, DEFAULT_FOLDS, MODEL_NAMES, MODEL_TITLES
from evidencenlp.errors import DataError

if TYPE_CHECKING:
    import numpy as np

    from evidencenlp.evaluation.cv import Evaluation


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


class Confidence(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"


def _log(message: str) -> None:
    err_console.print(f"[dim]{message}[/]", highlight=False)


def _embed(texts: list[str], what: str, name: str = "training") -> np.ndarray:
    """Embed with a progress bar on stderr (instant when the cache has them)."""
    from evidencenlp.evaluation.cv import embed

    columns = [TextColumn(f"[bold]embedding {what}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("embed", total=len(texts))
        return embed(texts, name=name, progress=lambda done, total: progress.update(task, completed=done))


def _parse_only(only: str | None) -> list[str]:
    if not only:
        return list(MODEL_NAMES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise fail(f"--only: unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODEL_NAMES)}")
    return [n for n in MODEL_NAMES if n in names]


def _fmt(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def _summary_table(ev: Evaluation) -> Table:
    table = Table(title="Evaluation: model vs baselines (best per row in bold)")
    table.add_column("task")
    table.add_column("metric")
    for m in ev.models:
        table.add_column(MODEL_TITLES.get(m, m), justify="right")
    last = None
    for task, metric, values in ev.summary_rows():
        present = {m: v for m, v in values.items() if v is not None}
        best = (min if metric == "ECE" else max)(present, key=present.__getitem__) if present else None
        n = next((ev.results[m][task].n for m in ev.models if task in ev.results[m]), 0)
        table.add_row(f"{task} (n={n})" if task != last else "", metric,
                      *[f"[bold]{_fmt(values[m])}[/]" if m == best else _fmt(values[m]) for m in ev.models],
                      end_section=False)
        last = task
    return table


def _selective_table(ev: Evaluation) -> Table:
    table = Table(title="Selective accuracy of the first model (most confident fraction answered)")
    table.add_column("task")
    model = ev.models[0]
    coverages = [0.1, 0.3, 0.5, 0.8, 1.0]
    for c in coverages:
        table.add_column(f"{int(c * 100)}%", justify="right")
    for task in ev.tasks:
        r = ev.results[model].get(task)
        if r is None:
            continue
        by = {round(p.coverage, 2): p.accuracy for p in r.selective}
        table.add_row(task, *[_fmt(by.get(c)) for c in coverages])
    return table


def _breakdown_tables(ev: Evaluation) -> list[Table]:
    """One table per breakdown column: accuracy of the first model per task (best baseline after '/')."""
    tables = []
    main = ev.models[0]
    for column, tasks in ev.breakdowns.items():
        title = f"Accuracy by {column.replace('_', ' ')}: {MODEL_TITLES.get(main, main)}"
        if len(ev.models) > 1:
            title += " / best baseline"
        table = Table(title=title)
        table.add_column(column)
        table.add_column("n", justify="right")
        shown = [t for t in ev.tasks if t in tasks]
        for t in shown:
            table.add_column(t, justify="right")
        for value in sorted({row["value"] for t in shown for row in tasks[t]}):
            cells, n = [], 0
            for t in shown:
                row = next((r for r in tasks[t] if r["value"] == value), None)
                if row is None:
                    cells.append("–")
                    continue
                n = max(n, row["n"])
                others = [row[m] for m in ev.models[1:] if row.get(m) is not None and not math.isnan(row[m])]
                cells.append(_fmt(row.get(main)) + (f" / {_fmt(max(others))}" if others else ""))
            table.add_row(value, str(n), *cells)
        tables.append(table)
    return tables


def _transfer_table(result: Any) -> Table:
    """Per fold and mean: each model's key question macro-F1, accuracy and direction accuracy (95% CI)."""
    from evidencenlp.evaluation.transfer import TITLES

    table = Table(title=f"Transfer test ({result.kind}): {result.description}")
    table.add_column("held out")
    table.add_column("model")
    for title in ("key question macro-F1", "key question accuracy", "direction accuracy"):
        table.add_column(title, justify="right")
    rows = [(f.name, f.metrics) for f in result.folds] + ([("mean", result.mean)] if len(result.folds) > 1 else [])
    for name, metrics in rows:
        for i, (model, ms) in enumerate(metrics.items()):
            cells = []
            for key in ("kq_macro_f1", "kq_accuracy", "direction_accuracy"):
                m = ms.get(key)
                cells.append("–" if m is None else f"{m.value:.3f} [{m.low:.3f}, {m.high:.3f}] n={m.n:,}")
            table.add_row(name if i == 0 else "", TITLES.get(model, model), *cells, end_section=i == len(metrics) - 1)
    return table


@app.command()
def evaluate(
    folds: int = typer.Option(DEFAULT_FOLDS, "--folds", min=2, help="Number of cross-validation folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment."),
    data: Path = typer.Option(None, "--data", help="Score the shipped heads on this labelled file "
                              "(a pxtextmining file is detected and converted through the phase-1 mapping)."),
    phase1: Path = typer.Option(None, "--phase1", help="Score the shipped heads on a pxtextmining phase-1 file "
                                "(e.g. ../shared/data/pxtextmining-phase1/text_data.csv)."),
    phase1_confidence: Confidence = typer.Option(Confidence.medium, "--phase1-min-confidence",
                                                 help="Use phase-1 subcategories mapped with at least this confidence."),
    mapping: Path = typer.Option(None, "--mapping", help="Phase-1 mapping file (default training/phase1_mapping.yaml)."),
    train_on: Path = typer.Option(None, "--train-on", help="Fixed split: train on this labelled file …"),
    test_on: Path = typer.Option(None, "--test-on", help="… and test on this one."),
    fmt: EvalFormat = typer.Option(EvalFormat.table, "--format", help="table (terminal) or json (stdout)."),
    report: Path = typer.Option(None, "--report", help="Also write one self-contained HTML report here."),
    save_cv: bool = typer.Option(False, "--save-cv", help="Write models/cv_metrics.json for the model card "
                                 "(cross-validation only)."),
    only: str = typer.Option(None, "--only", help=f"Comma-separated models to run (default all: {','.join(MODEL_NAMES)})."),
    no_framework: bool = typer.Option(False, "--no-framework-examples",
                                      help="Do not add framework-derived sentences to the training folds."),
    jobs: int = typer.Option(0, "--jobs", min=0, help="Folds fitted in parallel (0 = one per CPU core)."),
    train_phase1: Path = typer.Option(None, "--train-phase1", help="Add this pxtextmining phase-1 file's comments "
                                      "to every training fold (cross-validation), as `train --phase1` does."),
    train_inspection: bool = typer.Option(False, "--train-inspection", help="Add the CQC inspection report "
                                          "paragraphs to every training fold, as `train --inspection` does."),
    train_bundles: list[Path] = typer.Option([], "--train-bundles", help="Add the labelled notes of this folder "
                                             "of assessment bundles to every training fold (cross-validation and "
                                             "transfer), as `train --bundles` does (repeatable)."),
    transfer: str = typer.Option(None, "--transfer", help="Transfer test: 'trusts' (leave one phase-1 trust out; "
                                 "needs --phase1) or 'inspection' (hold out the CQC inspection report paragraphs)."),
    trend_cases: Path = typer.Option(None, "--trend-cases", help="Judge `summarise`'s alerts on analyst-written "
                                     "scenarios (a JSON case file), streams drawn from the --phase1 comments."),
    runs: int = typer.Option(20, "--runs", min=1, help="Draws of each trend scenario (with --trend-cases)."),
    latest_only: bool = typer.Option(False, "--latest-only", help="With --trend-cases: run the alerts once on "
                                     "the whole year, so only its latest month is tested (for case files whose "
                                     "calls are about the latest month); default: replay every month."),
    models: Path = typer.Option(None, "--models", help="Folder with trained heads (default: the project's models/)."),
    C: float = typer.Option(DEFAULT_C, "--C", min=1e-4, help="Inverse regularisation of the heads fitted in each "
                            "fold (as `train --C`)."),
    topics: bool = typer.Option(False, "--topics", help="Measure topics of multi-topic text built from the "
                                "--phase1 file's comments, leaving one trust out (and on the inspection paragraphs)."),
    long_stories: Path = typer.Option(None, "--long-stories", help="Score topics on a JSONL file of long texts "
                                      "with labelled topics (and, with --phase1, TF-IDF + SVM baselines)."),
    assessments: Path = typer.Option(None, "--assessments", help="Rate each assessment bundle (*.json) in this "
                                     "folder with `assess` (suggestions only, and with the bundle's labels as "
                                     "confirmed decisions) and report agreement with its hand ratings and a "
                                     "majority-band baseline."),
) -> None:
    """Measure the heads against baselines: CV on the corpus (default), a fixed split, or a labelled file.

    Figures are computed on hand-written (or your) notes only; framework-derived sentences are
    training data and are never tested. No note text is printed.
    """
    if assessments is not None:
        _assessments(assessments, fmt, models)
        return
    if topics:
        _topics(phase1, fmt, seed)
        return
    if long_stories is not None:
        _long_stories(long_stories, phase1, models, fmt, seed)
        return
    if trend_cases is not None:
        _trend_cases(trend_cases, phase1, runs, seed, fmt, monitor=not latest_only)
        return
    from evidencenlp.evaluation.report import write_report
    from evidencenlp.evaluation.run import EvaluationOptions
    from evidencenlp.evaluation.run import evaluate as run_evaluation
    from evidencenlp.paths import models_dir

    try:
        options = EvaluationOptions(folds=folds, seed=seed, data=data, phase1=phase1,
                                    phase1_min_confidence=phase1_confidence.value, mapping=mapping,
                                    train_on=train_on, test_on=test_on, models=_parse_only(only),
                                    framework_examples=not no_framework, jobs=jobs or None, model_dir=models, C=C,
                                    transfer=transfer, train_phase1=train_phase1,
                                    train_inspection=train_inspection, train_bundles=tuple(train_bundles))
    except DataError as exc:  # a combination of options that does not go together
        raise fail(str(exc)) from None
    if save_cv and options.mode not in ("cv", "transfer"):
        raise fail("--save-cv saves cross-validated or transfer figures: use it without --data/--phase1/--train-on")
    if options.mode == "transfer":
        from evidencenlp.evaluation.run import transfer as run_transfer

        result = run_transfer(options, embed=lambda texts, what, name: _embed(texts, what, name), log=_log)
        if fmt is EvalFormat.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        else:
            console.print(_transfer_table(result))
        if save_cv:
            from evidencenlp.evaluation.run import save_transfer

            err_console.print(f"wrote {save_transfer(result, models or models_dir(), log=_log)}")
        return
    ev = run_evaluation(options, embed=lambda texts, what, name: _embed(texts, what, name), log=_log)
    phase1_summary = ev.data.get("phase1")
    target = models or models_dir()

    if fmt is EvalFormat.json:
        print(json.dumps(ev.to_dict(), ensure_ascii=False, indent=1))
    else:
        console.print(ev.description, highlight=False)
        for note in ev.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
        console.print(_summary_table(ev))
        console.print(_selective_table(ev))
        for table in _breakdown_tables(ev):
            console.print(table)
        if phase1_summary is not None:
            console.print(f"phase-1 rows used {phase1_summary['rows_used']:,} of {phase1_summary['total_rows']:,}; "
                          f"excluded: {phase1_summary['excluded_no_mapping_total']:,} no defensible mapping, "
                          f"{phase1_summary['excluded_low_confidence_total']:,} low-confidence mapping; "
                          f"criticality missing/dirty on {phase1_summary['criticality_missing']} used rows",
                          highlight=False)
    if report is not None:
        import json as _json

        from evidencenlp.classifier import META_FILE

        try:
            review = _json.loads(((models or models_dir()) / META_FILE).read_text(encoding="utf-8"))["metrics"].get(
                "review")
        except (OSError, ValueError, KeyError):
            review = None
        write_report(ev, report, review=review)
        err_console.print(f"wrote report {report}")
    if save_cv:
        from evidencenlp.evaluation.run import save_cv as write_cv

        err_console.print(f"wrote {write_cv(ev, target, log=_log)}")


def _topics(phase1: Path | None, fmt: EvalFormat, seed: int) -> None:
    """``--topics``: :func:`evidencenlp.evaluation.topics.run_topics` on the phase-1 file, printed."""
    from evidencenlp.errors import EvidenceNLPError
    from evidencenlp.evaluation.topics import run_topics

    if phase1 is None:
        raise fail("--topics needs --phase1 PATH (the pxtextmining phase-1 file)")
    try:
        result = run_topics(phase1, embed=lambda texts, what, name: _embed(texts, what, name), seed=seed, log=_log)
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    if fmt is EvalFormat.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    else:
        console.print("\n".join(result.markdown()), highlight=False, markup=False)


def _long_stories(path: Path, phase1: Path | None, models: Path | None, fmt: EvalFormat, seed: int) -> None:
    """``--long-stories``: :func:`evidencenlp.evaluation.topics.run_long_stories`, printed (no note text)."""
    from rich.markup import escape

    from evidencenlp.errors import EvidenceNLPError
    from evidencenlp.evaluation.topics import long_stories_markdown, run_long_stories

    try:
        result = run_long_stories(path, phase1=phase1, models=models, seed=seed, log=_log)
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    for problem in result["problems"]:
        err_console.print(f"[yellow]skipped or partly used:[/] {escape(problem)}", highlight=False)
    if fmt is EvalFormat.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    elif result["texts"]:
        console.print("\n".join(long_stories_markdown(result)), highlight=False, markup=False, soft_wrap=True)
    else:
        raise fail(f"{path}: no text could be scored")


def _assessments(folder: Path, fmt: EvalFormat, models: Path | None) -> None:
    """``--assessments``: run :func:`evidencenlp.evaluation.assessments.evaluate_assessments` and print it."""
    from evidencenlp.errors import EvidenceNLPError
    from evidencenlp.evaluation.assessments import evaluate_assessments
    from evidencenlp.tagging import SuggesterSpec

    try:
        result = evaluate_assessments(folder, suggester=SuggesterSpec(models=models).load, on_bundle=lambda b: _log(f"rated {b}"))
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    for problem in result.problems:
        err_console.print(f"[yellow]skipped:[/] {problem}", highlight=False)
    if result.in_sample:
        err_console.print(f"[yellow]in-sample:[/] {result.in_sample}: these figures measure notes the model "
                          "learned from, not how it rates an unseen service", highlight=False)
    if fmt is EvalFormat.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    for table in _assessment_tables(result.to_dict()):
        console.print(table)


def _trend_cases(cases: Path, phase1: Path | None, runs: int, seed: int, fmt: EvalFormat,
                 monitor: bool = True) -> None:
    """``--trend-cases``: run :func:`evidencenlp.evaluation.trend_cases.run` and print it (counts only)."""
    from evidencenlp.errors import EvidenceNLPError
    from evidencenlp.evaluation.trend_cases import run

    if phase1 is None:
        raise fail("--trend-cases needs --phase1 PATH (the pxtextmining phase-1 text_data.csv the streams are drawn from)")
    try:
        report = run(cases, phase1, runs=runs, seed=seed, monitor=monitor)
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    data = report.to_dict()
    if fmt is EvalFormat.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"Trend alerts on analyst-called scenarios ({len(data['location_months'])} scenarios, "
                        f"{runs} draws each, {data['backend']} backend)")
    for col in ("called alerts", "found (mean share of draws)", "false alerts per 100 tested location-months",
                "false alerts per draw, quiet scenarios", "writers' rules: found", "false per 100"):
        table.add_column(col, justify="right")
    lenient = data["lenient"]
    table.add_row(str(len(data["called"])), f"{data['detection_rate']:.2f}",
                  f"{data['false_alerts_per_100_location_months']:.2f}",
                  f"{data['false_alerts_per_run_in_quiet_scenarios']:.2f}", f"{lenient['detection_rate']:.2f}",
                  f"{lenient['false_alerts_per_100_location_months']:.2f}")
    console.print(table)
    detail = Table(title="Called alerts")
    for col in ("scenario", "location", "key question", "month", "found"):
        detail.add_column(col)
    for c in data["called"]:
        detail.add_row(c["scenario"], c["location"], c["key_question"] or "(site)", c["month"], f"{c['found']:.2f}")
    console.print(detail)
    if data["drawn_by_tool"]:
        err_console.print("negatives drawn by the tool's tags (too few coded in the pool): "
                          + ", ".join(data["drawn_by_tool"]), highlight=False)


def _assessment_tables(data: dict[str, Any]) -> list[Table]:
    """Agreement per mode, per key question, and the confusion tables (labels and counts only)."""
    summary = data["summary"]
    if not summary:
        return []
    head = Table(title=f"Assessment bundles: agreement with the hand ratings ({data['n_bundles']} bundles)")
    for col in ("mode", "key questions exact", "within one", "overall exact", "within one",
                "inadequate overall rated better than RI", "key questions with notes unrated"):
        head.add_column(col, justify="right" if col != "mode" else "left")
    for mode, s in summary.items():
        kq, ov = s["key_questions"], s["overall"]
        head.add_row(mode, f"{kq['exact']:.3f} ({kq['exact_count']}/{kq['n']})",
                     f"{kq['within_one']:.3f} ({kq['within_one_count']}/{kq['n']})",
                     f"{ov['exact']:.3f} ({ov['exact_count']}/{ov['n']})",
                     f"{ov['within_one']:.3f} ({ov['within_one_count']}/{ov['n']})",
                     str(len(s["inadequate_rated_better_than_requires_improvement"])),
                     str(s["key_questions_with_notes_unrated"]))
    per = Table(title="Exact agreement per key question")
    per.add_column("mode")
    first = next(iter(summary.values()))
    for kq in first["per_key_question"]:
        per.add_column(kq, justify="right")
    for mode, s in summary.items():
        per.add_row(mode, *[f"{v['exact']:.2f}" for v in s["per_key_question"].values()])
    tables = [head, per]
    for mode, s in summary.items():
        for what in ("key_questions", "overall"):
            matrix = s[f"confusion_{what}"]
            t = Table(title=f"Confusion ({mode}, {what.replace('_', ' ')}): hand rating (rows) by tool (columns)")
            t.add_column("hand \\ tool")
            for label in matrix:
                t.add_column(label, justify="right")
            for label, row in matrix.items():
                if any(row.values()):
                    t.add_row(label, *[str(v) if v else "." for v in row.values()])
            tables.append(t)
    return tables
