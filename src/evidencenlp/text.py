"""Segment and redact: a blank English spaCy pipeline with a sentencizer and an identifier redactor.

The redactor finds NHS numbers (valid modulus-11 check digit only), UK phone numbers, postcodes,
email addresses, dates of birth (a date next to "DOB"/"date of birth"/"born") and person names that
follow a title ("Mrs K", "Dr Patel", "Nurse Jane"). It records them as ``doc.spans["redactions"]``;
:func:`process` returns the note with each replaced by a placeholder such as ``[NHS_NUMBER]``.
No model is downloaded: everything here is rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

SPAN_KEY = "redactions"

_NHS = re.compile(r"(?<![\w/.-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\w/-]|\.\d)")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\(?0)\d[\d\s\-()]{7,14}\d(?![\w])"
)
_POSTCODE = re.compile(r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?)\s?\d[ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_DATE = rf"(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-]\d{{2,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?\s+\d{{2,4}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
_DOB = re.compile(rf"\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-]?\s*(?P<date>{_DATE})", re.IGNORECASE)
_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Nurse|Sister|Prof|Professor)\.?\s+"
    r"(?P<name>[A-Z][a-z]*(?:[-'’][A-Z][a-z]+)*(?:\s+[A-Z][a-z]+(?:[-'’][A-Z][a-z]+)*)?)(?![\w-])"
)

PLACEHOLDERS: dict[str, str] = {
    "NHS_NUMBER": "[NHS_NUMBER]",
    "PHONE": "[PHONE]",
    "POSTCODE": "[POSTCODE]",
    "EMAIL": "[EMAIL]",
    "DOB": "[DOB]",
    "NAME": "[NAME]",
}


def nhs_number_is_valid(digits: str) -> bool:
    """True when a 10-digit string has a valid NHS modulus-11 check digit.

    >>> nhs_number_is_valid("9434765919")
    True
    >>> nhs_number_is_valid("9434765918")
    False
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phone_is_plausible(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if raw.lstrip().startswith("+44"):
        digits = "0" + digits[2:].lstrip("0")
    return len(digits) in (10, 11) and digits[0] == "0" and digits[1] in "123578"


@dataclass(frozen=True)
class Redaction:
    """An identifier found in a note: its kind and character offsets in the original text."""

    kind: str
    start: int
    end: int


def find_identifiers(text: str) -> list[Redaction]:
    """All identifier spans in ``text`` (character offsets), earliest first, overlaps resolved.

    Longer, more specific finds win: an NHS number is not also reported as a phone number.
    """
    found: list[Redaction] = []
    for m in _EMAIL.finditer(text):
        found.append(Redaction("EMAIL", m.start(), m.end()))
    for m in _NHS.finditer(text):
        if nhs_number_is_valid("".join(m.groups())):
            found.append(Redaction("NHS_NUMBER", m.start(), m.end()))
    for m in _PHONE.finditer(text):
        if _phone_is_plausible(m.group()):
            start = m.start()
            if text[start] == "(" and ")" not in m.group():  # "(07700 900123)": keep the brackets
                start += 1
            found.append(Redaction("PHONE", start, m.end()))
    for m in _POSTCODE.finditer(text):
        # a postcode's outward part needs a letter and a digit; "350 beds" never matches
        found.append(Redaction("POSTCODE", m.start(), m.end()))
    for m in _DOB.finditer(text):
        found.append(Redaction("DOB", m.start("date"), m.end("date")))
    for m in _NAME.finditer(text):
        found.append(Redaction("NAME", m.start("name"), m.end("name")))
    return _resolve_overlaps(found)


def _resolve_overlaps(spans: list[Redaction]) -> list[Redaction]:
    kept: list[Redaction] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def apply_redactions(text: str, redactions: Iterable[Redaction], offset: int = 0) -> str:
    """Replace each span (offsets relative to ``text`` plus ``offset``) by its placeholder."""
    out, pos = [], 0
    for r in redactions:
        start, end = r.start - offset, r.end - offset
        if start < pos or end > len(text):
            continue
        out.append(text[pos:start])
        out.append(PLACEHOLDERS[r.kind])
        pos = end
    out.append(text[pos:])
    return "".join(out)


@Language.component("evidencenlp_redactor")
def redactor_component(doc: Doc) -> Doc:
    """spaCy component: put identifier spans, labelled by kind, in ``doc.spans["redactions"]``."""
    spans = []
    for r in find_identifiers(doc.text):
        span = doc.char_span(r.start, r.end, label=r.kind, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans[SPAN_KEY] = spans
    return doc


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The shared blank-English pipeline: sentencizer, then the redactor. Built once."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("evidencenlp_redactor")
    return nlp


@dataclass(frozen=True)
class ProcessedText:
    """A note after segmentation and redaction.

    ``text`` is the redacted note (or the original when redaction is off); ``sentences`` are its
    sentences, likewise redacted; ``redactions`` counts the identifiers found, by kind.
    """

    text: str
    sentences: tuple[str, ...]
    redactions: dict[str, int]


def _count_kinds(found: list[Redaction]) -> dict[str, int]:
    """Identifiers found, counted by kind."""
    return dict(Counter(r.kind for r in found))


def _from_doc(doc: Doc, redact: bool) -> ProcessedText:
    spans: list[Span] = list(doc.spans.get(SPAN_KEY, [])) if redact else []
    found = [Redaction(s.label_, s.start_char, s.end_char) for s in spans]
    counts = _count_kinds(found)
    text = apply_redactions(doc.text, found)
    sentences = []
    for sent in doc.sents:
        inside = [r for r in found if r.start >= sent.start_char and r.end <= sent.end_char]
        s = apply_redactions(sent.text, inside, offset=sent.start_char).strip()
        if s:
            sentences.append(s)
    return ProcessedText(text=text, sentences=tuple(sentences), redactions=counts)


def process(text: str, redact: bool = True) -> ProcessedText:
    """Segment ``text`` into sentences and (by default) redact identifiers."""
    return _from_doc(pipeline()(text), redact)


def process_many(texts: Iterable[str], redact: bool = True, batch_size: int = 256) -> Iterator[ProcessedText]:
    """Stream :func:`process` over many texts using spaCy's batched ``pipe``."""
    for doc in pipeline().pipe(texts, batch_size=batch_size):
        yield _from_doc(doc, redact)


def redact(text: str) -> str:
    """The note with identifiers replaced by placeholders (no segmentation needed by the caller)."""
    return apply_redactions(text, find_identifiers(text))


def redact_only(text: str) -> ProcessedText:
    """Redact without sentence segmentation (the fast path for batch tagging): no ``sentences``."""
    found = find_identifiers(text)
    return ProcessedText(text=apply_redactions(text, found), sentences=(), redactions=_count_kinds(found))
