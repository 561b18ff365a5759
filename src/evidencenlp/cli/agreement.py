"""``evidencenlp agreement A B`` — Cohen's kappa per task between two labelled tables."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from evidencenlp.cli._app import app, console

DEFAULT_SHOWN = 50


class AgreementFormat(str, Enum):
    table = "table"
    json = "json"


def _fmt(v: float) -> str:
    return "–" if v is None or math.isnan(v) else f"{v:.3f}"


@app.command()
def agreement(
    a: Path = typer.Argument(..., metavar="A", help="First labelled table (e.g. inspector 1, or an inspector)."),
    b: Path = typer.Argument(..., metavar="B", help="Second labelled table (e.g. inspector 2, or `tag` output)."),
    key: str = typer.Option(None, "--key", help="Column joining the rows (default: note_id when both have it; "
                            "otherwise row order, if both have the same number of rows)."),
    prefix_a: str = typer.Option("", "--prefix-a", help="Label columns of A are named PREFIX<task>."),
    prefix_b: str = typer.Option("", "--prefix-b", help="Label columns of B are named PREFIX<task> "
                                 "(e.g. suggested_ for `tag --prefix suggested_`; found automatically when unique)."),
    fmt: AgreementFormat = typer.Option(AgreementFormat.table, "--format", help="table or json."),
    show_text: bool = typer.Option(False, "--show-text", help="Include the note text of each disagreement."),
    text_column: str = typer.Option("text", "--text-column", help="Column with the note text (for --show-text)."),
    limit: int = typer.Option(DEFAULT_SHOWN, "--limit", min=0, help="Disagreements shown in the table (json lists all)."),
) -> None:
    """Cohen's kappa and observed agreement per task (key question, statement, evidence category, band),
    with the disagreements listed by key. Note text is shown only with --show-text."""
    from evidencenlp.evaluation.agreement import compare_files

    result = compare_files(a, b, key=key, prefix_a=prefix_a, prefix_b=prefix_b, text_column=text_column,
                           show_text=show_text)
    if fmt is AgreementFormat.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    console.print(f"{result.join}: {result.matched} rows matched "
                  f"({result.only_a} only in A, {result.only_b} only in B)", highlight=False)
    table = Table(title="Agreement per task (rows labelled in both)")
    for col, justify in (("task", "left"), ("column A", "left"), ("column B", "left"), ("n", "right"),
                         ("agreement", "right"), ("Cohen's kappa", "right")):
        table.add_column(col, justify="right" if justify == "right" else "left")
    for t in result.tasks:
        table.add_row(t.task, t.column_a, t.column_b, str(t.n), _fmt(t.agreement), _fmt(t.kappa))
    console.print(table)
    if result.disagreements and limit:
        dis = Table(title=f"Disagreements ({len(result.disagreements)}"
                          + (f", first {limit} shown" if len(result.disagreements) > limit else "") + ")")
        dis.add_column("key")
        dis.add_column("task")
        dis.add_column("A")
        dis.add_column("B")
        if show_text:
            dis.add_column("text")
        for d in result.disagreements[:limit]:
            dis.add_row(d.key, d.task, d.a, d.b, *([d.text or ""] if show_text else []))
        console.print(dis)
    elif not result.disagreements:
        console.print("no disagreements")
