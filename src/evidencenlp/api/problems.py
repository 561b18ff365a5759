"""Error answers of the suggestion API: one clear line, never the note text or any other value sent.

FastAPI's own 422 answer repeats the input it could not accept, which here is a note; it is
replaced by :func:`validation_error`, which names *where* the body does not fit (``notes[3]``) and
what was expected. Unexpected failures are logged by kind and code location only.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

#: problems listed in one answer (a list of 1,000 numbers has 1,000)
MAX_PROBLEMS = 20
#: a field name sent by the client is repeated only when it looks like one (not a note pasted as a key)
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
#: pydantic error types → what was expected, in words
EXPECTED: dict[str, str] = {
    "string_type": "expected a string (the note) or null",
    "list_type": "expected a list",
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "model_attributes_type": "expected a JSON object",
    "dict_type": "expected a JSON object",
    "json_invalid": "the body is not valid JSON",
    "json_type": "the body is not valid JSON",
}


class ApiError(Exception):
    """An answer with ``status`` and a one-line ``message`` (plus optional headers)."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


def where(loc: Iterable[Any]) -> str:
    """A readable place in the body: ``("body", "notes", 3)`` → ``notes[3]``; the body itself → ``body``."""
    out = ""
    for part in loc:
        if part == "body" and not out:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = str(part) if _FIELD_NAME.match(str(part)) else "(a field name)"
            out += f".{name}" if out else name
    return out or "body"


def describe(error: Mapping[str, Any]) -> dict[str, str]:
    """One pydantic/FastAPI validation error as ``{"where", "problem"}``, without the value sent."""
    kind = str(error.get("type", ""))
    if kind in ("json_invalid", "json_type"):
        loc = list(error.get("loc", ()))
        at = f" (at character {loc[-1]})" if loc and isinstance(loc[-1], int) else ""
        return {"where": "body", "problem": EXPECTED[kind] + at}
    return {"where": where(error.get("loc", ())), "problem": EXPECTED.get(kind, f"is not valid ({kind})")}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 for a body that does not fit: each place and what was expected (FastAPI's default echoes the input)."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    problems = [describe(e) for e in errors[:MAX_PROBLEMS]]
    more = f" (and {len(errors) - MAX_PROBLEMS:,} more)" if len(errors) > MAX_PROBLEMS else ""
    detail = "the request body does not fit the API: " + "; ".join(
        f"{p['where']}: {p['problem']}" for p in problems[:3]) + ("; …" if len(problems) > 3 else "") + more
    return JSONResponse({"detail": detail, "problems": problems}, status_code=422)


async def api_error(request: Request, exc: Exception) -> JSONResponse:
    """An :class:`ApiError` as its status and ``{"detail": message}``."""
    assert isinstance(exc, ApiError)
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's errors (404 unknown address, 405 wrong method) as JSON."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def log_failure(what: str, exc: BaseException) -> None:
    """Log an unexpected exception by its type and code locations only (its message may hold note text)."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s failed (%s); where:\n%s", what, type(exc).__name__, frames)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """500 naming only the kind of failure."""
    log_failure(f"{request.method} {request.url.path}", exc)
    return JSONResponse({"detail": f"the server could not do this ({type(exc).__name__}); see its log"},
                        status_code=500)
