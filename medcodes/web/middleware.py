"""Headers every response gets: CORS for reading the API and FHIR, and security headers for pages;
and the index each request reads."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..index.live import LiveCatalog

# Pages load nothing from elsewhere and run only our own script: a strict policy costs nothing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none';"
       " base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
_CROSS_ORIGIN = ("/api/", "/fhir/", "/fhir", "/openapi.json")
_READ_METHODS = ("GET", "HEAD")
# Static files are linked with ?v=<hash of the templates and static files>: a new release changes the
# address, so a browser may keep each version for a year without asking again.
STATIC_CACHE = "public, max-age=31536000, immutable"
STATIC_CACHE_UNVERSIONED = "public, max-age=3600"


class HeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        cross = path.startswith(_CROSS_ORIGIN)
        if cross and method == "OPTIONS" and _is_preflight(scope):
            await _preflight(send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if cross and method in _READ_METHODS:
                    headers["Access-Control-Allow-Origin"] = "*"
                    headers["Access-Control-Expose-Headers"] = "ETag, Link"
                if path.startswith("/static/") and message["status"] == 200:
                    versioned = b"v=" in scope.get("query_string", b"")
                    headers["Cache-Control"] = STATIC_CACHE if versioned else STATIC_CACHE_UNVERSIONED
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _is_preflight(scope: Scope) -> bool:
    return any(k == b"access-control-request-method" for k, _ in scope["headers"])


async def _preflight(send: Send) -> None:
    """Cross-origin reads only: POST /validate is for same-origin pages and server-side clients."""
    headers = [(b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", b"GET, HEAD"),
               (b"access-control-allow-headers", b"Accept, If-None-Match"), (b"access-control-max-age", b"86400"),
               (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class IndexMiddleware:
    """Pins the index a request reads (`request.state.catalog`) when it starts: a build renaming a
    new file into place switches the requests that follow, never one half way."""

    def __init__(self, app: ASGIApp, live: LiveCatalog) -> None:
        self.app = app
        self.live = live

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["catalog"] = self.live.current()
        await self.app(scope, receive, send)
