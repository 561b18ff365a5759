"""Evidence records: one placed note (statement, band, category, principles, weight) from any source.

A record is what the scoring needs and nothing more; the note text is kept only redacted, only in
memory, and only for the HTML report's short excerpt and the "what would make this outstanding"
similarity. :meth:`EvidenceRecord.to_dict` never includes it.

Weights: a note confirmed or corrected by an inspector weighs 1.0 and is placed on its one statement.
An unreviewed suggestion is placed on each of its likely statements (``statement_top3``, those in a
key question the model suggests: its top key question and every one in ``key_questions``), each
placement weighing the model's probability that the note is evidence for that statement; so a note
may count fractionally under two key questions. The band uncertainty is kept apart, as the note's
band probabilities (``band.probabilities``): the statement score uses the most probable band, the
serious-finding rule the probability of the worst band (see :mod:`evidencenlp.assess.scoring`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggestion


#: where a record's labels come from
SOURCES: tuple[str, ...] = ("suggestion", "accepted", "corrected")
#: the flat columns of ``evidencenlp tag`` output that make a table "already tagged"
TAGGED_COLUMNS: tuple[str, ...] = ("key_question", "key_question_score", "statement", "statement_score",
                                   "evidence_category", "band", "band_score", "needs_review")
EXCERPT_CHARS = 140


@dataclass(frozen=True)
class EvidenceRecord:
    """One note placed against a quality statement.

    Attributes:
        note: the note's id (the id column's value, the review store's note id, or ``row N``).
        row: 1-based data row in the input file (or the note's source row in the review store).
        location: the location (assessment) the note belongs to.
        statement: SAF quality statement id; ``key_question`` is always the statement's own.
        band: the band of the note (suggested, or the inspector's).
        weight: 1.0 for a confirmed or corrected note, else the suggestion's confidence.
        source: ``suggestion``, ``accepted`` or ``corrected``.
        needs_review: the suggestion's flag (False for confirmed notes).
        service: the service the note is about, when known.
        principles: King's Fund principle ids evidenced by the note.
        text: the note text, redacted when it came from tag, a suggester or a review store (never
            serialised; redacted again for the HTML report's excerpts).
        note_id: the note's id in the review store it came from (None for tables).
        band_probabilities: ``(band, probability)`` pairs of an unreviewed suggestion (empty: the band is
            taken as certain, as for a confirmed note; a tagged table gives only its band's probability).
        primary: False for a suggestion's further placements (its second and third likely statements),
            which are counted as evidence but not as separate notes.
    """

    note: str
    row: int
    location: str
    key_question: str
    statement: str
    band: str
    weight: float
    source: str = "suggestion"
    evidence_category: str | None = None
    needs_review: bool = False
    service: str | None = None
    principles: tuple[str, ...] = ()
    text: str = field(default="", repr=False, compare=False)
    #: the note's id in a review store (None for tables)
    note_id: int | None = None
    band_probabilities: tuple[tuple[str, float], ...] = ()
    primary: bool = True

    @property
    def confirmed(self) -> bool:
        """True when an inspector accepted or corrected the note."""
        return self.source != "suggestion"

    def band_probability(self, band: str) -> float:
        """The probability that the note is in ``band``: 1 or 0 when confirmed or without probabilities."""
        if self.confirmed or not self.band_probabilities:
            return 1.0 if band == self.band else 0.0
        return dict(self.band_probabilities).get(band, 0.0)

    def excerpt(self, chars: int = EXCERPT_CHARS) -> str:
        """A short excerpt of the text, redacted again here (for the HTML report only)."""
        from evidencenlp.text import redact_only

        text = " ".join(redact_only(self.text).text.split()) if self.text else ""
        return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without any note text."""
        return {"note": self.note, "row": self.row, "band": self.band, "weight": round(self.weight, 4),
                "source": self.source, "primary": self.primary,
                **({"band_probabilities": {b: round(p, 4) for b, p in self.band_probabilities}}
                   if self.band_probabilities else {}), "evidence_category": self.evidence_category,
                "needs_review": self.needs_review, "service": self.service, "principles": list(self.principles),
                **({"note_id": self.note_id} if self.note_id is not None else {})}


def suggestion_confidence(key_question: float, statement: float, band: float) -> float:
    """The weight of an unreviewed suggestion: its lowest probability of the three placements."""
    return float(min(key_question, statement, band))


def split_ids(value: Any) -> tuple[str, ...]:
    """``a;b`` → ``("a", "b")``; empty or missing → ``()``."""
    if value is None or (isinstance(value, float) and value != value):
        return ()
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


@dataclass(frozen=True)
class Placement:
    """One statement a suggestion may be evidence for, and the model's probability of it."""

    statement: str
    probability: float


def placements(statement: str, statement_p: float, key_question: str, top3: Sequence[tuple[str, float]],
               key_questions: Sequence[str], statement_kq: Mapping[str, str]) -> list[Placement]:
    """Where an unreviewed suggestion counts: its statement first, then each other ``top3`` statement of a
    suggested key question (``key_question`` or one of ``key_questions``), with its probability.

    In: the suggested statement and its probability, the suggested key question, the ``statement_top3``
    pairs, the listed key questions and the statement -> key question map. Out: placements, the
    suggested statement first; statements unknown to the framework are left out.
    """
    allowed = {key_question, *key_questions}
    out = [Placement(statement, float(statement_p))]
    for label, p in top3:
        if label != statement and label in statement_kq and statement_kq[label] in allowed and p > 0:
            out.append(Placement(label, float(p)))
    return out


def records_from_suggestion(s: Suggestion, note: str, row: int, location: str, statement_kq: Mapping[str, str],
                            service: str | None = None) -> list[EvidenceRecord]:
    """The records of a fresh :class:`Suggestion`: one per placement (empty when the tool abstained).

    Each weighs the probability of its statement and carries the note's band probabilities.
    """
    if s.statement is None or s.band is None or s.key_question is None:
        return []  # abstained (e.g. no content, not English): nothing to place
    probs = tuple((b, float(p)) for b, p in s.band.probabilities.items()) or ((s.band.label, float(s.band.score)),)
    places = placements(s.statement.label, s.statement.score, s.key_question.label,
                        [(x.label, x.score) for x in s.statement_top3], [k.label for k in s.key_questions],
                        statement_kq)
    return [EvidenceRecord(
        note=note, row=row, location=location, key_question=statement_kq.get(p.statement, s.key_question.label),
        statement=p.statement, band=s.band.label, weight=p.probability,
        evidence_category=s.evidence_category.label if s.evidence_category else None, needs_review=s.needs_review,
        service=service, principles=tuple(x.label for x in s.principles), text=s.text, band_probabilities=probs,
        primary=i == 0) for i, p in enumerate(places)]


def record_from_suggestion(s: Suggestion, note: str, row: int, location: str, statement_kq: Mapping[str, str],
                           service: str | None = None) -> EvidenceRecord | None:
    """The primary record of a fresh :class:`Suggestion` (its suggested statement); None when it abstained."""
    found = records_from_suggestion(s, note, row, location, statement_kq, service)
    return found[0] if found else None


def group_by_location(records: Sequence[EvidenceRecord]) -> dict[str, list[EvidenceRecord]]:
    """Records per location, locations in order of first appearance."""
    out: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        out.setdefault(r.location, []).append(r)
    return out
