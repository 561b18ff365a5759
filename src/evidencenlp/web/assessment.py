"""``GET /api/assessment``: the indicative rating per key question, from :func:`evidencenlp.assess.assess_store`.

One computation: the page's live rating is ``assess_store`` on the same database, the same function
``evidencenlp assess --db`` calls, reading the same decisions in force
(:func:`evidencenlp.review.in_force.decisions_in_force`). Indicative, for the inspector's judgement:
confirmed and corrected notes count in full, notes not yet decided count with their suggestion's
confidence. Each note in the answer carries the store's ``note_id`` so the page links to it, and each
key question ``note_ids``. ``evidencenlp.assess`` is imported on the first request (it reads the
rating rules from the framework files), never when the app is built.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from evidencenlp.review.store import ReviewStore
from evidencenlp.web.context import ReviewContext, get_context, get_store
from evidencenlp.web.notes import ASSESSMENT_ID

router = APIRouter(prefix="/api")

#: shown with every answer and on the panel
INDICATIVE_LABEL = "indicative, for the inspector's judgement"


def link_notes(location: dict[str, Any]) -> dict[str, Any]:
    """Add ``note_ids`` (the store's ids of its notes, in statement order) to each key question (in place)."""
    for kq in location.get("key_questions", {}).values():
        ids = [n.get("note_id") for st in kq.get("statements", []) for n in st.get("notes", [])]
        kq["note_ids"] = list(dict.fromkeys(i for i in ids if i is not None))
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
    location = link_notes(locations[0]) if locations else None
    return {"available": True, "label": INDICATIVE_LABEL, "indicative": result.get("indicative"),
            "assessment_id": chosen.id, "location": location, "rules": result.get("rules")}
