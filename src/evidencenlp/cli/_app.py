"""The typer application that every ``cli/*.py`` module registers its command on."""

from __future__ import annotations

import logging
import re
import socket
import sys
from typing import Any

import typer
from rich.console import Console

from evidencenlp.defaults import BACKEND_HELP, BACKENDS

app = typer.Typer(
    name="evidencenlp",
    help="Explainable suggestions that place health and care evidence against CQC's frameworks. "
         "Suggestions are for an inspector to confirm or correct; nothing is rated automatically.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    """``--version``: the package version and the shipped model's id, read without importing the model code."""
    if not value:
        return
    import json

    from evidencenlp import __version__
    from evidencenlp.paths import models_dir

    try:
        model = json.loads((models_dir() / "heads.json").read_text(encoding="utf-8")).get("model_version", "?")
    except (OSError, ValueError):
        model = "no model found"
    print(f"evidencenlp {__version__} (model {model})")
    raise typer.Exit()


class _StatusHandler(logging.Handler):
    """Library status lines (``evidencenlp`` logger, INFO and up: e.g. a backend built at first use) on stderr.

    The library never logs note text; these lines carry paths, counts and durations only.
    """

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(self.format(record), highlight=False, soft_wrap=True)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and the shipped model's id, then exit.")) -> None:
    """Explainable suggestions that place health and care evidence against CQC's frameworks."""
    logger = logging.getLogger("evidencenlp")
    if not any(isinstance(h, _StatusHandler) for h in logger.handlers):
        logger.addHandler(_StatusHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False  # libraries that configure the root logger must not print these twice


def _check_backend(value: str) -> str:
    if value not in BACKENDS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(BACKENDS)}")
    return value


def backend_option() -> Any:
    """The ``--backend`` option shared by every command that embeds notes."""
    return typer.Option("torch", "--backend", metavar="|".join(BACKENDS), help=BACKEND_HELP, callback=_check_backend)


frameworks_app = typer.Typer(help="List, show, validate and build the framework files.", no_args_is_help=True)
app.add_typer(frameworks_app, name="frameworks")

#: results go to stdout; progress, summaries and errors to stderr
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def read_text_arg(text: str) -> str:
    """The note given on the command line, or standard input when it is ``-`` (UTF-8, a BOM dropped).

    Bytes that are not UTF-8 (on standard input, or in the argument: Python keeps those as lone
    surrogates) are refused with one line naming the first bad byte, never a traceback.
    """
    where = "the note given"
    if text == "-":
        where = "standard input"
        raw = getattr(sys.stdin, "buffer", None)
        if raw is None:  # a text stream given by a test harness
            text = sys.stdin.read()
        else:
            data = raw.read()
            try:
                return data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise fail(f"standard input is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at byte "
                           f"{exc.start}); save the note as UTF-8 and pipe it again") from None
    bad = re.search("[\ud800-\udfff]", text)
    if bad is not None:
        raise fail(f"{where} is not UTF-8 text (an invalid byte at character {bad.start() + 1}); give the note as "
                   "UTF-8 text")
    return text


def ensure_port_free(host: str, port: int, hint: str) -> None:
    """Fail with one line (ending in ``hint``) when nothing can listen on ``host:port`` now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}); {hint}") from None
