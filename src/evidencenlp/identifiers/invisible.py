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
#: zero-width spaces: a word break to some writers ("Mrs\u200bPatel"), a break inside a word to others
_ZERO_WIDTH_SPACES = "\u200b\u180e"
#: characters with no width that join or steer text: soft hyphen, Arabic letter mark, combining grapheme
#: joiner, zero-width (non-)joiners, direction marks, embeddings, overrides and isolates, word joiner,
#: invisible operators, deprecated format controls, variation selectors, byte-order mark, tag characters
_FORMAT = ("\u00ad\u034f\u061c\u200c-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff"
           "\U000e0000-\U000e007f")
_LINE_BREAKS = "\u2028\u2029"

_ANY = re.compile(f"[{_SPACES}{_ZERO_WIDTH_SPACES}{_FORMAT}{_LINE_BREAKS}]")
_DROP = re.compile(f"[{_FORMAT}]")
_DROP_ALL = re.compile(f"[{_FORMAT}{_ZERO_WIDTH_SPACES}]")
_TO_SPACE = re.compile(f"[{_SPACES}]")
_TO_SPACE_WITH_ZERO_WIDTH = re.compile(f"[{_SPACES}{_ZERO_WIDTH_SPACES}]")


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


def _view(text: str, to_space: re.Pattern[str], drop: re.Pattern[str]) -> View:
    """``text`` with ``to_space`` characters read as a space, line separators as a newline and
    ``drop`` characters left out, with the map back to ``text``'s offsets."""
    spaced = to_space.sub(" ", text).replace("\u2028", "\n").replace("\u2029", "\n")
    dropped = {m.start() for m in drop.finditer(text)}
    if not dropped:
        return View(spaced)
    kept = tuple(i for i in range(len(text)) if i not in dropped)
    return View("".join(spaced[i] for i in kept), kept)


def matching_views(text: str) -> list[View]:
    """The texts that identifier rules should match on, with offsets back to ``text``.

    A text with nothing invisible gives itself. Otherwise, other spaces read as a plain space and
    zero-width format characters are left out (``Pa\\u00adtel`` -> ``Patel``); a zero-width space is
    read both ways, as a space (``Mrs\\u200bPatel`` -> ``Mrs Patel``) and as nothing (``Pa\\u200btel``
    -> ``Patel``), so two views are given and the finds of both are kept.
    """
    if not has_invisible(text):
        return [View(text)]
    views = [_view(text, _TO_SPACE_WITH_ZERO_WIDTH, _DROP)]
    if any(c in text for c in _ZERO_WIDTH_SPACES):
        views.append(_view(text, _TO_SPACE, _DROP_ALL))
    return views
