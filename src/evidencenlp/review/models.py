"""Value types of the review store, and its errors.

The store hands these out instead of raw rows so the terminal flow, the web app and the tests share
one vocabulary. None of them carries unredacted text: ``Note.text`` is the redacted note.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from evidencenlp.errors import EvidenceNLPError

#: the actions a decision row can record
ACTIONS: tuple[str, ...] = ("accepted", "corrected", "skipped", "undone")
#: the status of a note, derived from its latest decision
STATUSES: tuple[str, ...] = ("pending", "accepted", "corrected", "skipped")
#: statuses whose labels count as confirmed by an inspector
CONFIRMED: tuple[str, ...] = ("accepted", "corrected")


class ReviewError(EvidenceNLPError):
    """A review request cannot be done as asked (unknown note, bad label, nothing to undo, …)."""


class NotFoundError(ReviewError):
    """The note or assessment asked for does not exist in the review database."""


class TooLargeError(ReviewError):
    """An import is larger than this server accepts (bytes uploaded, or rows)."""


class ConflictError(ReviewError):
    """Someone else decided on the note after it was shown; reload it and decide again."""


@dataclass(frozen=True)
class Labels:
    """What an inspector confirms for a note. ``principles`` are King's Fund principle ids."""

    key_question: str
    statement: str
    evidence_category: str
    band: str
    principles: tuple[str, ...] = ()

    def replace(self, **changes: Any) -> Labels:
        """A copy with some fields changed.

        Changing ``statement`` without ``key_question`` leaves the key question empty: it follows
        the statement, and :meth:`Vocabulary.validate <evidencenlp.review.labels.Vocabulary.validate>`
        fills it in from the frameworks.
        """
        data = asdict(self)
        data.update(changes)
        if "statement" in changes and "key_question" not in changes:
            data["key_question"] = ""
        data["principles"] = tuple(data["principles"])
        return Labels(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (principles as a list)."""
        return {**asdict(self), "principles": list(self.principles)}


@dataclass(frozen=True)
class Assessment:
    """An assessment (one inspection): where, what service, when."""

    id: int
    name: str
    location: str | None
    service_type: str | None
    start_date: str | None
    end_date: str | None
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Decision:
    """One row of the append-only decision log."""

    id: int
    note_id: int
    suggestion_id: int | None
    inspector: str
    decided_at: str
    action: str
    key_question: str | None
    statement: str | None
    evidence_category: str | None
    band: str | None
    principles: tuple[str, ...]
    rationale: str | None
    reverts: int | None
    restores: int | None
    client: str | None

    @property
    def effective_id(self) -> int | None:
        """The decision in force after this row: itself, or for an undo the one it restored."""
        return self.restores if self.action == "undone" else self.id

    def labels(self) -> Labels | None:
        """The labels this row records, or None (skip, or an undo back to no decision)."""
        if self.key_question is None or self.statement is None or self.evidence_category is None \
                or self.band is None:
            return None
        return Labels(self.key_question, self.statement, self.evidence_category, self.band, self.principles)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "principles": list(self.principles)}


@dataclass(frozen=True)
class Note:
    """A stored note: redacted text, where it came from, and its current suggestion and status."""

    id: int
    assessment_id: int
    source_file: str
    source_row: int
    source_id: str | None
    service: str | None
    text: str
    imported_at: str
    status: str
    suggestion_id: int | None
    suggestion: dict[str, Any] | None
    confidence: float | None
    needs_review: bool
    current: Decision | None = None
    history: tuple[Decision, ...] = field(default=())
    #: the imported file's location and date columns for this row, as written there (None: no such column)
    location: str | None = None
    note_date: str | None = None

    def suggested_labels(self) -> Labels | None:
        """The suggestion's labels as :class:`Labels` (what "accept" confirms), exactly as stored."""
        return labels_of_suggestion(self.suggestion)

    def decided_labels(self) -> Labels | None:
        """The confirmed labels when the note is accepted or corrected, else None."""
        if self.status in CONFIRMED and self.current is not None:
            return self.current.labels()
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by the web API."""
        return {
            "id": self.id, "assessment_id": self.assessment_id, "source_file": self.source_file,
            "source_row": self.source_row, "source_id": self.source_id, "location": self.location,
            "note_date": self.note_date, "service": self.service,
            "text": self.text, "imported_at": self.imported_at, "status": self.status,
            "suggestion_id": self.suggestion_id, "suggestion": self.suggestion, "confidence": self.confidence,
            "needs_review": self.needs_review,
            "current": self.current.to_dict() if self.current else None,
            "history": [d.to_dict() for d in self.history],
        }


@dataclass(frozen=True)
class QueueItem:
    """A line of the review queue: enough to list a note without loading its suggestion JSON."""

    note_id: int
    source_file: str
    source_row: int
    snippet: str
    status: str
    needs_review: bool
    confidence: float | None
    suggested_statement: str | None
    suggested_band: str | None
    decided_statement: str | None
    decided_band: str | None
    source_id: str | None = None
    location: str | None = None
    note_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class ImportSummary:
    """What an import did: counts only, never note text. ``changed_rows`` are 1-based data rows."""

    assessment_id: int
    source_file: str
    rows: int = 0
    imported: int = 0
    already: int = 0
    blank: int = 0
    needs_review: int = 0
    changed_rows: list[int] = field(default_factory=list)
    #: the file's columns kept per note (None: the file has no such column)
    id_column: str | None = None
    location_column: str | None = None
    date_column: str | None = None
    #: characters that are not valid Unicode (lone surrogates in JSONL), replaced by U+FFFD when read
    replaced_characters: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def labels_of_suggestion(payload: dict[str, Any] | None) -> Labels | None:
    """The labels of a stored suggestion payload, exactly as suggested; None when it names no statement.

    Tolerates payloads of older versions: a missing key question, category or band is empty, so
    the labels fail validation with a clear message instead of the request failing.
    """
    if not payload:
        return None

    def label(key: str) -> str:
        value = payload.get(key)
        return str(value.get("label") or "") if isinstance(value, dict) else ""

    if not label("statement"):
        return None
    principles = tuple(str(p["label"]) for p in payload.get("principles") or []
                       if isinstance(p, dict) and p.get("label"))
    return Labels(label("key_question"), label("statement"), label("evidence_category"), label("band"), principles)


def dumps(value: Any) -> str:
    """Compact, stable JSON for the database."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
