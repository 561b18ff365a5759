"""``evidencenlp tag INPUT -o OUTPUT --text-column COL`` — batch-tag a table of notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from typer.core import TyperCommand

from evidencenlp.cli._app import app, backend_option, err_console
from evidencenlp.cli._engine import Engine, check_engine_options, engine_option, scheduler_option, workers_option
from evidencenlp.defaults import DEFAULT_CHUNK_ROWS


class _TagCommand(TyperCommand):
    """The ``tag`` command; its ``--help`` lists the evidence categories, read from the frameworks only then."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from evidencenlp.taxonomy import default_taxonomy

        for param in self.params:
            if param.name == "evidence_category":
                base = (getattr(param, "help", None) or "").split(" Allowed:")[0]
                param.help = f"{base} Allowed: {', '.join(default_taxonomy().categories)}."  # type: ignore[attr-defined]
        super().format_help(ctx, formatter)


@app.command(cls=_TagCommand)
def tag(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="Table of notes: .csv, .tsv, .xlsx, .jsonl or .parquet."),
    output: Path = typer.Option(..., "-o", "--output", help="Output table; its extension sets the format."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the note text."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run: no row repeated or lost."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing output / discard an interrupted run."),
    chunk_size: int = typer.Option(DEFAULT_CHUNK_ROWS, "--chunk-size", min=1, help="Rows per chunk (memory stays flat)."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Keep identifiers in the output's text column."),
    prefix: str = typer.Option("", "--prefix", help="Prefix for the added columns, e.g. suggested_."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of CSV/TSV/JSONL input."),
    evidence_category: str = typer.Option(None, "--evidence-category",
                                          help="Every note comes from this source (e.g. people_experience for "
                                               "public feedback): set it instead of predicting it."),
    models: Path = typer.Option(None, help="Folder with trained heads (default: the project's models/)."),
    delimiter: str = typer.Option(None, "--delimiter", help="Separator of CSV/TSV input, e.g. ';' "
                                                             "(default: ',' for .csv, tab for .tsv)."),
    sheet: str = typer.Option(None, "--sheet", help="Read only this sheet of an .xlsx input (default: every "
                                                     "sheet, with a 'sheet' column when there are several)."),
    topics: bool = typer.Option(True, "--topics/--no-topics",
                                help="Pool every topic of a note into the topics column (default). --no-topics "
                                     "keeps only the main suggestion there and skips cutting notes into clauses "
                                     "and encoding them: faster on long notes."),
    backend: str = backend_option(),
    engine: Engine = engine_option(),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
    jobs: int = typer.Option(None, "--jobs", min=1,
                             help="With --engine local: worker processes tagging chunks side by side (the output "
                                  "is the same). Default: every usable CPU core for --backend static, 1 for torch "
                                  "and onnx-int8, whose encoder already uses every core."),
) -> None:
    """Add suggestion columns to every row, keeping every input column and the row order.

    Added columns: key_question, key_question_score, statement, statement_score, statement_top3,
    evidence_category, evidence_category_score, band, band_score, principles, evidence_text,
    needs_review. Rows with empty text are kept with empty suggestion columns.

    Privacy: messages name the file, row and column, never note text. Spreadsheet outputs (.csv,
    .tsv, .xlsx) get a leading ' on text that would start a formula (=, +, -, @).

    --resume on an output that is already complete leaves it unchanged and exits 0.
    """
    from evidencenlp.spacy_import import use_in_this_process
    from evidencenlp.tabular import count_rows
    from evidencenlp.tagging import AlreadyComplete, SuggesterSpec, TagOptions, check_before_loading
    from evidencenlp.tagging import tag as tag_table

    check_engine_options(engine, scheduler, workers, jobs)
    use_in_this_process()  # the tag command's own process: spaCy without thinc's torch import
    options = TagOptions(text_column=text_column, chunk_rows=chunk_size, resume=resume, force=force, prefix=prefix,
                         encoding=encoding, delimiter=delimiter, sheet=sheet, scheduler=scheduler, workers=workers,
                         jobs=jobs)
    spec = SuggesterSpec(models=models, redact=not no_redact, evidence_category=evidence_category, backend=backend,
                         topics=topics)
    try:  # mistakes in the input are reported before the model loads (seconds)
        check_before_loading(input_path, output, options, engine.value)
    except AlreadyComplete as complete:
        err_console.print(str(complete), highlight=False, soft_wrap=True)
        return
    total = count_rows(input_path, encoding, delimiter)
    columns = [TextColumn("[bold]tagging"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("tag", total=total, rate="–")

        done = [0]

        def live(n: int) -> None:  # after each encoder batch (blank rows are not encoded)
            progress.advance(task, n)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f}" if speed else "–")

        def advance(n: int) -> None:  # after each saved chunk: the exact count of rows done
            done[0] += n
            progress.update(task, completed=done[0])

        summary = tag_table(input_path, output, options, spec, engine.value, on_rows=advance, on_progress=live,
                            on_event=lambda message: err_console.print(message, highlight=False))
        progress.update(task, completed=summary.rows)
    redacted = sum(summary.redactions.values())
    err_console.print(
        f"wrote {summary.output}: {summary.rows:,} rows"
        + (f" (resumed after row {summary.resumed_from_row:,})" if summary.resumed_from_row else "")
        + f"; this run tagged {summary.tagged:,}, {summary.blank:,} blank, {summary.needs_review:,} need review"
        + "".join(f", {n:,} {reason.replace('_', ' ')}" for reason, n in sorted(summary.abstained.items()))
        + ", "
        f"{redacted:,} identifiers redacted; {summary.rows_per_second:,.0f} rows/s"
        + (f"; read sheet(s) {', '.join(map(repr, summary.sheets))}" if summary.sheets else "")
        + (f"; removed {summary.removed_characters:,} control characters Excel cannot hold"
           if summary.removed_characters else "")
        + (f"; replaced {summary.replaced_characters:,} invalid character(s) (lone surrogates) by U+FFFD in "
           f"{summary.rows_repaired:,} row(s)" if summary.replaced_characters else ""),
        highlight=False,
    )
