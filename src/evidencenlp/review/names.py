"""Inspector names as recorded with every decision: what they may hold.

A name is shown on the page, in the terminal and in every export, and signs the decision log, so it
must display as it was typed. Characters that are invisible or that reorder the text around them
(bidirectional controls such as U+202E RIGHT-TO-LEFT OVERRIDE, zero-width spaces, other Unicode
"format" characters, and control characters such as a newline) are refused, not silently removed:
the person fixes the name once. The zero-width joiner and non-joiner (U+200D, U+200C) are kept,
since names in some scripts are spelt with them.
"""

from __future__ import annotations

import unicodedata

from evidencenlp.errors import EvidenceNLPError

#: format characters that names in some scripts need (Persian, Indic): kept
ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
#: the longest name kept (as the web API's limit)
MAX_NAME = 200


class BadNameError(EvidenceNLPError):
    """An inspector name that is empty, too long, or holds invisible or reordering characters."""


def hidden_characters(text: str) -> list[str]:
    """The code points of ``text`` that do not display as themselves (``U+202E``, …), in order, once each."""
    found: list[str] = []
    for char in text:
        kind = unicodedata.category(char)
        if (kind == "Cf" and char not in ALLOWED_FORMAT) or kind in ("Cc", "Co", "Cs", "Zl", "Zp"):
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def inspector_name(value: str | None) -> str:
    """``value`` trimmed, as it will be recorded; :class:`BadNameError` (one line) when it cannot be.

    Refuses an empty name, one longer than :data:`MAX_NAME` characters, and one holding characters
    that are invisible or reorder the text (:func:`hidden_characters`), naming them by code point.
    """
    name = (value or "").strip()
    if not name:
        raise BadNameError("the inspector name is empty")
    if len(name) > MAX_NAME:
        raise BadNameError(f"the inspector name is longer than {MAX_NAME} characters")
    bad = hidden_characters(name)
    if bad:
        names = ", ".join(f"{code} {unicodedata.name(chr(int(code[2:], 16)), 'unnamed')}" for code in bad[:3])
        raise BadNameError(f"the inspector name holds invisible or text-reordering characters ({names}); type "
                           "it again without them")
    return name
