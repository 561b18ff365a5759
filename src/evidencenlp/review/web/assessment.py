"""``GET /api/assessment``: the indicative rating per key question, from :func:`evidencenlp.assess.assess_store`.

Indicative, for the inspector's judgement: confirmed and corrected notes count in full, notes not
yet decided count with their suggestion's confidence. The page shows each key question's rating,
its score, the limiter that capped it, and links to the notes behind each statement score; so each
note in the answer carries its ``note_id`` here. ``evidencenlp.assess`` is imported on the first
request (it reads the rating rules from the framework files), never when the app is built.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fastapi import APIRouter, Depends

from evidencenlp.review.store import ReviewStore
from evidencenlp.review.web.context import ReviewContext, get_context, get_store
from evidencenlp.review.web.notes import ASSESSMENT_ID

router = APIRouter(prefix="/api")

#: shown with every answer and on the panel
INDICATIVE_LABEL = "indicative, for the inspector's judgement"


def _note_ids(conn: sqlite3.Connection, assessment_id: int) -> dict[tuple[str, int], list[int]]:
    """(name the assessment gives a note, its row) → note ids: names are the file's id, or ``note <id>``."""
    found: dict[tuple[str, int], list[int]] = {}
    for r in conn.execute("SELECT id, source_id, source_row FROM notes WHERE assessment_id = ? ORDER BY id",
                          (assessment_id,)):
        name = str(r["source_id"]) if r["source_id"] else f"note {r['id']}"
        found.setdefault((name, int(r["source_row"])), []).append(int(r["id"]))
    return found


def link_notes(location: dict[str, Any], ids: dict[tuple[str, int], list[int]]) -> dict[str, Any]:
    """Add ``note_id`` to each note of each statement, and ``note_ids`` to each key question (in place)."""
    for kq in location.get("key_questions", {}).values():
        linked: list[int] = []
        for statement in kq.get("statements", []):
            for note in statement.get("notes", []):
                candidates = ids.get((str(note.get("note")), int(note.get("row") or 0))) or []
                note["note_id"] = candidates[0] if len(candidates) == 1 else None
                if note["note_id"] is not None and note["note_id"] not in linked:
                    linked.append(note["note_id"])
        kq["note_ids"] = linked
    return location


@router.get("/assessment")
def assessment(assessment_id: int | None = ASSESSMENT_ID, context: ReviewContext = Depends(get_context),
               store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """The indicative rating of one assessment (default: the latest), per key question, with its notes."""
    try:
        from evidencenlp.assess import assess_store
    except ImportError:  # pragma: no cover - the package ships it; a trimmed install may not
        return {"available": False, "label": INDICATIVE_LABEL,
                "detail": "the rating module (evidencenlp.assess) is not installed"}
    every = store.assessments()
    chosen = store.assessment(assessment_id) if assessment_id is not None else (every[-1] if every else None)
    if chosen is None:
        return {"available": True, "label": INDICATIVE_LABEL, "assessment_id": None, "location": None}
    result = assess_store(context.db_path, chosen.name, embedder=context.embedder).to_dict()
    locations = result.get("locations") or []
    location = link_notes(locations[0], _note_ids(store.conn, chosen.id)) if locations else None
    return {"available": True, "label": INDICATIVE_LABEL, "indicative": result.get("indicative"),
            "assessment_id": chosen.id, "location": location, "rules": result.get("rules")}
