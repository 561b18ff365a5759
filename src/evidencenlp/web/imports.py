"""Routes that import files (uploaded, or a path on this computer) as background jobs; job status and cancel.

Imports are bounded: an upload larger than the app's ``max_upload_bytes`` is refused (413) while it
streams in, and a file with more than ``max_rows`` rows is refused (413) before its first note is
stored. An uploaded file lives in a folder of the app's :class:`~evidencenlp.web.uploads.UploadArea`
and is deleted however its import ends. Error messages name the upload as the user named it, never
the server's folders.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam

from evidencenlp.errors import EvidenceNLPError
from evidencenlp.review.models import NotFoundError, ReviewError, TooLargeError
from evidencenlp.tabular import count_rows, table_format
from evidencenlp.web.bodies import ImportIn
from evidencenlp.web.context import ReviewContext, get_context
from evidencenlp.web.jobs import JobCancelled, JobContext, JobStatus
from evidencenlp.web.uploads import safe_upload_name

log = logging.getLogger("evidencenlp.review")

#: the default largest upload (``evidencenlp serve --max-upload-mb``)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: the default most rows of one import from the page (``evidencenlp serve --max-rows``)
MAX_IMPORT_ROWS = 50_000

router = APIRouter(prefix="/api")


def job_json(status: JobStatus) -> dict[str, Any]:
    """An import job as the page reads it."""
    return {"id": status.id, "source": status.info.get("source"), "state": status.state, "rows_done": status.done,
            "rows_total": status.total, "summary": status.result, "error": status.error}


def _hide(message: str, path: Path, name: str) -> str:
    """``message`` with the server's path of the file replaced by the name the user knows it by."""
    for shown in (str(path.resolve()), str(path), str(path.parent.resolve()), str(path.parent)):
        message = message.replace(shown, name)
    return message


def _rewrap(exc: EvidenceNLPError, message: str) -> EvidenceNLPError:
    """An error of the same kind with another message (a plain :class:`ReviewError` if the kind cannot)."""
    try:
        return type(exc)(message)
    except TypeError:
        return ReviewError(message)


def start_import(context: ReviewContext, path: Path, source: str, text_column: str, options: dict[str, Any],
                 cleanup: Path | None) -> dict[str, Any]:
    """Submit the import of ``path`` to the app's job runner; the job as JSON. ``cleanup`` is removed after."""
    def work(job: JobContext) -> dict[str, Any]:
        try:
            with context.open_store() as store:
                summary = store.import_notes(path, text_column, context.suggesters.get, source_name=source,
                                             progress=job.advance, max_rows=context.max_rows, **options)
            return summary.to_dict()
        except JobCancelled:
            raise
        except EvidenceNLPError as exc:
            raise _rewrap(exc, _hide(str(exc), path, source)) from None
        except Exception as exc:  # reported to the page; no note text in the log
            log.error("import of an uploaded file failed: %s", type(exc).__name__)
            raise ReviewError(f"the import failed unexpectedly ({type(exc).__name__})") from None
        finally:
            if cleanup is not None:
                context.uploads.remove(cleanup)

    try:
        try:
            total = count_rows(path)
        except EvidenceNLPError as exc:
            raise _rewrap(exc, _hide(str(exc), path, source)) from None
        if total is not None and total > context.max_rows:
            raise TooLargeError(f"{source}: {total:,} rows; at most {context.max_rows:,} rows are imported at a "
                                "time here (split the file, or import it with `evidencenlp review FILE --db …`)")
        job_id = context.runner.submit(work, name="import", total=total, info={"source": source})
        context.jobs.append(job_id)
    except BaseException:
        if cleanup is not None:
            context.uploads.remove(cleanup)
        raise
    status = context.runner.status(job_id)
    if status is None:
        raise ReviewError(f"the job runner lost import job {job_id}")
    return job_json(status)


def _options(body: ImportIn) -> dict[str, Any]:
    return {"assessment": body.assessment or None, "location": body.location,
            "service_type": body.service_type or None, "start_date": body.start_date or None,
            "end_date": body.end_date or None, "id_column": body.id_column or None,
            "location_column": body.location_column or None, "date_column": body.date_column or None}


@router.post("/upload")
async def upload(request: Request, filename: str, text_column: str = "text", assessment: str | None = None,
                 location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                 end_date: str | None = None, id_column: str | None = None, location_column: str | None = None,
                 date_column: str | None = None, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """Import the file sent as the request body (its bytes); an import job."""
    name = safe_upload_name(filename)
    limit = context.max_upload_bytes
    too_large = TooLargeError(f"{name}: larger than {limit / (1024 * 1024):g} MB, the most this page accepts; "
                              "import it with `evidencenlp review FILE --db …`, or start the server with a "
                              "larger --max-upload-mb")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    folder = context.uploads.new()
    target = folder / f"upload{Path(name).suffix.lower()}"
    size = 0
    try:
        with target.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large
                fh.write(chunk)
        if size == 0:
            raise ReviewError(f"{name}: the uploaded file is empty")
    except BaseException:
        context.uploads.remove(folder)
        raise
    body = ImportIn(path="", text_column=text_column or "text", assessment=assessment, location=location,
                    service_type=service_type, start_date=start_date, end_date=end_date, id_column=id_column,
                    location_column=location_column, date_column=date_column)
    return start_import(context, target, name, body.text_column or "text", _options(body), folder)


@router.post("/import")
def import_path(body: ImportIn, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """Import a file already on this computer (loopback servers only); an import job."""
    if not context.allow_path_import:
        raise ReviewError("importing a path is only possible when the page is served on this computer "
                          "(127.0.0.1); upload the file instead")
    if "\x00" in body.path:
        raise ReviewError("the path has a NUL character")
    path = Path(body.path).expanduser()
    table_format(path)
    if not path.is_file():
        raise ReviewError(f"{path}: file not found")
    return start_import(context, path, path.name, body.text_column or "text", _options(body), None)


JOB_ID = PathParam(min_length=1, max_length=64)


def _job(context: ReviewContext, job_id: str) -> JobStatus:
    status = context.runner.status(job_id)
    if status is None:
        raise NotFoundError(f"no import job {job_id}")
    return status


@router.get("/jobs/{job_id}")
def job(job_id: str = JOB_ID, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """An import job's progress, and its summary or error once finished."""
    return job_json(_job(context, job_id))


@router.delete("/jobs/{job_id}")
@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: str = JOB_ID, context: ReviewContext = Depends(get_context)) -> dict[str, Any]:
    """Stop a running import after its current batch (rows stored so far stay; importing again finishes)."""
    _job(context, job_id)
    context.runner.cancel(job_id)
    return job_json(_job(context, job_id))
