"""``evidencenlp assess INPUT`` / ``evidencenlp assess --db review.sqlite`` — indicative service ratings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evidencenlp.cli._app import app, backend_option, console, err_console, fail
from evidencenlp.errors import EvidenceNLPError

if TYPE_CHECKING:

    from evidencenlp.assess import Assessment, AssessOptions
    from evidencenlp.assess.model import KeyQuestionAssessment, Sensitivity


@app.command()
def assess(
    input_path: Path = typer.Argument(None, metavar="[INPUT]",
                                      help="Notes table (.csv, .tsv, .xlsx, .jsonl, .parquet): raw, or output of "
                                           "`evidencenlp tag` (its columns are reused)."),
    db: Path = typer.Option(None, "--db", help="Assess a review database instead (read-only): inspectors' "
                                               "confirmed and corrected decisions take precedence."),
    assessment: str = typer.Option(None, "--assessment", help="With --db: the assessment to rate (default: all, "
                                                              "one location each)."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the note text."),
    location_column: str = typer.Option(None, "--location-column",
                                        help="One assessment per value of this column (absent: one assessment)."),
    service_column: str = typer.Option(None, "--service-column", help="Column naming the service of each note."),
    id_column: str = typer.Option(None, "--id-column", help="Column of note ids (default: 'id' when present, "
                                                            "else the row number)."),
    prefix: str = typer.Option("", "--prefix", help="Prefix of the tagged columns (as given to `tag --prefix`)."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    output: Path = typer.Option(None, "-o", "--output", help="Write the JSON result to this file."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report to this file."),
    min_notes: int = typer.Option(1, "--min-notes", min=1,
                                  help="A statement with fewer notes is insufficient evidence (not scored). "
                                       "Default 1: one note is evidence."),
    min_weight: float = typer.Option(None, "--min-weight", min=0.0,
                                     help="The evidence weight at which a statement counts in full in its key "
                                          "question (below it, in proportion); default from the framework data "
                                          "(1 = one confirmed note; a suggestion weighs its confidence)."),
    regulation_breach: bool = typer.Option(False, "--regulation-breach",
                                           help="The inspector found a breach of regulations: cap the overall "
                                                "rating as the framework's rules say."),
    no_encoder: bool = typer.Option(False, "--no-encoder",
                                    help="'What would make this outstanding': take the first outstanding "
                                         "descriptor instead of the most similar (no encoder is loaded)."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of CSV/TSV/JSONL input."),
    frameworks: Path = typer.Option(None, "--frameworks", help="Folder of framework files (default: the packaged "
                                                                "ones)."),
    backend: str = backend_option(),
) -> None:
    """Indicative key question and overall ratings per location, from the notes and the published rules.

    Statements are scored 1-4 from the confidence-weighted bands of their notes (one confirmed note is
    evidence); key questions get a percentage from all their statements with evidence (thin ones count
    in proportion), the rating from the framework's thresholds and limiters (a serious inadequate
    finding limits like a statement scored 1), and a sensitivity line; the overall rating follows the
    framework's principles and is marked provisional when a key question is unrated or rated from thin
    evidence. Indicative, for the inspector's judgement.
    """
    from evidencenlp.assess import AssessOptions
    from evidencenlp.assess.report import as_json, write_json, write_report

    if output_format not in ("table", "json"):
        raise fail(f"--format must be table or json; got {output_format!r}")
    if (input_path is None) == (db is None):
        raise fail("give a notes file (INPUT) or --db review.sqlite, not both" if input_path is not None
                   else "give a notes file (INPUT) or --db review.sqlite")
    if assessment is not None and db is None:
        raise fail("--assessment needs --db")
    for path, suffixes in ((output, (".json",)), (report, (".html", ".htm"))):
        if path is None:
            continue
        if path.suffix.lower() not in suffixes:
            raise fail(f"{path}: expected a {suffixes[0]} file")
        if not path.parent.is_dir():
            raise fail(f"{path}: folder {path.parent} does not exist")
    options = AssessOptions(min_notes=min_notes, min_weight=min_weight, regulation_breach=regulation_breach,
                            use_encoder=not no_encoder)
    try:
        result = _run(input_path, db, assessment, text_column, location_column, service_column, id_column, prefix,
                      encoding, options, frameworks, backend)
        if output is not None:
            write_json(result, output)
            err_console.print(f"wrote {output}")
        if report is not None:
            write_report(result, report)
            err_console.print(f"wrote {report}")
    except EvidenceNLPError as exc:  # one clear line, never a traceback (also under typer's test runner)
        raise fail(str(exc)) from None
    if output_format == "json":
        typer.echo(as_json(result.to_dict()))
        return
    _print_tables(result)


def _run(input_path: Path | None, db: Path | None, assessment: str | None, text_column: str,
         location_column: str | None, service_column: str | None, id_column: str | None, prefix: str,
         encoding: str, options: AssessOptions, frameworks: Path | None, backend: str = "torch") -> Assessment:
    from evidencenlp.assess import assess_file, assess_store
    from evidencenlp.encoder import load_embedder
    from evidencenlp.tabular import check_readable, count_rows, table_format
    from evidencenlp.tagging import SuggesterSpec  # the suggester loads only when the table has raw notes

    embedder = load_embedder(backend)  # the one embedder of the run (its model loads at first use)
    if db is not None:
        return assess_store(db, assessment, options, frameworks, embedder=embedder)
    assert input_path is not None
    table_format(input_path)
    check_readable(input_path)
    with Progress(TextColumn("[bold]reading notes"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                  TimeElapsedColumn(), console=err_console, transient=True) as progress:
        task = progress.add_task("assess", total=count_rows(input_path, encoding))
        return assess_file(input_path, text_column=text_column, location_column=location_column,
                           service_column=service_column, id_column=id_column, prefix=prefix, encoding=encoding,
                           options=options, frameworks_dir=frameworks, on_progress=lambda n: progress.advance(task, n),
                           suggester=SuggesterSpec(frameworks=frameworks, embedder=embedder).load, embedder=embedder)


def _short(sensitivity: Sensitivity) -> str:
    def one(notes: int | None) -> str:
        return "–" if notes is None else str(notes)
    return f"{one(sensitivity.up.notes)} / {one(sensitivity.down.notes)}"


def _score(kq: KeyQuestionAssessment) -> str:
    """The percentage; labelled when it is the expected-score computation's and the posterior rated otherwise."""
    if kq.score is None:
        return ""
    return f"{kq.score}%" + (" (expected-score)" if kq.expected_score is not None else "")


