"""Invisible characters: the views of a note that identifier rules match on.

Text pasted from phones, web forms and word processors carries characters that do not show:
zero-width spaces and joiners, soft hyphens, byte-order marks, bidirectional controls, and spaces
other than the plain one (no-break, narrow, thin, ideographic). Between a title and a surname
(``Mrs\\u200bPatel``) or inside a name (``Pa\\u00adtel``) they would hide an identifier from rules
written for plain text. :func:`matching_views` gives the texts to match on instead, each with a
map back to the note's own offsets; the note itself is never changed here (a redaction replaces
the identifier with everything inside it, invisible characters included; the rest is kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: spaces other than U+0020 (no-break, en/em, thin, hair, narrow no-break, ideographic...) and blank
#: "letters" used as spaces (Hangul fillers): read as a plain space
_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u115f\u1160\u3164\uffa0"
#: zero-width characters that may stand for a word break: zero-width space, Mongolian vowel separator,
#: direction marks, embeddings, overrides and isolates, Arabic letter mark, word joiner, byte-order mark,
#: deprecated format controls ("Mrs\u200bPatel" is "Mrs Patel" to its writer, "MrsPatel" on screen)
_BREAKS = "\u200b\u180e\u200e\u200f\u061c\u202a-\u202e\u2060\u2066-\u206f\ufeff"
#: zero-width characters inside a word, never a break: soft hyphen, combining grapheme joiner, zero-width
#: (non-)joiners, invisible operators, variation selectors, tag characters
_JOINERS = "\u00ad\u034f\u200c\u200d\u2061-\u2064\ufe00-\ufe0f\U000e0000-\U000e007f"
_LINE_BREAKS = "\u2028\u2029"

_ANY = re.compile(f"[{_SPACES}{_BREAKS}{_JOINERS}{_LINE_BREAKS}]")
_ZERO_WIDTH_RUN = re.compile(f"[{_BREAKS}{_JOINERS}]+")
_BREAK = re.compile(f"[{_BREAKS}]")
_TO_SPACE = re.compile(f"[{_SPACES}]")


@dataclass(frozen=True)
class View:
    """A text to match on and, for each of its characters, the offset of that character in the note
    (``origin`` is empty when the offsets are the note's own)."""

    text: str
    origin: tuple[int, ...] = ()

    def to_note(self, start: int, end: int) -> tuple[int, int]:
        """The note's offsets of the span ``[start, end)`` of this view (a non-empty span)."""
        if not self.origin:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def has_invisible(text: str) -> bool:
    """True when ``text`` holds a character that :func:`matching_views` would change."""
    return _ANY.search(text) is not None


def _view(text: str, spaces: dict[int, bool]) -> View:
    """``text`` with other spaces as a plain space, line separators as a newline, and each run of
    zero-width characters (keyed by its first offset in ``spaces``) as one space (True) or nothing."""
    spaced = _TO_SPACE.sub(" ", text).replace("\u2028", "\n").replace("\u2029", "\n")
    if not spaces:
        return View(spaced)
    chars: list[str] = []
    origin: list[int] = []
    pos = 0
    for run in _ZERO_WIDTH_RUN.finditer(text):
        chars.append(spaced[pos:run.start()])
        origin.extend(range(pos, run.start()))
        if spaces[run.start()]:
            chars.append(" ")
            origin.append(run.start())
        pos = run.end()
    chars.append(spaced[pos:])
    origin.extend(range(pos, len(text)))
    return View("".join(chars), tuple(origin))


def matching_views(text: str) -> list[View]:
    """The texts that identifier rules should match on, with offsets back to ``text``.

    A text with nothing invisible gives itself. Otherwise other spaces read as a plain space and
    zero-width characters inside a word (soft hyphens, joiners) as nothing (``Pa\u00adtel`` ->
    ``Patel``). A zero-width break between two visible characters may stand for a space or for
    nothing (``Mrs\u200bPatel``, ``Pa\u200btel``): then two views are given, one reading it each way,
    and the finds of both are kept. Next to a space or at either end it is nothing.
    """
    if not has_invisible(text):
        return [View(text)]
    as_space: dict[int, bool] = {}
    for run in _ZERO_WIDTH_RUN.finditer(text):
        start, end = run.span()
        as_space[start] = (start > 0 and end < len(text) and not text[start - 1].isspace()
                           and not text[end].isspace() and _BREAK.search(run.group()) is not None)
    views = [_view(text, as_space)]
    if any(as_space.values()):
        views.append(_view(text, dict.fromkeys(as_space, False)))
    return views
