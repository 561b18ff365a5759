"""What the routes share: the app's settings and services (:class:`ReviewContext`), and their dependencies.

``create_app`` builds one :class:`ReviewContext` and keeps it in ``app.state.review``; routes ask
for it with ``Depends(get_context)``, or for a store opened for the request with
``Depends(get_store)`` (closed when the response is sent).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, Request

from evidencenlp.encoder.base import Embedder
from evidencenlp.review.importer import SuggesterLike, SuggesterSource
from evidencenlp.review.labels import Vocabulary
from evidencenlp.review.store import ReviewStore
from evidencenlp.web.jobs import JobRunner
from evidencenlp.web.uploads import UploadArea

#: the largest id SQLite can hold: a larger one in a request is a 422, never a server error
MAX_ID = 2**63 - 1


class Suggesters:
    """Loads the real suggester once, on the first import that needs it (thread-safe)."""

    def __init__(self, given: SuggesterSource | None, models: Path | None) -> None:
        self.given = given
        self.models = models
        self._loaded: SuggesterLike | None = None
        self._lock = threading.Lock()

    def get(self) -> SuggesterLike:
        """The suggester (loaded now if it was not yet)."""
        with self._lock:
            if self._loaded is None:
                if self.given is not None:
                    self._loaded = self.given if isinstance(self.given, SuggesterLike) else self.given()
                else:
                    from evidencenlp.suggest import Suggester

                    self._loaded = Suggester.load(models=self.models)
            return self._loaded


@dataclass(frozen=True)
class ReviewContext:
    """One review app's database, vocabulary, suggester, job runner and page settings."""

    db_path: Path
    vocabulary: Vocabulary
    suggesters: Suggesters
    runner: JobRunner
    inspector: str | None = None
    allow_path_import: bool = True
    uploads: UploadArea = field(default_factory=UploadArea)
    max_upload_bytes: int = 20 * 1024 * 1024
    max_rows: int = 50_000
    #: ids of the jobs this app started (cancelled at shutdown)
    jobs: list[str] = field(default_factory=list)
    #: the embedder of the server's backend, for the assessment panel (None: the torch one)
    embedder: Embedder | None = None

    def open_store(self) -> ReviewStore:
        """A new connection to the (existing) database; close it after use."""
        return ReviewStore(self.db_path, create=False, vocabulary=self.vocabulary)


def get_context(request: Request) -> ReviewContext:
    """The app's :class:`ReviewContext` (a FastAPI dependency)."""
    context: ReviewContext = request.app.state.review
    return context


def get_store(context: ReviewContext = Depends(get_context)) -> Iterator[ReviewStore]:
    """A store for one request, closed afterwards (a FastAPI dependency)."""
    store = context.open_store()
    try:
        yield store
    finally:
        store.close()
