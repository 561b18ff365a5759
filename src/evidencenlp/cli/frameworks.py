"""``evidencenlp frameworks list|show|validate|build``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from rich.table import Table

from evidencenlp.cli._app import console, err_console, fail, frameworks_app
from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import load_crosswalk, load_framework_file, load_frameworks
from evidencenlp.paths import frameworks_dir, shared_dir


class ShowFormat(str, Enum):
    json = "json"
    table = "table"


@frameworks_app.command("list")
def list_frameworks(
    directory: Path = typer.Option(None, "--dir", help="Frameworks folder (default: the project's frameworks/)."),
) -> None:
    """A table of the frameworks with their versions and item counts."""
    fws = load_frameworks(directory)
    table = Table(title="Frameworks")
    for col in ("id", "version", "title", "counts", "source"):
        table.add_column(col, overflow="fold")
    for fw in fws.values():
        counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in fw.counts().items())
        table.add_row(fw.id, fw.version, fw.title, counts, fw.source)
    console.print(table)
    crosswalk_path = (directory or frameworks_dir()) / "crosswalk.yaml"
    if crosswalk_path.exists():
        cw = load_crosswalk(crosswalk_path, fws)
        judged = sum(r.judgement for r in cw.rows)
        console.print(f"crosswalk {cw.version}: {len(cw.rows)} SAF statements mapped ({judged} needed judgement)")


@frameworks_app.command("show")
def show(
    framework_id: str = typer.Argument(..., help="Framework id, e.g. cqc-saf-2023 (see `frameworks list`)."),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format", help="json: the whole framework in the file's "
                                   "structure; table: a readable summary."),
    directory: Path = typer.Option(None, "--dir", help="Frameworks folder."),
) -> None:
    """Show one framework, as JSON (the whole file) or as a table of its items."""
    fws = load_frameworks(directory)
    if framework_id not in fws:
        raise fail(f"no framework {framework_id!r}; known: {', '.join(fws)}")
    fw = fws[framework_id]
    if fmt is ShowFormat.json:
        console.print_json(json.dumps(fw.data, ensure_ascii=False))
        return
    table = Table(title=f"{fw.title} ({fw.id} {fw.version})")
    for col in ("kind", "item", "key question", "band", "text"):
        table.add_column(col, overflow="fold")
    for t in fw.texts():
        table.add_row(t.kind, t.item, t.key_question or "", t.band or "", t.text)
    console.print(table)


@frameworks_app.command("validate")
def validate(path: Path = typer.Argument(..., help="A framework file (.yaml/.yml/.json) to check.")) -> None:
    """Check a framework file against the schema; errors name the field path and what was expected."""
    try:
        fw = load_framework_file(path)
    except FrameworkError as exc:
        raise fail(str(exc)) from None
    counts = ", ".join(f"{k}: {v}" for k, v in fw.counts().items()) or "no items"
    console.print(f"[green]valid[/]: {path} — {fw.id} {fw.version} ({counts})")


@frameworks_app.command("build")
def build(
    seeds: Path = typer.Option(None, help="Folder of seed documents (default: ../shared/seeds)."),
    reference: Path = typer.Option(None, help="Folder of reference files (default: ../shared/reference)."),
    out: Path = typer.Option(None, help="Output folder (default: the project's frameworks/)."),
) -> None:
    """Regenerate the seed-derived framework files (deterministic: same seeds, same bytes)."""
    from evidencenlp.framework_build.run import build_all

    seeds = seeds or shared_dir() / "seeds"
    reference = reference or shared_dir() / "reference"
    for folder in (seeds, reference):
        if not folder.is_dir():
            raise fail(f"{folder}: folder not found")
    for path in build_all(seeds, reference, out or frameworks_dir()):
        fw = load_framework_file(path)
        err_console.print(f"wrote {path} ({fw.id} {fw.version})")
