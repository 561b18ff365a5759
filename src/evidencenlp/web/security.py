"""Who may use the review page: loopback ``Host`` headers, the access token, JSON-only POSTs, headers.

By default ``evidencenlp serve`` binds to 127.0.0.1 and the app accepts only loopback ``Host``
headers (so another web site cannot reach it through DNS rebinding). When bound to any other address
it is created with an access ``token``: every request must carry it as the ``X-Access-Token``
header, an ``Authorization: Bearer`` header, or the cookie set by a first visit to ``/?token=…``.
POST bodies must be JSON (or the raw bytes of an upload), which a cross-site form cannot send.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

TOKEN_COOKIE = "evidencenlp_token"
TOKEN_HEADER = "x-access-token"
LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1", "[::1]")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
}
POST_TYPES: tuple[str, ...] = ("application/json", "application/octet-stream")

TOKEN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Access token needed</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 4em auto; line-height: 1.5">
<h1>Access token needed</h1>
<p>This review page is shared on the network, so it needs the access token that
<code>evidencenlp serve</code> printed when it started. Open the full address it printed
(it ends in <code>?token=…</code>); your browser will remember it until it is closed.</p>
</body></html>"""

CallNext = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` — addresses other computers cannot reach."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A fresh access token for a non-loopback server."""
    return secrets.token_urlsafe(24)


class AccessGuard:
    """The HTTP middleware (``BaseHTTPMiddleware`` dispatch) that checks every request, then adds headers.

    ``allowed_hosts``: the ``Host`` names accepted (None: any). ``token``: required on every request
    when given.
    """

    def __init__(self, token: str | None, allowed_hosts: Sequence[str] | None) -> None:
        self.token = token
        self.hosts = {h.lower() for h in allowed_hosts} if allowed_hosts is not None else None

    async def __call__(self, request: Request, call_next: CallNext) -> Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/") or request.url.path == "/":
            response.headers.setdefault("Cache-Control", "no-store")
        elif request.url.path.startswith("/static/"):  # revalidate, so an upgrade is never half-cached
            response.headers.setdefault("Cache-Control", "no-cache")
        return response

    def _refuse(self, request: Request) -> Response | None:
        """The answer to a request that may not go on (or a redirect that stores the token); else None."""
        host = (request.url.hostname or "").lower()
        if self.hosts is not None and host not in self.hosts:
            return JSONResponse({"detail": "unexpected Host header; open the page at http://127.0.0.1"},
                                status_code=400)
        token = self.token
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
                return HTMLResponse(TOKEN_PAGE, status_code=401)
        if request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in POST_TYPES:
                return JSONResponse({"detail": "POST bodies must be application/json (or the file's bytes for an "
                                               "upload)"}, status_code=415)
        return None