def _limited(kq: KeyQuestionAssessment, titles: dict[str, str]) -> str:
    """The limiter: its range, or (the posterior decided) the share of the draws a limiter lowered."""
    lim = kq.limited_by
    if not lim:
        return ""
    if "share_of_draws" in lim:
        text = f"limiter in {lim['share_of_draws']:.2f} of draws"
        return text + (f" ({titles.get(lim['from'], lim['from'])} range)" if "from" in lim else "")
    text = f"limiter ({titles.get(lim['from'], '')} range)"
    return text + (" — serious finding" if lim.get("serious_findings") else "")


def _print_tables(result: Assessment) -> None:
    titles = result.titles
    for loc in result.locations:
        table = Table(title=f"{loc.location} — indicative, for the inspector's judgement", title_justify="left")
        for col in ("key question", "rating", "score", "limited by", "statements with evidence / none",
                    "notes to move up / down"):
            table.add_column(col)
        for kq in loc.key_questions.values():
            rating = (titles.get(kq.rating, kq.rating) + (" (thin evidence)" if kq.thin else "") if kq.rating
                      else f"no rating: {kq.no_rating_reason}")
            if kq.rating and kq.posterior is not None:  # the most probable rating over the posterior draws
                rating += f" p {kq.posterior.get(kq.rating, 0.0):.2f}"
            table.add_row(kq.title, rating, _score(kq), _limited(kq, titles),
                          f"{len(kq.statements)} / {len(kq.statements_without_evidence)}",
                          _short(kq.sensitivity) if kq.sensitivity else
                          ("not shown (posterior)" if kq.sensitivity_omitted else ""))
        overall = loc.overall
        rating = titles.get(overall.rating, overall.rating) if overall.rating else "no rating"
        if overall.provisional and overall.rating:
            rating += " (provisional)"
        table.caption = (f"overall: {rating} — "
                         + "; ".join(overall.rules_applied)
                         + f" | {loc.n_notes} notes, {loc.n_confirmed} confirmed")
        table.caption_justify = "left"
        console.print(table)
