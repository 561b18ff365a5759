"""Routes for what the page shows around the notes: meta (vocabulary, assessments), summary, export.

The summary and the export carry the audit log's head (``log_head``: entry count and last hash, as
``evidencenlp review verify`` prints it): the export in its ``log_head`` column and the
``X-Log-Head`` header, the summary as a field. Kept, it lets ``review verify --expect`` show later
whether anything stored until then was changed or removed.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from evidencenlp.review.db import SCHEMA_VERSION
from evidencenlp.review.queries import snapshot
from evidencenlp.review.store import ReviewStore
from evidencenlp.web.context import ReviewContext, get_context, get_store
from evidencenlp.web.notes import ASSESSMENT_ID

router = APIRouter(prefix="/api")


@router.get("/meta")
def meta(context: ReviewContext = Depends(get_context), store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """The vocabulary, the assessments with their progress, and the page's settings."""
    return {"inspector": context.inspector or "", "vocabulary": context.vocabulary.to_dict(),
            "schema_version": SCHEMA_VERSION, "path_import": context.allow_path_import,
            "database": context.db_path.name,
            # names this database in the page's local outbox (decisions not yet stored are never sent to another)
            "store_key": hashlib.sha256(str(context.db_path.resolve()).encode()).hexdigest()[:16],
            "assessments": [{**a.to_dict(), "progress": store.progress(a.id)} for a in store.assessments()]}


@router.get("/summary")
def summary(assessment_id: int | None = ASSESSMENT_ID, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
    """Per key question: confirmed notes, their bands and statements; the progress counts; the log head."""
    with snapshot(store.conn):
        return {"key_questions": store.summary(assessment_id), "progress": store.progress(assessment_id),
                "log_head": str(store.head())}


@router.get("/export")
def export(assessment_id: int | None = ASSESSMENT_ID, format: str = Query("csv", pattern="^(csv|jsonl)$"),
           store: ReviewStore = Depends(get_store)) -> FileResponse:
    """The confirmed labels as a download (.csv or .jsonl)."""
    name = (store.assessment(assessment_id).name if assessment_id is not None else "all")
    folder = Path(tempfile.mkdtemp(prefix="evidencenlp-export-"))
    out = folder / f"confirmed.{format}"
    _, head = store.export_with_head(out, assessment_id)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "assessment"
    return FileResponse(out, filename=f"confirmed-{safe}.{format}", headers={"X-Log-Head": str(head)},
                        media_type="text/csv" if format == "csv" else "application/x-ndjson",
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
