"""Routes that import files (uploaded, or a path on this computer) as background jobs, and job status."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request

from evidencenlp.errors import EvidenceNLPError
from evidencenlp.review.models import NotFoundError, ReviewError
from evidencenlp.review.web.bodies import ImportIn
from evidencenlp.review.web.context import ReviewContext, get_context
from evidencenlp.review.web.jobs import JobCancelled, JobContext, JobStatus
from evidencenlp.tabular import count_rows, table_format

log = logging.getLogger("evidencenlp.review")

MAX_UPLOAD_BYTES = 200 * 1024 * 1024

router = APIRouter(prefix="/api")


def job_json(status: JobStatus) -> dict[str, Any]:
    """An import job as the page reads it."""
    return {"id": status.id, "source": status.info.get("source"), "state": status.state, "rows_done": status.done,
            "rows_total": status.total, "summary": status.result, "error": status.error}


def start_import(context: ReviewContext, path: Path, source: str, text_column: str, options: dict[str, Any],
                 cleanup: Path | None) -> dict[str, Any]:
    """Submit the import of ``path`` to the app's job runner; the job as JSON. ``cleanup`` is removed after."""
    def work(job: JobContext) -> dict[str, Any]:
        try:
            with context.open_store() as store:
                summary = store.import_notes(path, text_column, context.suggesters.get, source_name=source,
                                             progress=job.advance, **options)
            return summary.to_dict()
        except (EvidenceNLPError, JobCancelled):
            raise
        except Exception as exc:  # reported to the page; no note text in the log
            log.error("import of an uploaded file failed: %s", type(exc).__name__)
            raise ReviewError(f"the import failed unexpectedly ({type(exc).__name__})") from None
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)

    try:
        total = count_rows(path)
        job_id = context.runner.submit(work, name="import", total=total, info={"source": source})
    except BaseException:
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
        raise
    status = context.runner.status(job_id)
    if status is None:
        raise ReviewError(f"the job runner lost import job {job_id}")
    return job_json(status)


def _options(assessment: str | None, location: str | None, service_type: str | None, start_date: str | None,
             end_date: str | None) -> dict[str, Any]:
    return {"assessment": assessment or None, "location": location, "service_type": service_type or None,
            "start_date": start_date or None, "end_date": end_date or None}


@router.post("/upload")
async def upload(request: Request, filename: str, text_column: str = "text", assessment: str | None = None,
                 location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                 end_date: str | None = None, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """Import the file sent as the request body (its bytes); an import job."""
    name = Path(filename.replace("\\", "/")).name
    if not name:
        raise ReviewError("the upload needs a file name")
    table_format(Path(name))
    folder = Path(tempfile.mkdtemp(prefix="evidencenlp-upload-"))
    target = folder / name
    size = 0
    try:
        with target.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ReviewError(f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; import it "
                                      "with `evidencenlp review FILE --db …` instead")
                fh.write(chunk)
        if size == 0:
            raise ReviewError(f"{name}: the uploaded file is empty")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    options = _options(assessment, location, service_type, start_date, end_date)
    return start_import(context, target, name, text_column or "text", options, folder)


@router.post("/import")
def import_path(body: ImportIn, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """Import a file already on this computer (loopback servers only); an import job."""
    if not context.allow_path_import:
        raise ReviewError("importing a path is only possible when the page is served on this computer "
                          "(127.0.0.1); upload the file instead")
    path = Path(body.path).expanduser()
    table_format(path)
    if not path.is_file():
        raise ReviewError(f"{path}: file not found")
    options = _options(body.assessment, body.location, body.service_type, body.start_date, body.end_date)
    return start_import(context, path, path.name, body.text_column or "text", options, None)


@router.get("/jobs/{job_id}")
def job(job_id: str, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """An import job's progress, and its summary or error once finished."""
    status = context.runner.status(job_id)
    if status is None:
        raise NotFoundError(f"no import job {job_id}")
    return job_json(status)
