"""The door of the suggestion API: the bearer token, then the request body's type, size and time.

:class:`RequestGate` is plain ASGI middleware, so it answers before FastAPI parses anything: a
request without the right token never has its body read; a body is read in full (at most
``max_body_bytes``, within the time limit) and only then handed to the app. Its answers are JSON
``{"detail": "..."}`` and never repeat what the client sent (no token, no note text).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from evidencenlp.api.limits import ApiLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the key of a request's deadline (event-loop time) in its ASGI scope state, for the routes' time limit
DEADLINE_KEY = "evidencenlp_deadline"
#: the environment variable the token is read from
TOKEN_ENV = "EVIDENCENLP_API_TOKEN"
#: methods whose body is read (and bounded) here
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: what to send, said once for every 401
HOW_TO_AUTHENTICATE = ("send the header 'Authorization: Bearer <token>' with the token the API printed when it "
                       f"started (or the one in {TOKEN_ENV})")


def new_token() -> str:
    """A fresh random access token (URL-safe, 32 bytes of randomness)."""
    return secrets.token_urlsafe(32)


def token_matches(given: str | None, expected: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time (False for None)."""
    return given is not None and secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header among raw ASGI ``headers``; None if absent."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, credentials = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None


class GateRefusal(Exception):
    """A request the gate answers itself: an HTTP status, a message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Send a whole JSON response with ``status`` through the ASGI ``send`` callable."""
    payload = json.dumps(body).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def declared_length(headers: list[tuple[bytes, bytes]], limit: int) -> int | None:
    """The ``Content-Length`` of a request (None when absent). Refuses a malformed or too large one."""
    raw = _header(headers, b"content-length")
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise GateRefusal(400, "the Content-Length header is not a whole number of bytes")
    length = int(raw.strip())
    if length > limit:
        raise GateRefusal(413, f"the request body is {length:,} bytes; at most {limit:,} are accepted "
                               "(send the notes in several requests)")
    return length


def check_json_type(headers: list[tuple[bytes, bytes]]) -> None:
    """Refuse (415) a body that is not declared as JSON."""
    kind = (_header(headers, b"content-type") or "").split(";")[0].strip().lower()
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise GateRefusal(415, "send the body as JSON with the header 'Content-Type: application/json'")


async def read_body(receive: Receive, declared: int | None, limit: int, deadline: float, seconds: float) -> bytes:
    """The whole request body: at most ``limit`` bytes, no more than ``declared`` (its Content-Length),
    received before ``deadline`` (event-loop time; ``seconds`` is the limit named in the message).
    Raises :class:`GateRefusal` (413, 400 or 408) otherwise, and :class:`ConnectionAbortedError`
    when the client goes away."""
    loop = asyncio.get_running_loop()
    parts: list[bytes] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
        except asyncio.TimeoutError:
            raise GateRefusal(408, f"the request body did not arrive within {seconds:g} s") from None
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("the client went away while sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise GateRefusal(413, f"the request body is more than {limit:,} bytes; at most {limit:,} are accepted "
                                   "(send the notes in several requests)")
        if declared is not None and size > declared:
            raise GateRefusal(400, "the request body is longer than its Content-Length header says")
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    if declared is not None and size != declared:
        raise GateRefusal(400, "the request body is shorter than its Content-Length header says")
    return b"".join(parts)


class RequestGate:
    """ASGI middleware: token on every path but ``public``; bounded JSON body for POST/PUT/PATCH.

    ``token`` is the bearer token every non-public request must carry; ``public`` the paths open to
    all (health and the API's own documentation, which hold no data). The body is read here, within
    ``limits.timeout_seconds`` and ``limits.max_body_bytes``, then replayed to the app.
    """

    def __init__(self, app: ASGIApp, token: str, limits: ApiLimits, public: Collection[str]) -> None:
        self.app, self.token, self.limits, self.public = app, token, limits, frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = list(scope.get("headers", []))
        try:
            if scope["path"] not in self.public and not token_matches(bearer_token(headers), self.token):
                given = _header(headers, b"authorization") is not None
                raise GateRefusal(401, ("the access token is not right: " if given else "an access token is "
                                        "required: ") + HOW_TO_AUTHENTICATE, {"WWW-Authenticate": "Bearer"})
            if scope["method"] not in BODY_METHODS:
                await self.app(scope, receive, send)
                return
            check_json_type(headers)
            limit, seconds = self.limits.max_body_bytes, self.limits.timeout_seconds
            deadline = asyncio.get_running_loop().time() + seconds
            scope.setdefault("state", {})[DEADLINE_KEY] = deadline
            body = await read_body(receive, declared_length(headers, limit), limit, deadline, seconds)
        except GateRefusal as refusal:
            await send_json(send, refusal.status, {"detail": refusal.message},
                            {**refusal.headers, "connection": "close"})
            return
        except ConnectionAbortedError:
            return  # nobody is left to answer
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then waits on the real one (for a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
