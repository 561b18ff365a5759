"""Command line: a thin typer shell over the library. One module per command (group)."""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

from evidencenlp.cli._app import app, err_console
from evidencenlp.errors import EvidenceNLPError


def _readable_help_tables() -> None:
    """``--help`` at any width (80 columns too) shows every option name and type whole.

    typer draws the options of a command as a rich table whose columns rich shrinks evenly when the
    terminal is narrow, cutting long option names with "…". Here every column but the last (names,
    short names, types) is never wrapped or cut; the last (the help text) takes what is left and
    wraps, breaking a word longer than its width (e.g. a path) rather than cutting it.
    """
    from rich.table import Table
    from rich.text import Text
    from typer import rich_utils

    if getattr(rich_utils.Table, "keeps_option_names", False):
        return

    class _HelpTable(Table):
        keeps_option_names = True

        def add_row(self, *renderables: Any, **kwargs: Any) -> None:
            for part in getattr(renderables[-1], "renderables", ()) if renderables else ():
                if isinstance(part, Text):
                    part.overflow = "fold"
            super().add_row(*renderables, **kwargs)
            for column in self.columns[:-1]:
                column.no_wrap = True
            self.columns[-1].overflow = "fold"

    rich_utils.Table = _HelpTable  # type: ignore[misc]


_readable_help_tables()

#: modules that register commands on ``app`` (imported for their side effect)
COMMAND_MODULES: tuple[str, ...] = ("frameworks", "classify", "tag", "train", "evaluate", "agreement",
                                    "review", "serve", "summarise", "assess", "api")


def register_commands(modules: tuple[str, ...] = COMMAND_MODULES, package: str = "evidencenlp.cli") -> None:
    """Import every command module of ``package`` (each registers its commands on ``app``).

    Fails loudly: a missing or broken command module raises its error here (ImportError, SyntaxError,
    …) instead of its command silently disappearing from the CLI.
    """
    for name in modules:
        import_module(f"{package}.{name}")


register_commands()


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


__all__ = ["COMMAND_MODULES", "app", "main", "register_commands"]
