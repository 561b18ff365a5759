"""``create_app``: wires the review app's services, middleware, error handling and routers; no routes here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from evidencenlp.errors import EvidenceNLPError
from evidencenlp.review.importer import SuggesterSource
from evidencenlp.review.labels import Vocabulary, load_vocabulary
from evidencenlp.review.models import ConflictError, NotFoundError
from evidencenlp.review.store import ReviewStore
from evidencenlp.review.web import imports, notes, pages, reports
from evidencenlp.review.web.context import ReviewContext, Suggesters
from evidencenlp.review.web.jobs import JobRunner, ThreadJobRunner
from evidencenlp.review.web.security import LOOPBACK_HOSTS, AccessGuard


async def user_error(request: Request, exc: Exception) -> JSONResponse:
    """A user's mistake as JSON: 404 for something missing, 409 for a stale decision, else 400."""
    status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 400
    return JSONResponse({"detail": str(exc)}, status_code=status)


def create_app(db_path: Path | str, *, suggester: SuggesterSource | None = None, models: Path | None = None,
               inspector: str | None = None, token: str | None = None,
               allowed_hosts: Sequence[str] | None = LOOPBACK_HOSTS, allow_path_import: bool = True,
               vocabulary: Vocabulary | None = None, runner: JobRunner | None = None) -> FastAPI:
    """The review app for the database at ``db_path`` (created if missing).

    ``suggester`` (an object or a zero-argument factory) is used for imports; by default the
    project's trained :class:`~evidencenlp.suggest.Suggester` is loaded on first need. ``token``
    makes every request require it. ``allowed_hosts`` restricts the ``Host`` header (None: any).
    ``runner`` runs imports (default: a :class:`ThreadJobRunner`; tests may pass an
    :class:`~evidencenlp.review.web.jobs.InlineJobRunner`).
    """
    db_path = Path(db_path)
    vocab = vocabulary or load_vocabulary()
    ReviewStore.open(db_path, vocabulary=vocab).close()  # create or migrate once, up front

    app = FastAPI(title="evidencenlp review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.db_path = db_path
    app.state.review = ReviewContext(db_path=db_path, vocabulary=vocab, suggesters=Suggesters(suggester, models),
                                     runner=runner if runner is not None else ThreadJobRunner(),
                                     inspector=inspector, allow_path_import=allow_path_import)
    app.state.runner = app.state.review.runner
    app.add_middleware(BaseHTTPMiddleware, dispatch=AccessGuard(token, allowed_hosts))
    app.add_exception_handler(EvidenceNLPError, user_error)
    app.mount("/static", pages.static_files(), name="static")
    for module in (pages, reports, notes, imports):
        app.include_router(module.router)
    return app
