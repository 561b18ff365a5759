"""Command line: a thin typer shell over the library. One module per command (group)."""

from __future__ import annotations

import sys
from importlib import import_module

from evidencenlp.cli._app import app, err_console
from evidencenlp.errors import EvidenceNLPError

#: modules that register commands on ``app`` (imported for their side effect)
COMMAND_MODULES: tuple[str, ...] = ("frameworks", "classify", "tag", "train", "evaluate", "agreement",
                                    "review", "serve", "summarise", "assess", "api")

for _name in COMMAND_MODULES:
    try:
        import_module(f"evidencenlp.cli.{_name}")
    except ModuleNotFoundError as exc:  # a command still being written must not break the others
        if exc.name != f"evidencenlp.cli.{_name}":
            raise


def main() -> None:
    """Entry point: run the app; user errors become one clear line and exit code 2, never a traceback."""
    try:
        app()
    except EvidenceNLPError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except OSError as exc:  # a file the user named could not be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"[bold red]error:[/] {where}{exc.strerror or exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted. A `tag` run can be continued with --resume.")
        sys.exit(130)


__all__ = ["app", "main"]
