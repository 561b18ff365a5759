"""The local review page: a FastAPI app serving plain HTML/CSS/JS and a small JSON API.

:func:`create_app` builds the app for one review database. Everything the page needs is served
by the app itself (``review/static``): no CDN, no build step, no network at run time.

Security: by default ``evidencenlp serve`` binds to 127.0.0.1 and the app accepts only loopback
``Host`` headers (so another web site cannot reach it through DNS rebinding). When bound to any
other address it is created with an access ``token``: every request must carry it as the
``X-Access-Token`` header, an ``Authorization: Bearer`` header, or the cookie set by a first visit
to ``/?token=…``. POST bodies must be JSON (or the raw bytes of an upload), which a cross-site form
cannot send. Note text never appears in URLs or logs.

API (all JSON unless stated):

- ``GET  /api/meta`` — vocabulary, assessments with progress, default inspector;
- ``GET  /api/queue?assessment_id=&filter=all|needs_review|pending|skipped|confirmed&order=file|uncertain``;
- ``GET  /api/notes/{id}`` — note, suggestion, current decision, history;
- ``POST /api/notes/{id}/confirm`` ``{inspector, labels?, rationale?, based_on?}`` — accepted/corrected;
- ``POST /api/notes/{id}/skip`` ``{inspector, rationale?, based_on?}``;
- ``POST /api/notes/{id}/undo`` ``{inspector, based_on?}``;
- ``GET  /api/summary?assessment_id=`` — per key question: confirmed notes, bands, statements;
- ``POST /api/upload?filename=&text_column=&assessment=…`` (body: the file's bytes) → an import job;
- ``POST /api/import`` ``{path, text_column, assessment, …}`` (loopback only) → an import job;
- ``GET  /api/jobs/{id}`` — import progress / result;
- ``GET  /api/export?assessment_id=&format=csv|jsonl`` — confirmed labels as a download.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from evidencenlp.errors import EvidenceNLPError
from evidencenlp.review.db import SCHEMA_VERSION
from evidencenlp.review.labels import Vocabulary, load_vocabulary
from evidencenlp.review.models import ConflictError, Labels, NotFoundError, ReviewError
from evidencenlp.review.store import ANY, ORDERS, ReviewStore, SuggesterLike, SuggesterSource
from evidencenlp.tabular import count_rows, table_format

log = logging.getLogger("evidencenlp.review")

TOKEN_COOKIE = "evidencenlp_token"
TOKEN_HEADER = "x-access-token"
LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FILTERS: dict[str, dict[str, Any]] = {
    "all": {},
    "needs_review": {"needs_review_only": True},
    "pending": {"statuses": ("pending",)},
    "skipped": {"statuses": ("skipped",)},
    "confirmed": {"statuses": ("accepted", "corrected")},
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def static_dir() -> Path:
    """The folder of the page's HTML, CSS and JS (package data)."""
    return Path(str(resources.files("evidencenlp.review").joinpath("static")))


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` — addresses other computers cannot reach."""
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh access token for a non-loopback server."""
    return secrets.token_urlsafe(24)


# -- request bodies -------------------------------------------------------------------------------

class LabelsIn(BaseModel):
    """Labels the inspector confirms (the key question may be left out: it follows the statement)."""

    key_question: str | None = None
    statement: str
    evidence_category: str
    band: str
    principles: list[str] = Field(default_factory=list)

    def to_labels(self) -> Labels:
        """As the store's :class:`Labels`."""
        return Labels(self.key_question or "", self.statement, self.evidence_category, self.band,
                      tuple(self.principles))


class DecisionIn(BaseModel):
    """Who decides, and (for confirm) what. ``based_on``: the latest decision id the page showed."""

    inspector: str = Field(min_length=1, max_length=200)
    labels: LabelsIn | None = None
    rationale: str | None = Field(default=None, max_length=4000)
    based_on: int | None = None


class ImportIn(BaseModel):
    """Import a file already on this computer (loopback servers only)."""

    path: str
    text_column: str = "text"
    assessment: str | None = None
    location: str | None = None
    service_type: str | None = None
    start_date: str | None = None
    end_date: str | None = None


# -- import jobs ----------------------------------------------------------------------------------

@dataclass
class Job:
    """An import running in a background thread; the page polls it."""

    id: str
    source: str
    state: str = "running"
    rows_done: int = 0
    rows_total: int | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        with self.lock:
            return {"id": self.id, "source": self.source, "state": self.state, "rows_done": self.rows_done,
                    "rows_total": self.rows_total, "summary": self.summary, "error": self.error}


class _Suggesters:
    """Loads the real suggester once, on the first import that needs it (thread-safe)."""

    def __init__(self, given: SuggesterSource | None, models: Path | None) -> None:
        self.given = given
        self.models = models
        self._loaded: SuggesterLike | None = None
        self._lock = threading.Lock()

    def get(self) -> SuggesterLike:
        with self._lock:
            if self._loaded is None:
                if self.given is not None:
                    self._loaded = self.given if isinstance(self.given, SuggesterLike) else self.given()
                else:
                    from evidencenlp.suggest import Suggester

                    self._loaded = Suggester.load(models=self.models)
            return self._loaded


# -- the app --------------------------------------------------------------------------------------

def create_app(db_path: Path | str, *, suggester: SuggesterSource | None = None, models: Path | None = None,
               inspector: str | None = None, token: str | None = None,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS, allow_path_import: bool = True,
               vocabulary: Vocabulary | None = None) -> FastAPI:
    """The review app for the database at ``db_path`` (created if missing).

    ``suggester`` (an object or a zero-argument factory) is used for imports; by default the
    project's trained :class:`~evidencenlp.suggest.Suggester` is loaded on first need. ``token``
    makes every request require it. ``allowed_hosts`` restricts the ``Host`` header (None: any).
    """
    db_path = Path(db_path)
    vocab = vocabulary or load_vocabulary()
    ReviewStore.open(db_path, vocabulary=vocab).close()  # create or migrate once, up front
    suggesters = _Suggesters(suggester, models)
    jobs: dict[str, Job] = {}
    hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None

    app = FastAPI(title="evidencenlp review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db_path = db_path
    app.state.jobs = jobs

    def get_store() -> Iterator[ReviewStore]:
        store = ReviewStore(db_path, create=False, vocabulary=vocab)
        try:
            yield store
        finally:
            store.close()

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        host = (request.url.hostname or "").lower()
        if hosts is not None and host not in hosts:
            return JSONResponse({"detail": "unexpected Host header; open the page at http://127.0.0.1"},
                                status_code=400)
        if token is not None:
            given = request.query_params.get("token")
            if given is not None and secrets.compare_digest(given.encode(), token.encode()):
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                target = request.url.path + (f"?{urlencode(rest)}" if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", path="/")
                return response
            auth = request.headers.get("authorization", "")
            supplied = (request.headers.get(TOKEN_HEADER) or (auth[7:] if auth.lower().startswith("bearer ") else "")
                        or request.cookies.get(TOKEN_COOKIE) or "")
            if not secrets.compare_digest(supplied.encode(), token.encode()):
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"detail": "access token required"}, status_code=401)
                return HTMLResponse(_TOKEN_PAGE, status_code=401)
        if request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in ("application/json", "application/octet-stream"):
                return JSONResponse({"detail": "POST bodies must be application/json (or the file's bytes for an "
                                               "upload)"}, status_code=415)
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/") or request.url.path == "/":
            response.headers.setdefault("Cache-Control", "no-store")
        elif request.url.path.startswith("/static/"):  # revalidate, so an upgrade is never half-cached
            response.headers.setdefault("Cache-Control", "no-cache")
        return response

    @app.exception_handler(EvidenceNLPError)
    async def _user_error(request: Request, exc: EvidenceNLPError) -> JSONResponse:
        status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 400
        return JSONResponse({"detail": str(exc)}, status_code=status)

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(static_dir() / "index.html", media_type="text/html")

    @app.get("/api/meta")
    def meta(store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        return {"inspector": inspector or "", "vocabulary": vocab.to_dict(), "schema_version": SCHEMA_VERSION,
                "path_import": allow_path_import, "database": db_path.name,
                "assessments": [{**a.to_dict(), "progress": store.progress(a.id)} for a in store.assessments()]}

    @app.get("/api/queue")
    def queue(assessment_id: int | None = None, filter: str = "all", order: str = "file",
              store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        if filter not in FILTERS:
            raise ReviewError(f"unknown filter {filter!r}; expected one of {', '.join(FILTERS)}")
        if order not in ORDERS:
            raise ReviewError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
        items = store.queue(assessment_id, order, **FILTERS[filter])
        return {"items": [i.to_dict() for i in items], "progress": store.progress(assessment_id)}

    @app.get("/api/notes/{note_id}")
    def note(note_id: int, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        return store.note(note_id).to_dict()

    def _based_on(body: DecisionIn) -> object:
        return body.based_on if "based_on" in body.model_fields_set else ANY

    @app.post("/api/notes/{note_id}/confirm")
    def confirm(note_id: int, body: DecisionIn, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        labels = body.labels.to_labels() if body.labels else None
        store.confirm(note_id, body.inspector, labels, body.rationale, client="web", based_on=_based_on(body))
        return store.note(note_id).to_dict()

    @app.post("/api/notes/{note_id}/skip")
    def skip(note_id: int, body: DecisionIn, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        store.skip(note_id, body.inspector, body.rationale, client="web", based_on=_based_on(body))
        return store.note(note_id).to_dict()

    @app.post("/api/notes/{note_id}/undo")
    def undo(note_id: int, body: DecisionIn, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        if store.undo(note_id, body.inspector, client="web", based_on=_based_on(body)) is None:
            raise ReviewError("nothing to undo: this note has no decision in force")
        return store.note(note_id).to_dict()

    @app.get("/api/summary")
    def summary(assessment_id: int | None = None, store: ReviewStore = Depends(get_store)) -> dict[str, Any]:
        return {"key_questions": store.summary(assessment_id), "progress": store.progress(assessment_id)}

    @app.get("/api/export")
    def export(assessment_id: int | None = None, format: str = Query("csv", pattern="^(csv|jsonl)$"),
               store: ReviewStore = Depends(get_store)) -> FileResponse:
        name = (store.assessment(assessment_id).name if assessment_id is not None else "all")
        folder = Path(tempfile.mkdtemp(prefix="evidencenlp-export-"))
        out = folder / f"confirmed.{format}"
        store.export(out, assessment_id)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "assessment"
        return FileResponse(out, filename=f"confirmed-{safe}.{format}",
                            media_type="text/csv" if format == "csv" else "application/x-ndjson",
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    def _start(path: Path, source: str, text_column: str, options: dict[str, Any], cleanup: Path | None) -> Job:
        job = Job(uuid.uuid4().hex, source, rows_total=count_rows(path))
        jobs[job.id] = job

        def progress(n: int) -> None:
            with job.lock:
                job.rows_done += n

        def work() -> None:
            try:
                with ReviewStore(db_path, create=False, vocabulary=vocab) as store:
                    summary = store.import_notes(path, text_column, suggesters.get, source_name=source,
                                                 progress=progress, **options)
                with job.lock:
                    job.summary, job.state = summary.to_dict(), "done"
            except EvidenceNLPError as exc:
                with job.lock:
                    job.error, job.state = str(exc), "failed"
            except Exception as exc:  # noqa: BLE001 - reported to the page; no note text in the log
                log.error("import of an uploaded file failed: %s", type(exc).__name__)
                with job.lock:
                    job.error, job.state = f"the import failed unexpectedly ({type(exc).__name__})", "failed"
            finally:
                if cleanup is not None:
                    shutil.rmtree(cleanup, ignore_errors=True)

        threading.Thread(target=work, name=f"import-{job.id[:8]}", daemon=True).start()
        return job

    @app.post("/api/upload")
    async def upload(request: Request, filename: str, text_column: str = "text", assessment: str | None = None,
                     location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                     end_date: str | None = None) -> dict[str, Any]:
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
        options = {"assessment": assessment or None, "location": location, "service_type": service_type or None,
                   "start_date": start_date or None, "end_date": end_date or None}
        return _start(target, name, text_column or "text", options, folder).to_dict()

    @app.post("/api/import")
    def import_path(body: ImportIn) -> dict[str, Any]:
        if not allow_path_import:
            raise ReviewError("importing a path is only possible when the page is served on this computer "
                              "(127.0.0.1); upload the file instead")
        path = Path(body.path).expanduser()
        table_format(path)
        if not path.is_file():
            raise ReviewError(f"{path}: file not found")
        options = {"assessment": body.assessment or None, "location": body.location,
                   "service_type": body.service_type or None, "start_date": body.start_date or None,
                   "end_date": body.end_date or None}
        return _start(path, path.name, body.text_column or "text", options, None).to_dict()

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        if job_id not in jobs:
            raise NotFoundError(f"no import job {job_id}")
        return jobs[job_id].to_dict()

    return app


_TOKEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Access token needed</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>Access token needed</h1>
<p>This review page is shared on the network, so it needs the access token that
<code>evidencenlp serve</code> printed when it started. Open the full address it printed
(it ends in <code>?token=…</code>); your browser will remember it until it is closed.</p>
</body></html>"""
