"""``evidencenlp review`` (terminal review) and ``evidencenlp review-export`` (confirmed labels out)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evidencenlp.cli._app import app, backend_option, console, err_console, fail
from evidencenlp.defaults import ORDERS, SERVICES
from evidencenlp.errors import EvidenceNLPError

if TYPE_CHECKING:  # the review store imports pandas: loaded only when a command runs
    from evidencenlp.review.models import ImportSummary
    from evidencenlp.review.store import ReviewStore


def import_with_progress(store: ReviewStore, input_path: Path, text_column: str, assessment: str | None,
                         models: Path | None, encoding: str = "utf-8", *, location: str | None = None,
                         service_type: str | None = None, start_date: str | None = None,
                         end_date: str | None = None, id_column: str | None = None,
                         location_column: str | None = None, date_column: str | None = None,
                         backend: str = "torch") -> ImportSummary:
    """Import ``input_path`` into ``store`` with a progress bar; the suggester loads only if rows are new.

    ``location``, ``service_type``, ``start_date`` and ``end_date`` describe the assessment;
    ``id_column``, ``location_column`` and ``date_column`` name the file's columns kept per note.
    """
    from evidencenlp.suggest import Suggester
    from evidencenlp.tabular import count_rows
    from evidencenlp.tagging import SuggesterSpec

    spec = SuggesterSpec(models=models, backend=backend)

    def load() -> Suggester:
        err_console.print("loading the suggester …")
        return spec.load()

    columns = [TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("import", total=count_rows(input_path, encoding))
        summary = store.import_notes(input_path, text_column, load, assessment, encoding=encoding,
                                     progress=lambda n: progress.advance(task, n), location=location,
                                     service_type=service_type, start_date=start_date, end_date=end_date,
                                     id_column=id_column, location_column=location_column, date_column=date_column)
    describe_import(summary)
    return summary


def describe_import(summary: ImportSummary) -> None:
    """One line on stderr about an import (counts and row numbers only, never note text)."""
    line = (f"{summary.source_file}: {summary.rows:,} rows; {summary.imported:,} new notes suggested "
            f"({summary.needs_review:,} need review), {summary.already:,} already imported, {summary.blank:,} blank"
            + (f"; replaced {summary.replaced_characters:,} invalid character(s) (lone surrogates) by U+FFFD"
               if summary.replaced_characters else ""))
    err_console.print(line, highlight=False)
    kept = [f"{what} from column {column!r}" for what, column in (("id", summary.id_column),
            ("location", summary.location_column), ("date", summary.date_column)) if column]
    if kept:
        err_console.print(f"kept per note: {', '.join(kept)}", highlight=False)
    if summary.changed_rows:
        shown = ", ".join(map(str, summary.changed_rows[:10])) + (" …" if len(summary.changed_rows) > 10 else "")
        err_console.print(f"[yellow]warning:[/] {len(summary.changed_rows)} row(s) changed since they were imported "
                          f"(data rows {shown}); the earlier text is kept. Import the new version under another "
                          "--assessment to review it.", highlight=False)


VERIFY = "verify"


@app.command()
def review(
    input_path: Path = typer.Argument(None, metavar="[INPUT | verify]",
                                      help="Table of notes (.csv .tsv .xlsx .jsonl .parquet), imported if new; or "
                                           "the word verify to check that the decision log was not tampered with."),
    db: Path = typer.Option(..., "--db", metavar="FILE",
                            help="Review database file (created if missing), e.g. review.sqlite."),
    inspector: str = typer.Option(None, "--inspector", envvar="EVIDENCENLP_INSPECTOR", metavar="NAME",
                                  help="Your name, recorded with every decision (needed to review)."),
    text_column: str = typer.Option("text", "--text-column", metavar="COLUMN", help="Column holding the note text."),
    id_column: str = typer.Option(None, "--id-column", metavar="COLUMN",
                                  help="Column with each row's id, kept per note and exported (default: note_id "
                                       "or id, if the file has one)."),
    location_column: str = typer.Option(None, "--location-column", metavar="COLUMN",
                                        help="Column with each row's location, kept per note and exported "
                                             "(default: location or site, if present)."),
    date_column: str = typer.Option(None, "--date-column", metavar="COLUMN",
                                    help="Column with each row's date, kept per note as written and exported "
                                         "(default: date, note_date or visit_date, if present)."),
    order: str = typer.Option("file", "--order", metavar="file|uncertain",
                              help="Order of the notes: file (as in the file) or uncertain (least certain first)."),
    assessment: str = typer.Option(None, "--assessment", metavar="NAME",
                                   help="Assessment name (default: INPUT's file name without extension)."),
    location: str = typer.Option(None, "--location", metavar="PLACE",
                                 help="Location inspected (stored with the assessment)."),
    service_type: str = typer.Option(None, "--service-type", metavar="TYPE",
                                     help=f"Service type, one of: {', '.join(SERVICES)}."),
    start_date: str = typer.Option(None, "--start-date", metavar="YYYY-MM-DD", help="Assessment start date."),
    end_date: str = typer.Option(None, "--end-date", metavar="YYYY-MM-DD", help="Assessment end date."),
    encoding: str = typer.Option("utf-8", "--encoding", metavar="NAME",
                                 help="Text encoding of CSV/TSV/JSONL input, e.g. utf-8, cp1252."),
    models: Path = typer.Option(None, "--models", metavar="FOLDER",
                                help="Folder with trained heads (default: the project's models/)."),
    backend: str = backend_option(),
    expect: str = typer.Option(None, "--expect", metavar="HEAD|FILE",
                               help="With verify: a log head kept earlier (N:HASH, as printed by verify and "
                                    "review-export), or an export or text file holding one; fails unless the "
                                    "log still holds it."),
    restore_triggers: bool = typer.Option(False, "--restore-triggers", metavar="",
                                          help="With verify: after the report, put back missing or altered "
                                               "triggers (the file is refused for work until then)."),
) -> None:
    """Review suggestions in the terminal: confirm, correct or skip each note with single keys.

    Keys: a/Enter confirm · 1 2 3 alternative statement · b then 1-4 band · c then 1-6 evidence
    category · s skip · u undo · q quit. Every key that decides is saved at once; run the same
    command again to carry on (notes without a decision first). Export with `review-export`.

    `evidencenlp review verify --db FILE` checks the audit log (every note, suggestion and decision,
    and the triggers): it prints "intact (…)" and the log head N:HASH and exits 0, or names what was
    changed, removed or added around evidencenlp and exits 1. Keep the head (it is also in every
    export); `--expect HEAD` (or `--expect confirmed.csv`) then also catches a log cut short or
    recomputed since.
    """
    from evidencenlp.tui import ReviewSession, StreamKeys, terminal_keys

    if input_path is not None and str(input_path) == VERIFY and not input_path.suffix:
        verify(db, expect, restore_triggers)
        return
    if expect is not None or restore_triggers:
        raise fail("--expect and --restore-triggers go with `review verify`")
    if order not in ORDERS:
        raise fail(f"--order must be one of {', '.join(ORDERS)}; got {order!r}")
    if not (inspector or "").strip():
        raise fail("--inspector NAME is needed to review (or set EVIDENCENLP_INSPECTOR)")
    from evidencenlp.review.names import inspector_name

    try:
        inspector = inspector_name(inspector)
    except EvidenceNLPError as exc:
        raise fail(f"--inspector: {exc}") from None
    from evidencenlp.review.store import ReviewStore

    with ReviewStore.open(db) as store:
        assessment_id = None
        if input_path is not None:
            summary = import_with_progress(store, input_path, text_column, assessment, models, encoding,
                                           location=location, service_type=service_type, start_date=start_date,
                                           end_date=end_date, id_column=id_column, location_column=location_column,
                                           date_column=date_column, backend=backend)
            assessment_id = summary.assessment_id
        elif assessment:
            assessment_id = store.assessment(assessment).id
        keys = terminal_keys() if sys.stdin.isatty() else StreamKeys(sys.stdin)
        ReviewSession(store, inspector, keys, console=console, assessment_id=assessment_id, order=order).run()


def verify(db: Path, expect: str | None = None, restore_triggers: bool = False) -> None:
    """``review verify``: check the audit log of ``db`` (and that it holds ``expect``); exit 1 on any problem."""
    from evidencenlp.review.audit import read_expected
    from evidencenlp.review.guards import GuardsChanged
    from evidencenlp.review.store import ReviewStore

    restored: list[str] = []
    try:
        expected = read_expected(expect) if expect else None
        with ReviewStore.open(db, create=False, check_guards=False) as store:
            report = store.verify(expected)
            if restore_triggers:
                restored = store.restore_triggers()
    except GuardsChanged as exc:  # an older file whose triggers were tampered with: not upgraded
        err_console.print(f"[bold red]{exc}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    head = f"log head {report.head}"
    if report.ok:
        console.print(f"{db}: audit log {report.message()}", highlight=False, soft_wrap=True)
        console.print(f"{head} (keep it: `evidencenlp review verify --db {db} --expect {report.head}` shows "
                      "later whether anything stored until now was changed or removed)", highlight=False,
                      soft_wrap=True)
    else:
        err_console.print(f"[bold red]{db}: audit log {report.message()}[/]", highlight=False, soft_wrap=True)
        for problem in report.problems:
            err_console.print(f"  - {problem}", highlight=False, soft_wrap=True)
        err_console.print(f"{head}. Keep this file as it is and compare it with a backup.", highlight=False,
                          soft_wrap=True)
    if restored:
        err_console.print(f"restored {len(restored)} trigger(s); the file can be opened again", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command("review-export")
def review_export(
    db: Path = typer.Option(..., "--db", metavar="FILE", help="Review database file."),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="e.g. confirmed.csv; .tsv, .xlsx, .jsonl and .parquet too (by extension)."),
    assessment: str = typer.Option(None, "--assessment", metavar="NAME", help="Only this assessment (default: all)."),
) -> None:
    """Write the confirmed labels (accepted or corrected) in the training corpus's columns.

    Columns: note_id, text (redacted), key_question, statement, evidence_category, band,
    principles, service; then, to join each row back to its source file and decision: assessment,
    source_file, source_row, source_id, location, date, action, inspector, decided_at, rationale;
    and log_head, the audit log's head when exported (check the database against it later with
    `evidencenlp review verify --db DB --expect FILE`).
    Feed them back with `evidencenlp train --include-decisions DB`, or `--data confirmed.csv`.
    """
    from evidencenlp.review.store import ReviewStore

    try:
        with ReviewStore.open(db, create=False) as store:
            aid = store.assessment(assessment).id if assessment else None
            n, head = store.export_with_head(output, aid)
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
    if n == 0:
        err_console.print(f"[yellow]warning:[/] {db}: no confirmed decisions yet; {output} has no rows")
    else:
        err_console.print(f"wrote {n:,} confirmed labels to {output}")
    err_console.print(f"log head {head} (in the file's log_head column too; keep it to check the database later "
                      "with `review verify --expect`)", highlight=False, soft_wrap=True)
