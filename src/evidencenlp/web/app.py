"""``create_app``: wires the review app's services, middleware, error handling and routers; no routes here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import ClientDisconnect

from evidencenlp.encoder.base import Embedder
from evidencenlp.errors import EvidenceNLPError
from evidencenlp.review.importer import SuggesterSource
from evidencenlp.review.labels import Vocabulary, load_vocabulary
from evidencenlp.review.models import ConflictError, NotFoundError, TooLargeError
from evidencenlp.review.store import ReviewStore
from evidencenlp.web import assessment, imports, notes, pages, reports
from evidencenlp.web.context import ReviewContext, Suggesters
from evidencenlp.web.imports import MAX_IMPORT_ROWS, MAX_UPLOAD_BYTES
from evidencenlp.web.jobs import JobRunner, ThreadJobRunner
from evidencenlp.web.security import LOOPBACK_HOSTS, AccessGuard
from evidencenlp.web.uploads import BadUploadName, UploadArea

log = logging.getLogger("evidencenlp.review")


def _status(exc: Exception) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, TooLargeError):
        return 413
    if isinstance(exc, BadUploadName):
        return 422
    return 400


def _hide_paths(message: str, db_path: Path) -> str:
    """``message`` without the server's folders: the database is named by its file name only."""
    for shown in sorted({str(db_path.resolve()), str(db_path), str(db_path.resolve().parent), str(db_path.parent)},
                        key=len, reverse=True):
        if shown not in ("", "."):
            message = message.replace(shown, db_path.name if shown.endswith(db_path.name) else "…")
    return message


async def user_error(request: Request, exc: Exception) -> JSONResponse:
    """A user's mistake as JSON: 404 missing, 409 stale decision, 413 too large, 422 bad name, else 400."""
    db_path: Path = request.app.state.db_path
    return JSONResponse({"detail": _hide_paths(str(exc), db_path)}, status_code=_status(exc))


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: a 500 that shows no detail (no path, no note text); its type goes to the log."""
    log.error("request %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return JSONResponse({"detail": f"the server could not do this ({type(exc).__name__}); see its log"},
                        status_code=500)


async def client_gone(request: Request, exc: Exception) -> JSONResponse:
    """A body that ended before its ``Content-Length`` (a client that disconnected, or a lying header):
    one line in the log, no traceback; nothing of the partial body is kept (an upload's part is removed
    by the upload route's own clean-up)."""
    declared = request.headers.get("content-length", "?")
    log.warning("request %s %s: the client disconnected before sending the body it announced (Content-Length %s)",
                request.method, request.url.path, declared[:20])
    return JSONResponse({"detail": "the request body ended before its Content-Length; send it again"},
                        status_code=400)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (404 for an unknown address, 405, …) as JSON without any path of the server."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    return JSONResponse({"detail": _hide_paths(detail, request.app.state.db_path)}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A request that does not fit the API (e.g. an id out of range) as 422, naming the fields only."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()]
    return JSONResponse({"detail": problems}, status_code=422)


def create_app(db_path: Path | str, *, suggester: SuggesterSource | None = None, models: Path | None = None,
               inspector: str | None = None, token: str | None = None,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS, allow_path_import: bool = True,
               vocabulary: Vocabulary | None = None, runner: JobRunner | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_rows: int = MAX_IMPORT_ROWS,
               upload_dir: Path | None = None, embedder: Embedder | None = None) -> FastAPI:
    """The review app for the database at ``db_path`` (created if missing).

    ``suggester`` (an object or a zero-argument factory) is used for imports; by default the
    project's trained :class:`~evidencenlp.suggest.Suggester` is loaded on first need. ``token``
    makes every request require it. ``allowed_hosts`` restricts the ``Host`` header (None: any).
    ``runner`` runs imports (default: a :class:`ThreadJobRunner`; tests may pass an
    :class:`~evidencenlp.web.jobs.InlineJobRunner`). ``max_upload_bytes`` and ``max_rows``
    bound one import from the page. Uploads wait in ``upload_dir`` (default: a private folder in
    the temp folder); folders left there by a server that was killed are deleted now, and this
    app's own when it shuts down. ``embedder`` (the server's ``--backend``; default torch) is the one
    the assessment panel embeds with.
    """
    db_path = Path(db_path)
    vocab = vocabulary or load_vocabulary()
    ReviewStore.open(db_path, vocabulary=vocab).close()  # create or migrate once, up front
    uploads = UploadArea(upload_dir)
    uploads.remove_stale()
    context = ReviewContext(db_path=db_path, vocabulary=vocab, suggesters=Suggesters(suggester, models),
                            runner=runner if runner is not None else ThreadJobRunner(), inspector=inspector,
                            allow_path_import=allow_path_import, uploads=uploads,
                            max_upload_bytes=max_upload_bytes, max_rows=max_rows, embedder=embedder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:  # stopping the server: stop the imports, delete every upload (raw, unredacted files)
            for job_id in list(context.jobs):
                context.runner.cancel(job_id)
            uploads.remove_all()

    app = FastAPI(title="evidencenlp review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.db_path = db_path
    app.state.review = context
    app.state.runner = context.runner
    app.add_middleware(BaseHTTPMiddleware, dispatch=AccessGuard(token, allowed_hosts))
    app.add_exception_handler(EvidenceNLPError, user_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
    app.mount("/static", pages.static_files(), name="static")
    for module in (pages, reports, notes, imports, assessment):
        app.include_router(module.router)
    return app
