"""``evidencenlp review`` (terminal review) and ``evidencenlp review-export`` (confirmed labels out)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evidencenlp.cli._app import app, console, err_console, fail
from evidencenlp.review.models import ImportSummary
from evidencenlp.review.store import ORDERS, ReviewStore, export_confirmed
from evidencenlp.tabular import count_rows


def import_with_progress(store: ReviewStore, input_path: Path, text_column: str, assessment: str | None,
                         models: Path | None, encoding: str = "utf-8", *, location: str | None = None,
                         service_type: str | None = None, start_date: str | None = None,
                         end_date: str | None = None) -> ImportSummary:
    """Import ``input_path`` into ``store`` with a progress bar; the suggester loads only if rows are new.

    ``location``, ``service_type``, ``start_date`` and ``end_date`` describe the assessment.
    """
    from evidencenlp.suggest import Suggester

    def load() -> Suggester:
        err_console.print("loading the suggester …")
        return Suggester.load(models=models)

    columns = [TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("import", total=count_rows(input_path, encoding))
        summary = store.import_notes(input_path, text_column, load, assessment, encoding=encoding,
                                     progress=lambda n: progress.advance(task, n), location=location,
                                     service_type=service_type, start_date=start_date, end_date=end_date)
    describe_import(summary)
    return summary


def describe_import(summary: ImportSummary) -> None:
    """One line on stderr about an import (counts and row numbers only, never note text)."""
    line = (f"{summary.source_file}: {summary.rows:,} rows; {summary.imported:,} new notes suggested "
            f"({summary.needs_review:,} need review), {summary.already:,} already imported, {summary.blank:,} blank")
    err_console.print(line, highlight=False)
    if summary.changed_rows:
        shown = ", ".join(map(str, summary.changed_rows[:10])) + (" …" if len(summary.changed_rows) > 10 else "")
        err_console.print(f"[yellow]warning:[/] {len(summary.changed_rows)} row(s) changed since they were imported "
                          f"(data rows {shown}); the earlier text is kept. Import the new version under another "
                          "--assessment to review it.", highlight=False)


@app.command()
def review(
    input_path: Path = typer.Argument(None, metavar="[INPUT]",
                                      help="Table of notes (.csv .tsv .xlsx .jsonl .parquet); imported if new."),
    db: Path = typer.Option(..., "--db", help="Review database file (created if missing), e.g. review.sqlite."),
    inspector: str = typer.Option(..., "--inspector", envvar="EVIDENCENLP_INSPECTOR",
                                  help="Your name, recorded with every decision."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the note text."),
    order: str = typer.Option("file", "--order", help="file: file order; uncertain: least certain first."),
    assessment: str = typer.Option(None, "--assessment",
                                   help="Assessment name (default: INPUT's file name without extension)."),
    location: str = typer.Option(None, "--location", help="Location inspected (stored with the assessment)."),
    service_type: str = typer.Option(None, "--service-type", help="Service type, e.g. care_home, gp_practice."),
    start_date: str = typer.Option(None, "--start-date", help="Assessment start date, YYYY-MM-DD."),
    end_date: str = typer.Option(None, "--end-date", help="Assessment end date, YYYY-MM-DD."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of CSV/TSV/JSONL input."),
    models: Path = typer.Option(None, "--models", help="Folder with trained heads (default: the project's models/)."),
) -> None:
    """Review suggestions in the terminal: confirm, correct or skip each note with single keys.

    Keys: a/Enter confirm · 1 2 3 alternative statement · b then 1-4 band · c then 1-6 evidence
    category · s skip · u undo · q quit. Every key that decides is saved at once; run the same
    command again to carry on (notes without a decision first). Export with `review-export`.
    """
    from evidencenlp.review.tui import ReviewSession, StreamKeys, terminal_keys

    if order not in ORDERS:
        raise fail(f"--order must be one of {', '.join(ORDERS)}; got {order!r}")
    with ReviewStore.open(db) as store:
        assessment_id = None
        if input_path is not None:
            summary = import_with_progress(store, input_path, text_column, assessment, models, encoding,
                                           location=location, service_type=service_type, start_date=start_date,
                                           end_date=end_date)
            assessment_id = summary.assessment_id
        elif assessment:
            assessment_id = store.assessment(assessment).id
        keys = terminal_keys() if sys.stdin.isatty() else StreamKeys(sys.stdin)
        ReviewSession(store, inspector, keys, console=console, assessment_id=assessment_id, order=order).run()


@app.command("review-export")
def review_export(
    db: Path = typer.Option(..., "--db", help="Review database file."),
    output: Path = typer.Option(..., "-o", "--output", help="confirmed.csv or confirmed.jsonl."),
    assessment: str = typer.Option(None, "--assessment", help="Only this assessment (default: all)."),
) -> None:
    """Write the confirmed labels (accepted or corrected) in the training corpus's columns.

    Columns: note_id, text (redacted), key_question, statement, evidence_category, band,
    principles, service. Feed them back with `evidencenlp train --include-decisions DB`, or
    `--data confirmed.csv`.
    """
    n = export_confirmed(db, output, assessment)
    if n == 0:
        err_console.print(f"[yellow]warning:[/] {db}: no confirmed decisions yet; {output} has no rows")
    else:
        err_console.print(f"wrote {n:,} confirmed labels to {output}")
