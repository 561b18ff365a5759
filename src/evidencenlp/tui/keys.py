"""Where the terminal review's keys come from: the terminal, or a stream (scripts and tests).

A :data:`KeyReader` returns one key per call: a lower-case character, or ``"enter"`` / ``"escape"``;
Ctrl-C, Ctrl-D and the end of the input read as ``"q"`` (quit).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TextIO

#: returns one key: a character, or "enter" / "escape"
KeyReader = Callable[[], str]


def _normalise(ch: str) -> str:
    if ch in ("\r", "\n", "\r\n"):
        return "enter"
    if ch.startswith("\x1b"):
        return "escape"
    if ch in ("\x03", "\x04"):  # Ctrl-C, Ctrl-D
        return "q"
    return ch.lower() if len(ch) == 1 else ch


class StreamKeys:
    """Keys read one character at a time from a text stream (a string is wrapped); end of input is ``q``."""

    def __init__(self, stream: TextIO | str) -> None:
        self.stream = io.StringIO(stream) if isinstance(stream, str) else stream

    def __call__(self) -> str:
        ch = self.stream.read(1)
        return _normalise(ch) if ch else "q"


def terminal_keys() -> KeyReader:
    """Single key presses from the terminal, without Enter (``click.getchar``)."""
    import click

    def read() -> str:
        try:
            return _normalise(click.getchar())
        except (KeyboardInterrupt, EOFError):
            return "q"

    return read
