"""The flat columns ``tag`` adds to every row: one :class:`~evidencenlp.suggest.Suggestion` as plain cells."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggestion, Topic

#: columns that ``tag`` adds to every row, in order
FLAT_COLUMNS: tuple[str, ...] = (
    "key_question", "key_question_score", "statement", "statement_score", "statement_top3",
    "evidence_category", "evidence_category_score", "band", "band_score", "principles",
    "evidence_text", "needs_review", "reason", "key_questions", "topics", "band_probabilities",
)


def flat_row(s: Suggestion) -> dict[str, Any]:
    """The flat columns ``tag`` adds for one suggestion (:data:`FLAT_COLUMNS`); empty when it abstained."""
    if s.reason is not None or s.key_question is None or s.statement is None or s.band is None:
        return {**empty_row(), "needs_review": True, "reason": s.reason}
    category = s.evidence_category
    return {
        "key_question": s.key_question.label,
        "key_question_score": round(s.key_question.score, 4),
        "statement": s.statement.label,
        "statement_score": round(s.statement.score, 4),
        "statement_top3": ";".join(x.label for x in s.statement_top3),
        "evidence_category": category.label if category else None,
        "evidence_category_score": round(category.score, 4) if category else None,
        "band": s.band.label,
        "band_score": round(s.band.score, 4),
        "principles": ";".join(p.label for p in s.principles),
        "evidence_text": s.evidence[0].text.text if s.evidence else "",
        "needs_review": s.needs_review,
        "reason": None,
        "key_questions": ";".join(k.label for k in s.key_questions),
        "topics": topics_json(s),
        "band_probabilities": band_probabilities_text(s.band.probabilities),
    }


def band_probabilities_text(probabilities: dict[str, float]) -> str:
    """The ``band_probabilities`` column: JSON text ``{band: probability}`` (4 decimals), so that ``assess``
    on a tagged file can calibrate and sample the bands as it does for raw notes."""
    return json.dumps({b: round(float(p), 4) for b, p in probabilities.items()}, ensure_ascii=False)


def topics_json(s: Suggestion) -> str:
    """The ``topics`` column: JSON text, one object per topic (key question, statement, band,
    direction, score, evidence span offsets into the redacted note)."""
    return topics_text(s.topics)


def topics_text(topics: Sequence[Topic]) -> str:
    """The ``topics`` column of a note with these ``topics`` (see :func:`topics_json`)."""
    return json.dumps([{"key_question": t.key_question.label, "statement": t.statement.label, "band": t.band.label,
                        "direction": t.direction.label if t.direction else None, "score": round(t.score, 4),
                        "start": t.start, "end": t.end} for t in topics], ensure_ascii=False)


def empty_row() -> dict[str, Any]:
    """Flat columns for a row with no text: every suggestion column empty."""
    return {c: None for c in FLAT_COLUMNS}
