"""The suggestion API's app factory: :func:`create_api`.

It wires the pieces, each in its own module: :mod:`~evidencenlp.api.gate` (token, body size and
time), :mod:`~evidencenlp.api.warm` (models loaded once, in the background),
:mod:`~evidencenlp.api.runner` (bounded batches in threads), :mod:`~evidencenlp.api.routes` (the
endpoints) and :mod:`~evidencenlp.api.problems` (error answers that never echo a note).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from evidencenlp import __version__
from evidencenlp.api import threads
from evidencenlp.api.catalogue import describe_frameworks
from evidencenlp.api.gate import RequestGate
from evidencenlp.api.limits import ApiLimits
from evidencenlp.api.problems import ApiError, api_error, http_error, unexpected_error, validation_error
from evidencenlp.api.routes import ApiContext, router
from evidencenlp.api.runner import BoundedRunner
from evidencenlp.api.warm import SuggesterSource, WarmSuggester
from evidencenlp.frameworks import Framework, load_frameworks

DOCS_PATH, OPENAPI_PATH = "/docs", "/openapi.json"
#: paths open without the token: whether the API is ready, and its own documentation (no data in either)
PUBLIC_PATHS: tuple[str, ...] = ("/v1/health", DOCS_PATH, f"{DOCS_PATH}/oauth2-redirect", OPENAPI_PATH)
DESCRIPTION = """Explainable suggestions that place health and care evidence notes against CQC's frameworks:
key question, quality statement, evidence category and rating band, each with the framework sentence
that explains it. Suggestions are for an inspector to confirm or correct; nothing is rated
automatically.

Every endpoint but `/v1/health` needs `Authorization: Bearer <token>`. Notes are never logged, and
no error answer repeats them."""


def create_api(source: SuggesterSource, token: str, limits: ApiLimits | None = None, *,
               frameworks: Mapping[str, Framework] | None = None, backend: str | None = None,
               on_load_failure: Callable[[str], None] | None = None) -> FastAPI:
    """The suggestion API as a FastAPI app.

    ``source``: a :class:`~evidencenlp.tagging.SuggesterSpec` (the models to load, at start-up, in a
    background thread) or a zero-argument function returning a suggester (tests pass fakes).
    ``token``: the bearer token every endpoint but health requires. ``limits``: the bounds on one
    request (default :class:`ApiLimits`). ``frameworks``: the loaded frameworks ``/v1/frameworks``
    describes (default: the packaged ones, which the suggester uses). ``backend``: shown by health
    (default: the spec's). ``on_load_failure`` is called with the reason when the models cannot load.
    """
    if not token:
        raise ValueError("the API needs a non-empty token")
    limits = limits or ApiLimits()
    context = ApiContext(warm=WarmSuggester(source, on_load_failure), limits=limits,
                         catalogue=describe_frameworks(frameworks if frameworks is not None else load_frameworks()),
                         backend=backend or getattr(source, "backend", None))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threads.quiet_tokenizer_threads()  # before the runner's and the loader's threads start
        context.runner = BoundedRunner(limits.concurrency)
        context.warm.start()
        try:
            yield
        finally:
            context.runner.close()

    app = FastAPI(title="evidencenlp suggestion API", version=__version__, description=DESCRIPTION,
                  docs_url=DOCS_PATH, redoc_url=None, openapi_url=OPENAPI_PATH, lifespan=lifespan)
    app.state.api = context
    app.add_middleware(RequestGate, token=token, limits=limits, public=PUBLIC_PATHS)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
    app.include_router(router)
    return app
