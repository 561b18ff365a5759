"""Segment and redact: a blank English spaCy pipeline with a sentencizer and an identifier redactor.

The redactor (:mod:`evidencenlp.identifiers`) finds NHS numbers, hospital numbers, National
Insurance numbers, phone numbers (UK and international), postcodes, email addresses, street
addresses, dates of birth and person names, and records them as ``doc.spans["redactions"]``;
:func:`process` returns the note with each replaced by a placeholder such as ``[NHS_NUMBER]``.
No model is downloaded: everything here is rules and word lists shipped with the package.

A note of any length is processed: spaCy refuses a text longer than ``nlp.max_length`` (E088, a
guard for its parser and NER, which this pipeline does not use), so a longer note goes through the
pipeline in pieces of at most :data:`PIECE_CHARS` characters, cut at a line or sentence end, and the
pieces' sentences and redactions are joined with their offsets in the whole note.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy (which imports torch through thinc) loads only when sentences are needed
    from spacy.language import Language
    from spacy.tokens import Doc, Span

from evidencenlp.identifiers import KINDS, PLACEHOLDERS, Redaction, find_identifiers, nhs_number_is_valid
from evidencenlp.sentences import number_abbreviations_component

__all__ = ["EXACT_KEY", "KINDS", "PLACEHOLDERS", "SPAN_KEY", "ProcessedText", "Redaction", "apply_redactions",
           "find_identifiers", "nhs_number_is_valid", "number_abbreviations_component", "pipeline", "process",
           "process_many", "redact", "redact_many", "redact_only", "redactor_component"]

SPAN_KEY = "redactions"
#: ``doc.user_data`` key of the identifiers' exact character spans (a list of :class:`Redaction`)
EXACT_KEY = "evidencenlp.redactions"
#: the longest text given to spaCy at once (its own limit, ``nlp.max_length``, is 1,000,000)
PIECE_CHARS = 500_000


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


def redactor_component(doc: Doc) -> Doc:
    """spaCy component: put identifier spans, labelled by kind, in ``doc.spans["redactions"]``.

    A spaCy span covers whole tokens, and a token can hold more than the identifier ("No.943" in
    "NHS No.943 476 5919", "Mrs\u200bPatel"); the identifiers' exact character offsets are kept in
    ``doc.user_data[EXACT_KEY]``, and those are what :func:`process` replaces.
    """
    found = find_identifiers(doc.text)
    spans = []
    for r in found:
        span = doc.char_span(r.start, r.end, label=r.kind, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans[SPAN_KEY] = spans
    doc.user_data[EXACT_KEY] = found
    return doc


#: abbreviations that a number follows ("NHS No. 943 476 5919", "Tel. 0113 ...", "Hosp no. K123456"):
#: their dot does not end a sentence when the next token holds a digit
@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The shared blank-English pipeline: sentencizer, then the redactor. Built once.

    spaCy is imported here, not with the module: batch tagging redacts without segmenting and never needs it.
    """
    from evidencenlp.spacy_import import import_spacy

    spacy = import_spacy()  # without the torch import thinc would make
    from spacy.language import Language

    if "evidencenlp_redactor" not in Language.factories:
        Language.component("evidencenlp_redactor", func=redactor_component)
    if "evidencenlp_number_abbreviations" not in Language.factories:
        Language.component("evidencenlp_number_abbreviations", func=number_abbreviations_component)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("evidencenlp_number_abbreviations")
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
    """Identifiers found, counted by kind (in the order each kind is first found, as ``collections.Counter`` keeps them)."""
    counts: dict[str, int] = {}
    for r in found:  # most notes have none: no Counter built per note
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return counts


def _doc_parts(doc: Doc, redact: bool, offset: int = 0) -> tuple[list[Redaction], list[tuple[int, int]]]:
    """The redactions (if ``redact``) and sentence (start, end) offsets of ``doc``, shifted by ``offset``.

    The redactions are the exact character spans the redactor stored (``EXACT_KEY``); a doc from another
    pipeline has only its token-aligned spans.
    """
    found: list[Redaction] = []
    if redact:
        exact = doc.user_data.get(EXACT_KEY)
        if exact is None:
            spans: list[Span] = list(doc.spans.get(SPAN_KEY, []))
            exact = [Redaction(s.label_, s.start_char, s.end_char) for s in spans]
        found = [Redaction(r.kind, r.start + offset, r.end + offset) for r in exact]
    return found, [(sent.start_char + offset, sent.end_char + offset) for sent in doc.sents]


