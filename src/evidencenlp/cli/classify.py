"""``evidencenlp classify TEXT`` — suggestions for one note."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from evidencenlp.cli._app import app, backend_option, console, fail, read_text_arg

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggestion


class OutputFormat(str, Enum):
    json = "json"
    table = "table"


def render_table(s: Suggestion) -> Table:
    """A people-friendly table of one suggestion."""
    table = Table(title="Suggestion (confirm or correct — nothing is rated automatically)", show_lines=True)
    table.add_column("what", style="bold")
    table.add_column("suggested")
    table.add_column("confidence", justify="right")
    if s.reason is not None or s.key_question is None or s.statement is None or s.band is None:
        why = {"no_content": "nothing to assess (too short, a placeholder or no content words)",
               "not_english": "not in English"}.get(s.reason or "", s.reason or "")
        table.add_row("no suggestion", why, "")
        table.add_row("needs review", "[yellow]yes[/]", "")
        return table
    table.add_row("key question", s.key_question.label, f"{s.key_question.score:.0%}")
    table.add_row("quality statement", s.statement.label, f"{s.statement.score:.0%}")
    table.add_row("alternatives", "\n".join(x.label for x in s.statement_top3[1:]),
                  "\n".join(f"{x.score:.0%}" for x in s.statement_top3[1:]))
    if s.evidence_category is not None:
        table.add_row("evidence category", s.evidence_category.label, f"{s.evidence_category.score:.0%}")
    table.add_row("band", s.band.label.replace("_", " "), f"{s.band.score:.0%}")
    table.add_row("principles", ", ".join(p.label for p in s.principles) or "—", "")
    if s.evidence:
        e = s.evidence[0]
        table.add_row("because it resembles" + (" (weak match)" if e.weak else ""),
                      f"{e.text.text}\n[dim]{e.text.framework} · {e.text.item}"
                      f"{' · ' + e.text.band if e.text.band else ''}[/]"
                      + ("\n[yellow](weak match: the closest framework sentence is not close)[/]" if e.weak else ""),
                      f"{e.similarity:.2f}")
    table.add_row("needs review", "[yellow]yes[/]" if s.needs_review else "no", "")
    for i, sent in enumerate(s.sentences, 1):
        table.add_row(f"sentence {i}", f"{sent.text}\n→ {sent.statement.label}, {sent.band.label}",
                      f"{sent.statement.score:.0%}")
    return table


@app.command()
def classify(
    text: str = typer.Argument(..., help="The note to classify, or - to read it from standard input."),
    fmt: OutputFormat = typer.Option(OutputFormat.table, "--format", help="json (the documented contract) or table."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Keep identifiers in the output text (opt out)."),
    models: Path = typer.Option(None, help="Folder with trained heads (default: the project's models/)."),
    backend: str = backend_option(),
) -> None:
    """Suggest key question, quality statement, evidence category, band and principles for one note."""
    note = read_text_arg(text)
    if not note.strip():
        raise fail("the note is empty: give the text as an argument or pipe it with -")
    from evidencenlp.tagging import SuggesterSpec

    suggestion = SuggesterSpec(models=models, redact=not no_redact, backend=backend).load().suggest(note)
    if fmt is OutputFormat.json:
        print(json.dumps(suggestion.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(render_table(suggestion))
