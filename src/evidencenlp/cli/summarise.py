"""``evidencenlp summarise INPUT`` — counts, negative shares and change alerts per location and period."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from evidencenlp.cli._app import app, backend_option, console, err_console, fail
from evidencenlp.cli._engine import (
    Engine,
    check_engine_options,
    dask_tagger,
    engine_option,
    scheduler_option,
    workers_option,
)

if TYPE_CHECKING:
    from evidencenlp.trends import Summary

_OUTPUTS = (".xlsx", ".csv", ".json")


def _pct(v: float | None) -> str:
    return "–" if v is None or v != v else f"{100 * v:.0f}%"


def print_table(summary: Summary) -> None:
    """The analyst's summary on stdout: counts, alerts, recent negative shares, most discussed statements.

    Shows labels and numbers only, never note text.
    """
    from evidencenlp.taxonomy import default_taxonomy
    from evidencenlp.trends import METHOD, UNDATED

    taxonomy = default_taxonomy()
    dated = [p for p in summary.periods if p != UNDATED]
    span = f"{dated[0]} to {dated[-1]}" if dated else "no dated comments"
    console.print(f"[bold]{summary.source}[/]: {summary.rows:,} rows, {summary.tagged:,} tagged, {summary.blank:,} blank; "
                  f"{len(summary.locations)} locations; {summary.config.period}ly periods {span}"
                  + (f"; {summary.undated:,} undated (kept in period '{UNDATED}')" if summary.undated else ""),
                  highlight=False)
    alerts = Table(title=f"Alerts (q ≤ {summary.config.fdr:g}; {summary.tests:,} tests)", title_justify="left")
    for col in ("location", "period", "key question", "statement", "direction"):
        alerts.add_column(col)
    for col in ("neg/n", "expected", "odds ratio", "q"):
        alerts.add_column(col, justify="right")
    for a in summary.alerts:
        alerts.add_row(a.location, a.period, a.key_question, a.statement or "", a.direction, f"{a.observed}/{a.n}",
                       f"{a.expected:.1f}", f"{a.odds_ratio:.2f}", f"{a.q_value:.2g}")
    if summary.alerts:
        console.print(alerts)
    else:
        console.print(f"No alerts (q ≤ {summary.config.fdr:g}; {summary.tests:,} tests).")
    g = summary.groups
    recent = dated[-4:]
    shares = Table(title="Negative comments by location (negative/n, share; † = small cell)", title_justify="left")
    shares.add_column("location")
    for p in recent:
        shares.add_column(p, justify="right")
    if summary.undated:
        shares.add_column(UNDATED, justify="right")
    allrows = g[g["dimension"] == "all"].set_index(["location", "period"])
    for loc in summary.locations:
        cells = []
        for p in recent + ([UNDATED] if summary.undated else []):
            if (loc, p) in allrows.index:
                r = allrows.loc[(loc, p)]
                cells.append(f"{int(r['negative'])}/{int(r['n'])} {_pct(float(r['negative_share']))}"
                             + ("†" if bool(r["small"]) else ""))
            else:
                cells.append("")
        shares.add_row(loc, *cells)
    console.print(shares)
    top = Table(title="Most discussed statements", title_justify="left")
    for col in ("location", "#", "statement"):
        top.add_column(col)
    top.add_column("n", justify="right")
    top.add_column("negative", justify="right")
    for r in summary.top_statements[summary.top_statements["rank"] <= 3].itertuples(index=False):
        top.add_row(r.location, str(r.rank), taxonomy.title(r.statement), str(r.n), _pct(r.negative_share))
    console.print(top)
    console.print(f"[dim]Method: {METHOD}.[/]", highlight=False)


@app.command()
def summarise(
    input_path: Path = typer.Argument(..., metavar="INPUT",
                                      help="Raw or tagged table (.csv, .tsv, .xlsx, .jsonl, .parquet)."),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the comment text."),
    location_column: str = typer.Option("location", "--location-column",
                                        help="Column naming the location (\"\" = one location for all rows)."),
    date_column: str = typer.Option("date", "--date-column", help="Column holding the date (parsed leniently)."),
    period: str = typer.Option("month", "--period", help="week | month | quarter."),
    fmt: str = typer.Option("table", "--format", help="table | json (json: the alerts/groups contract, no text)."),
    output: Path = typer.Option(None, "-o", "--output", help="Write the tables: .xlsx, .csv or .json."),
    report: Path = typer.Option(None, "--report", help="Write a self-contained HTML report."),
    min_cell: int = typer.Option(10, "--min-cell", min=1, help="Cells with fewer comments are marked small."),
    baseline: int = typer.Option(0, "--baseline", min=0,
                                 help="Earlier periods in the baseline (0 = all earlier periods)."),
    recent: int = typer.Option(3, "--recent", min=0, help="Seek alerts in the latest N periods (0 = every period)."),
    fdr: float = typer.Option(0.05, "--fdr", min=0.0001, max=0.5, help="False discovery rate for alerts."),
    examples: int = typer.Option(3, "--examples", min=0, help="Example comments per cell (report/spreadsheet)."),
    prefix: str = typer.Option("", "--prefix", help="Prefix of the suggestion columns in a tagged file."),
    encoding: str = typer.Option("utf-8", "--encoding", help="Text encoding of CSV/TSV/JSONL input."),
    models: Path = typer.Option(None, help="Folder with trained heads (raw input only)."),
    backend: str = backend_option(),
    engine: Engine = engine_option(),
    scheduler: str = scheduler_option(),
    workers: int = workers_option(),
) -> None:
    """Summarise feedback per location and period, and flag changes in negative comments.

    A raw file (no key_question/statement/band columns) is tagged first. Negative = the worse half of
    the framework's bands. Alerts: per location x key question (and statement where counts allow),
    a one-sided Fisher exact test against the location's earlier periods, intersected with a test
    against the other locations' change over the same periods; Benjamini-Hochberg q-values.
    """
    from evidencenlp.trends import PERIODS, UNDATED, SummaryConfig, summarise_file

    if period not in PERIODS:
        raise fail(f"--period must be one of {', '.join(PERIODS)}; got {period!r}")
    if fmt not in ("table", "json"):
        raise fail(f"--format must be table or json; got {fmt!r}")
    for path in (output, report):
        if path is not None and not path.parent.is_dir():
            raise fail(f"{path}: the folder {path.parent} does not exist")
    if output is not None and output.suffix.lower() not in _OUTPUTS:
        raise fail(f"{output}: unsupported summary output {output.suffix or '(none)'!r}; use .xlsx, .csv or .json")
    if report is not None and report.suffix.lower() not in (".html", ".htm"):
        raise fail(f"{report}: the report is an HTML page; name it .html")
    check_engine_options(engine, scheduler, workers)
    tagger = None  # --engine dask: a raw file is tagged on dask workers (redacted)
    if engine is Engine.dask:
        tagger = dask_tagger(models=models, redact=True, evidence_category=None, backend=backend,
                             scheduler=scheduler, workers=workers,
                             on_event=lambda message: err_console.print(message, highlight=False))
    config = SummaryConfig(period=period, min_cell=min_cell, baseline_periods=baseline or None,
                           recent_periods=recent or None, fdr=fdr, examples=examples)

    def factory():  # the encoder is loaded only for a raw file
        from evidencenlp.suggest import Suggester

        return Suggester.load(models=models, backend=backend)

    def tagging() -> None:
        err_console.print(f"{input_path}: no suggestion columns; tagging first (redacted) …", highlight=False)

    summary = summarise_file(input_path, config, text_column=text_column, location_column=location_column or None,
                             date_column=date_column, prefix=prefix, encoding=encoding, suggester_factory=factory,
                             on_tagging=tagging, tagger=tagger)
    if summary.undated:
        shown = ", ".join(f"{v!r} (data row {r})" for r, v in summary.undated_values)
        err_console.print(f"{summary.undated:,} comments have a missing or unparseable date in column "
                          f"{date_column!r} (e.g. {shown}); counted in period '{UNDATED}', not tested",
                          highlight=False, soft_wrap=True)
    written = []
    if output is not None:
        from evidencenlp.trends_report import write_tables

        written += write_tables(summary, output)
    if report is not None:
        from evidencenlp.trends_report import write_report

        written.append(write_report(summary, report))
    if fmt == "json":
        print(json.dumps(summary.to_dict(examples=False), ensure_ascii=False))
    else:
        print_table(summary)
    for path in written:
        err_console.print(f"wrote {path}", highlight=False)
