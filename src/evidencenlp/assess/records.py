"""Evidence records: one placed note (statement, band, category, principles, weight) from any source.

A record is what the scoring needs and nothing more; the note text is kept only redacted, only in
memory, and only for the HTML report's short excerpt and the "what would make this outstanding"
similarity. :meth:`EvidenceRecord.to_dict` never includes it.

Weights: a note confirmed or corrected by an inspector weighs 1.0; an unreviewed suggestion weighs
its confidence, the lowest of its key question, statement and band probabilities (the same figure
the review store keeps in ``suggestions.confidence``).
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

    @property
    def confirmed(self) -> bool:
        """True when an inspector accepted or corrected the note."""
        return self.source != "suggestion"

    def excerpt(self, chars: int = EXCERPT_CHARS) -> str:
        """A short excerpt of the text, redacted again here (for the HTML report only)."""
        from evidencenlp.text import redact_only

        text = " ".join(redact_only(self.text).text.split()) if self.text else ""
        return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, without any note text."""
        return {"note": self.note, "row": self.row, "band": self.band, "weight": round(self.weight, 4),
                "source": self.source, "evidence_category": self.evidence_category,
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


def record_from_suggestion(s: Suggestion, note: str, row: int, location: str, statement_kq: Mapping[str, str],
                           service: str | None = None) -> EvidenceRecord | None:
    """A record from a fresh :class:`Suggestion` (weighted by its confidence); None when the tool abstained."""
    if s.statement is None or s.band is None or s.key_question is None:
        return None  # abstained (e.g. no content, not English): nothing to place
    return EvidenceRecord(
        note=note, row=row, location=location, key_question=statement_kq.get(s.statement.label, s.key_question.label),
        statement=s.statement.label, band=s.band.label,
        weight=suggestion_confidence(s.key_question.score, s.statement.score, s.band.score),
        evidence_category=s.evidence_category.label if s.evidence_category else None, needs_review=s.needs_review,
        service=service, principles=tuple(p.label for p in s.principles), text=s.text)


def group_by_location(records: Sequence[EvidenceRecord]) -> dict[str, list[EvidenceRecord]]:
    """Records per location, locations in order of first appearance."""
    out: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        out.setdefault(r.location, []).append(r)
    return out
