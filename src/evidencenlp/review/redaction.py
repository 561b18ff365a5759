"""Redaction for everything the review stores: note text, suggestion sentences and rationales."""

from __future__ import annotations


def redact_text(text: str) -> tuple[str, dict[str, int]]:
    """The note with identifiers replaced by placeholders, and the count of each kind replaced."""
    from evidencenlp.text import apply_redactions, find_identifiers

    found = find_identifiers(text)
    counts: dict[str, int] = {}
    for r in found:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return apply_redactions(text, found), counts
