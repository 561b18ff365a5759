"""Routes for the queue, one note, and the decisions on it (confirm, skip, undo)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from evidencenlp.review.models import ReviewError
from evidencenlp.review.queries import ORDERS
from evidencenlp.review.store import ReviewStore
from evidencenlp.web.bodies import DecisionIn
from evidencenlp.web.context import MAX_ID, get_store

#: the page's queue filters → :meth:`ReviewStore.queue` arguments
FILTERS: dict[str, dict[str, Any]] = {
    "all": {},
    "needs_review": {"needs_review_only": True},
    "pending": {"statuses": ("pending",)},
    "skipped": {"statuses": ("skipped",)},
    "confirmed": {"statuses": ("accepted", "corrected")},
}

router = APIRouter(prefix="/api")

NOTE_ID = Path(ge=1, le=MAX_ID, description="a note id")
ASSESSMENT_ID = Query(None, ge=1, le=MAX_ID, description="an assessment id (default: every assessment)")


@router.get("/queue")
def queue(assessment_id: int | None = ASSESSMENT_ID, filter: str = "all", order: str = "file",
          store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """The notes to review, filtered and ordered, with the progress counts."""
    if filter not in FILTERS:
        raise ReviewError(f"unknown filter {filter!r}; expected one of {', '.join(FILTERS)}")
    if order not in ORDERS:
        raise ReviewError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
    items = store.queue(assessment_id, order, **FILTERS[filter])
    return {"items": [i.to_dict() for i in items], "progress": store.progress(assessment_id)}


@router.get("/notes/{note_id}")
def note(note_id: int = NOTE_ID, *, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """A note with its suggestion, current decision and history."""
    return store.note(note_id).to_dict()


@router.post("/notes/{note_id}/confirm")
def confirm(body: DecisionIn, note_id: int = NOTE_ID, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """Accept the suggestion (no labels, or the suggested ones) or correct it (other labels)."""
    labels = body.labels.to_labels() if body.labels else None
    store.confirm(note_id, body.inspector, labels, body.rationale, client="web", based_on=body.seen())
    return store.note(note_id).to_dict()


@router.post("/notes/{note_id}/skip")
def skip(body: DecisionIn, note_id: int = NOTE_ID, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """Skip the note (it stays unconfirmed)."""
    store.skip(note_id, body.inspector, body.rationale, client="web", based_on=body.seen())
    return store.note(note_id).to_dict()


@router.post("/notes/{note_id}/undo")
def undo(body: DecisionIn, note_id: int = NOTE_ID, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """Revert the decision in force on the note (a new ``undone`` row)."""
    if store.undo(note_id, body.inspector, client="web", based_on=body.seen()) is None:
        raise ReviewError("nothing to undo: this note has no decision in force")
    return store.note(note_id).to_dict()
