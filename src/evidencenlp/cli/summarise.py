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
    engine_option,
    scheduler_option,
    workers_option,
)

if TYPE_CHECKING:
    from evidencenlp.trends import Summary

_OUTPUTS = (".xlsx", ".csv", ".json")


def _pct(v: float | None) -> str:
    return "–" if v is None or v != v else f"{100 * v:.0f}%"


#: columns the period table needs besides the periods (location name, borders)
_LOCATION_WIDTH = 18
#: width of one period column ("123/456 45%†" plus padding)
_PERIOD_WIDTH = 15


def shown_periods(periods: list[str], width: int) -> list[str]:
    """The latest periods that fit a terminal ``width`` wide (all of them when they fit; at least one)."""
    fit = max(1, (width - _LOCATION_WIDTH) // _PERIOD_WIDTH)
    return periods[-fit:]


def print_table(summary: Summary) -> None:
    """The analyst's summary on stdout: counts, alerts (kind and counts), the closest non-alerts, negative
    shares per period (every period that fits; what was left out is said), most discussed statements.

    Shows labels and numbers only, never note text.
    """
    from evidencenlp.taxonomy import default_taxonomy
    from evidencenlp.trends import METHOD, UNDATED

    taxonomy = default_taxonomy()
    dated = [p for p in summary.periods if p != UNDATED]
    span = f"{dated[0]} to {dated[-1]}" if dated else "no dated comments"
    abstained = "".join(f", {n:,} abstained ({reason.replace('_', ' ')})" for reason, n in sorted(summary.abstained.items()))
    console.print(f"[bold]{summary.source}[/]: {summary.rows:,} rows, {summary.tagged:,} tagged{abstained}, "
                  f"{summary.blank:,} blank; {len(summary.locations)} locations; {summary.config.period}ly periods "
                  f"{span}" + (f"; {summary.undated:,} undated (kept in period '{UNDATED}')" if summary.undated else ""),
                  highlight=False)

    def topic(t) -> str:
        if t.statement:
            return taxonomy.title(t.statement)
        return taxonomy.title(t.key_question) if t.key_question else "all topics"

    def tests_table(title: str, tests: list) -> Table:
        table = Table(title=title, title_justify="left")
        for col in ("location", "periods", "kind", "topic"):
            table.add_column(col)
        for col in ("negative", "expected", "p", "q"):
            table.add_column(col, justify="right")
        for t in tests:
            window = t.window[0] if len(t.window) == 1 else f"{t.window[0]}–{t.window[-1]}"
            table.add_row(t.location, window, t.kind, topic(t), str(t.observed), f"{t.expected:.1f}",
                          f"{t.p_value:.2g}", f"{t.q_value:.2g}")
        return table

    family = f"q ≤ {summary.config.fdr:g}; {summary.family_size:,} tests"
    if summary.no_test_reason:
        console.print(f"No test ran: {summary.no_test_reason}.", highlight=False)
    elif summary.alerts:
        console.print(tests_table(f"Alerts ({family})", summary.alerts))
    else:
        console.print(f"No alerts ({family}).", highlight=False)
    near = summary.near_misses(3)
    if near:
        console.print(tests_table("Closest tests that did not alert", near))
    g = summary.groups
    width = console.width or 100
    shown = shown_periods(dated, width - (_PERIOD_WIDTH if summary.undated else 0))
    shares = Table(title="Negative comments by location (negative/n, share; † = small cell)", title_justify="left")
    shares.add_column("location")
    for p in shown:
        shares.add_column(p, justify="right")
    if summary.undated:
        shares.add_column(UNDATED, justify="right")
    allrows = g[g["dimension"] == "all"].set_index(["location", "period"])
    for loc in summary.locations:
        cells = []
        for p in shown + ([UNDATED] if summary.undated else []):
            if (loc, p) in allrows.index:
                r = allrows.loc[(loc, p)]
                cells.append(f"{int(r['negative'])}/{int(r['n'])} {_pct(float(r['negative_share']))}"
                             + ("†" if bool(r["small"]) else ""))
            else:
                cells.append("")
        shares.add_row(loc, *cells)
    console.print(shares)
    if len(shown) < len(dated):
        console.print(f"Showing the latest {len(shown)} of {len(dated)} {summary.config.period}s ({shown[0]} to "
                      f"{shown[-1]}; {dated[0]} to {dated[len(dated) - len(shown) - 1]} left out to fit a terminal "
                      f"{width} columns wide). Every period: widen the terminal, or use --format json, "
                      "-o summary.xlsx or --report summary.html.", highlight=False, soft_wrap=True)
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
    baseline: int = typer.Option(12, "--baseline", min=0,
                                 help="Earlier periods in each test's baseline (0 = all earlier periods)."),
    recent: int = typer.Option(1, "--recent", min=0, help="Seek alerts in the latest N periods (0 = every period; each test also sums the latest two)."),
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
    """Summarise feedback per location and period, and alert on rises in negative comments.

    A raw file (no key_question/statement/band columns) is tagged first. Negative = the worse half of
    the framework's bands. Alerts: one family per run, Benjamini-Hochberg q-values: each location's
    overall negative share, and per key question its negative comments against the location's own
    past (volume-adjusted) and its negative share, over the latest 1 and 2 periods; statements of an
    alerting key question next. Every test's counts, p and q are in --format json.
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
    config = SummaryConfig(period=period, min_cell=min_cell, baseline_periods=baseline or None,
                           recent_periods=recent or None, fdr=fdr, examples=examples)

    from evidencenlp.tagging import SuggesterSpec

    spec = SuggesterSpec(models=models, backend=backend, redact=True)  # loaded only for a raw file

    def tagging() -> None:
        err_console.print(f"{input_path}: no suggestion columns; tagging first (redacted) …", highlight=False)

    summary = summarise_file(input_path, config, text_column=text_column, location_column=location_column or None,
                             date_column=date_column, prefix=prefix, encoding=encoding, suggester=spec,
                             engine=engine.value, scheduler=scheduler, workers=workers, on_tagging=tagging,
                             on_event=lambda message: err_console.print(message, highlight=False))
    if summary.undated:
        shown = ", ".join(f"{v!r} (data row {r})" for r, v in summary.undated_values)
        err_console.print(f"{summary.undated:,} comments have a missing or unparseable date in column "
                          f"{date_column!r} (e.g. {shown}); counted in period '{UNDATED}', not tested",
                          highlight=False, soft_wrap=True)
    written = []
    if output is not None:
        from evidencenlp.trends.report import write_tables

        written += write_tables(summary, output)
    if report is not None:
        from evidencenlp.trends.report import write_report

        written.append(write_report(summary, report))
    if fmt == "json":
        print(json.dumps(summary.to_dict(examples=False), ensure_ascii=False))
    else:
        print_table(summary)
    for path in written:
        err_console.print(f"wrote {path}", highlight=False)