def _assemble(text: str, found: list[Redaction], sentences: list[tuple[int, int]]) -> ProcessedText:
    out = []
    for start, end in sentences:
        # an identifier that a sentence break cuts is redacted in both parts
        inside = [Redaction(r.kind, max(r.start, start), min(r.end, end)) for r in found
                  if r.start < end and r.end > start]
        s = apply_redactions(text[start:end], inside, offset=start).strip()
        if s:
            out.append(s)
    return ProcessedText(text=apply_redactions(text, found), sentences=tuple(out), redactions=_count_kinds(found))


def _from_doc(doc: Doc, redact: bool) -> ProcessedText:
    found, sentences = _doc_parts(doc, redact)
    return _assemble(doc.text, found, sentences)


_BREAKS = ("\n", ". ", "! ", "? ", "; ", " ")


def pieces(text: str, limit: int = PIECE_CHARS) -> list[tuple[int, str]]:
    """``text`` cut into (offset, piece) of at most ``limit`` characters that join back to ``text``.

    Each cut is at the last line end in the piece, else after the last sentence end, else at the last
    space (only a text without any is cut at exactly ``limit`` characters).
    """
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = 0
        for mark in _BREAKS:
            at = window.rfind(mark)
            if at > 0:
                cut = at + len(mark)
                break
        cut = cut or limit
        out.append((start, window[:cut]))
        start += cut
    out.append((start, text[start:]))
    return out


def _process_long(text: str, redact: bool) -> ProcessedText:
    """:func:`process` for a text longer than spaCy takes at once: piece by piece, offsets joined."""
    found: list[Redaction] = []
    sentences: list[tuple[int, int]] = []
    parts = pieces(text, min(PIECE_CHARS, pipeline().max_length))
    for (offset, _), doc in zip(parts, pipeline().pipe(piece for _, piece in parts)):
        f, s = _doc_parts(doc, redact, offset)
        found += f
        sentences += s
    return _assemble(text, found, sentences)


def _is_long(text: str) -> bool:
    return len(text) > min(PIECE_CHARS, pipeline().max_length)


def process(text: str, redact: bool = True) -> ProcessedText:
    """Segment ``text`` into sentences and (by default) redact identifiers. Any length."""
    if _is_long(text):
        return _process_long(text, redact)
    return _from_doc(pipeline()(text), redact)


def process_many(texts: Iterable[str], redact: bool = True, batch_size: int = 256) -> Iterator[ProcessedText]:
    """Stream :func:`process` over many texts (the same results, faster; a long text goes in pieces).

    The identifiers of a batch are found with the pre-filters of
    :func:`evidencenlp.identifiers.batch.find_identifiers_many` (the same finds as the spaCy
    redactor's), and only a note that may have more than one sentence
    (:func:`evidencenlp.sentences.one_sentence`) goes through spaCy's segmenter.
    """
    batch: list[str] = []
    for text in texts:
        if not _is_long(text):
            batch.append(text)
            if len(batch) >= batch_size:
                yield from _pipe(batch, redact, batch_size)
                batch = []
            continue
        yield from _pipe(batch, redact, batch_size)
        batch = []
        yield _process_long(text, redact)
    yield from _pipe(batch, redact, batch_size)


def _pipe(texts: list[str], redact: bool, batch_size: int) -> Iterator[ProcessedText]:
    from evidencenlp.identifiers.batch import find_identifiers_many
    from evidencenlp.sentences import one_sentence, segmenter

    if not texts:
        return
    finds = find_identifiers_many(texts) if redact else [[] for _ in texts]
    single = [one_sentence(t) for t in texts]
    docs = iter(segmenter().pipe([t for t, one in zip(texts, single) if not one], batch_size=batch_size))
    for text, found, one in zip(texts, finds, single):
        if one:
            sentences = [(0, len(text))]
        else:
            sentences = [(sent.start_char, sent.end_char) for sent in next(docs).sents]
        yield _assemble(text, found, sentences)


def redact(text: str) -> str:
    """The note with identifiers replaced by placeholders (no segmentation needed by the caller)."""
    return apply_redactions(text, find_identifiers(text))


def redact_only(text: str) -> ProcessedText:
    """Redact without sentence segmentation (the fast path for batch tagging): no ``sentences``."""
    found = find_identifiers(text)
    return ProcessedText(text=apply_redactions(text, found), sentences=(), redactions=_count_kinds(found))


def redact_many(texts: Sequence[str]) -> list[ProcessedText]:
    """:func:`redact_only` of each note, in order, with the identifier finders' pre-filters
    (:func:`evidencenlp.identifiers.batch.find_identifiers_many`: the same finds, faster)."""
    from evidencenlp.identifiers.batch import find_identifiers_many

    return [ProcessedText(text=apply_redactions(text, found) if found else text, sentences=(),
                          redactions=_count_kinds(found) if found else {})
            for text, found in zip(texts, find_identifiers_many(texts))]
