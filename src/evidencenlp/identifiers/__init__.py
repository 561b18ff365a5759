"""Find personal identifiers in a note: rules and word lists, no model, nothing downloaded.

Kinds and their placeholders are in :data:`PLACEHOLDERS`. :func:`find_identifiers` runs every
finder and resolves overlaps; :mod:`evidencenlp.text` wraps it in a spaCy component and replaces the
spans. Invisible characters (zero-width spaces, soft hyphens, bidirectional controls, no-break spaces)
are read through before matching (:mod:`evidencenlp.identifiers.invisible`); offsets are always the
note's own. The word lists behind name detection are described in ``data/README.md``.
"""

from __future__ import annotations

from evidencenlp.identifiers.invisible import matching_views
from evidencenlp.identifiers.names import find_name_spans
from evidencenlp.identifiers.patterns import (
    Redaction,
    find_addresses,
    find_dates_of_birth,
    find_emails,
    find_hospital_numbers,
    find_nhs_numbers,
    find_ni_numbers,
    find_phones,
    find_postcodes,
    nhs_number_is_valid,
)

__all__ = ["KINDS", "PLACEHOLDERS", "Redaction", "find_identifiers", "nhs_number_is_valid"]

PLACEHOLDERS: dict[str, str] = {
    "NHS_NUMBER": "[NHS_NUMBER]",
    "PHONE": "[PHONE]",
    "POSTCODE": "[POSTCODE]",
    "EMAIL": "[EMAIL]",
    "DOB": "[DOB]",
    "NAME": "[NAME]",
    "ADDRESS": "[ADDRESS]",
    "HOSPITAL_NUMBER": "[HOSPITAL_NUMBER]",
    "NI_NUMBER": "[NI_NUMBER]",
}
KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)

#: when two finds start at the same place and are as long, the more specific kind wins
_PRIORITY = {kind: rank for rank, kind in enumerate(
    ("EMAIL", "HOSPITAL_NUMBER", "NI_NUMBER", "NHS_NUMBER", "DOB", "PHONE", "ADDRESS", "POSTCODE", "NAME"))}


def find_identifiers(text: str) -> list[Redaction]:
    """All identifier spans in ``text`` (character offsets), earliest first, overlaps resolved.

    Longer, more specific finds win: an NHS number is not also reported as a phone number. The rules
    match on the note with its invisible characters read through (``Mrs\u200bPatel`` is ``Mrs Patel``);
    the offsets returned are ``text``'s own, and a span covers any invisible characters inside it.
    """
    found: list[Redaction] = []
    for view in matching_views(text):
        finds = find_all(view.text)
        found.extend(finds if not view.origin
                     else (Redaction(r.kind, *view.to_note(r.start, r.end)) for r in finds))
    return resolve_overlaps(found)


def find_all(text: str) -> list[Redaction]:
    """Every finder's spans in ``text``, overlaps not yet resolved."""
    found: list[Redaction] = []
    for finder in (find_emails, find_nhs_numbers, find_hospital_numbers, find_ni_numbers, find_phones,
                   find_postcodes, find_dates_of_birth, find_addresses):
        found.extend(finder(text))
    found.extend(Redaction("NAME", start, end) for start, end in find_name_spans(text))
    return found


def resolve_overlaps(spans: list[Redaction]) -> list[Redaction]:
    """Keep the earliest, longest, most specific span of each overlapping group."""
    kept: list[Redaction] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start), _PRIORITY[s.kind])):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept
