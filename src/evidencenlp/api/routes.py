"""The endpoints: ``POST /v1/suggest``, ``GET /v1/health``, ``GET /v1/frameworks``.

Each reads the :class:`ApiContext` on ``app.state.api``. Suggesting (and turning the suggestions
into JSON) runs in the :class:`~evidencenlp.api.runner.BoundedRunner`'s threads, never on the
event loop. Nothing here logs or answers with note text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

from evidencenlp.api import threads
from evidencenlp.api.bodies import ErrorOut, FrameworksOut, HealthOut, SuggestIn, SuggestOut
from evidencenlp.api.gate import DEADLINE_KEY
from evidencenlp.api.limits import ApiLimits
from evidencenlp.api.problems import ApiError, log_failure
from evidencenlp.api.runner import BoundedRunner, Overloaded, TimedOut
from evidencenlp.api.warm import FAILED, LOADING, NoteSuggester, WarmSuggester

#: seconds a client is told to wait before asking again while the models load or the API is busy
RETRY_AFTER = "5"

#: documents the bearer token in OpenAPI (the "Authorize" button of /docs); the gate enforces it
bearer = HTTPBearer(auto_error=False, description="The token the API printed at start-up, or EVIDENCENLP_API_TOKEN.")
router = APIRouter(prefix="/v1")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no access token, or not the right one"},
    503: {"model": ErrorOut, "description": "the models are still loading, or the API is busy or out of time"},
}


@dataclass
class ApiContext:
    """What the routes share: the warm suggester, the limits, the frameworks' description and the runner."""

    warm: WarmSuggester
    limits: ApiLimits
    catalogue: dict[str, Any]
    backend: str | None = None
    runner: BoundedRunner | None = field(default=None, repr=False)

    def suggester(self) -> NoteSuggester:
        """The warm suggester; :class:`ApiError` 503 while it loads or when loading failed."""
        suggester = self.warm.get()
        if suggester is not None:
            return suggester
        if self.warm.state == FAILED:
            raise ApiError(503, f"the models could not be loaded: {self.warm.error}")
        raise ApiError(503, f"the models are loading ({self.warm.seconds_loading:.0f} s so far); "
                            "ask again shortly (GET /v1/health says when they are ready)", {"Retry-After": RETRY_AFTER})


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context


def check_notes(notes: Sequence[str | None], limits: ApiLimits) -> None:
    """Refuse (422) too many notes, notes too long (naming their indices) or too many characters in all."""
    if len(notes) > limits.max_notes:
        raise ApiError(422, f"{len(notes):,} notes in one request; at most {limits.max_notes:,} are accepted "
                            "(send them in several requests)")
    long = [i for i, note in enumerate(notes) if note is not None and len(note) > limits.max_note_chars]
    if long:
        shown = ", ".join(f"notes[{i}]" for i in long[:10]) + (f" and {len(long) - 10:,} more" if len(long) > 10 else "")
        raise ApiError(422, f"{shown} {'is' if len(long) == 1 else 'are'} longer than {limits.max_note_chars:,} "
                            "characters, the most one note may have")
    total = sum(len(note) for note in notes if note is not None)
    if total > limits.max_total_chars:
        raise ApiError(422, f"the notes have {total:,} characters in all; at most {limits.max_total_chars:,} are "
                            "accepted in one request (send them in several requests)")


def suggest_json(suggester: NoteSuggester, notes: list[str | None], sentences: bool, evidence: bool) -> bytes:
    """The ``{"suggestions": [...]}`` answer as JSON bytes (run in a worker thread: this is the CPU work)."""
    threads.for_request(len(notes))
    results = suggester.suggest_many(notes, sentences=sentences, evidence=evidence)
    payload = {"suggestions": [r.to_dict() if r is not None else None for r in results]}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _seconds_left(request: Request, limits: ApiLimits) -> float:
    deadline = request.scope.get("state", {}).get(DEADLINE_KEY)
    if deadline is None:
        return limits.timeout_seconds
    return max(float(deadline) - asyncio.get_running_loop().time(), 0.0)


@router.post("/suggest", response_model=SuggestOut, dependencies=[Security(bearer)],
             responses={**ERRORS, 413: {"model": ErrorOut, "description": "the body is too large"},
                        415: {"model": ErrorOut, "description": "the body is not declared as JSON"},
                        422: {"model": ErrorOut, "description": "the body does not fit, or breaks a limit"}})
async def suggest(body: SuggestIn, request: Request) -> Response:
    """Suggest for each note: one object per note in the output contract, ``null`` for a blank note.

    At most ``max_notes`` notes (default 1,000), ``max_note_chars`` characters per note (20,000) and
    ``max_total_chars`` in all (2,000,000); the whole request must finish within ``timeout_seconds``
    (60). ``GET /v1/frameworks`` shows the limits in force.
    """
    context = _context(request)
    suggester = context.suggester()
    check_notes(body.notes, context.limits)
    runner = context.runner
    assert runner is not None, "the runner is created when the app starts"
    try:
        payload = await runner.run(lambda: suggest_json(suggester, body.notes, body.sentences, body.evidence),
                                   _seconds_left(request, context.limits))
    except Overloaded:
        raise ApiError(503, f"the API is busy: no batch slot became free within "
                            f"{context.limits.timeout_seconds:g} s; try again later", {"Retry-After": RETRY_AFTER}) from None
    except TimedOut:
        raise ApiError(503, f"suggesting took longer than {context.limits.timeout_seconds:g} s, the most one request "
                            "may take; send fewer notes per request", {"Retry-After": RETRY_AFTER}) from None
    except Exception as exc:  # a bug in a stage: its message may hold note text, so name the kind only
        log_failure("suggesting", exc)
        raise ApiError(500, f"the suggester failed on this request ({type(exc).__name__}); see the server's "
                            "log") from None
    return Response(payload, media_type="application/json")


@router.get("/health", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "the models are loading, or could not be loaded"}})
async def health(request: Request) -> JSONResponse:
    """200 with ``status: ready`` once the models are loaded and warm; 503 with ``loading`` or ``failed`` before.

    Needs no token (it tells nothing but whether the API can suggest).
    """
    context = _context(request)
    warm = context.warm
    suggester = warm.get()
    if suggester is not None:
        return JSONResponse(HealthOut(status="ready", model_version=suggester.model_version,
                                      backend=context.backend, load_seconds=round(warm.load_seconds or 0.0, 2)
                                      ).model_dump())
    if warm.state == LOADING:
        body = HealthOut(status=LOADING, backend=context.backend,
                         detail=f"the models are loading ({warm.seconds_loading:.0f} s so far)")
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": RETRY_AFTER})
    body = HealthOut(status=FAILED, backend=context.backend, detail=f"the models could not be loaded: {warm.error}")
    return JSONResponse(body.model_dump(), status_code=503)


@router.get("/frameworks", response_model=FrameworksOut, dependencies=[Security(bearer)], responses={401: ERRORS[401]})
async def frameworks(request: Request) -> JSONResponse:
    """The frameworks loaded (id, title, version) and the label space: key questions, quality statements,
    bands, evidence categories, principles and directions, each with its title and text; the model's
    id once loaded; and the limits on one request."""
    context = _context(request)
    suggester = context.warm.get()
    return JSONResponse({**context.catalogue, "model_version": suggester.model_version if suggester else None,
                         "limits": context.limits.to_dict()})
