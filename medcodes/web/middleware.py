"""Headers every response gets: CORS for reading the API and FHIR, and security headers for pages;
and the index each request reads."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..app.http import public_url
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
        if scope["path"].startswith(_CROSS_ORIGIN) and scope["method"] == "OPTIONS" and _is_preflight(scope):
            await _preflight(send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), scope, message["status"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_headers(headers: MutableHeaders, scope: Scope, status: int) -> None:
    """The headers of every response, set here and by the server-error handler (whose 500s leave
    the app outside this middleware)."""
    path, method = scope["path"], scope["method"]
    _relative_location(headers, scope)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if path.startswith(_CROSS_ORIGIN) and method in _READ_METHODS:
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Access-Control-Expose-Headers"] = "ETag, Link"
    if path.startswith("/static/") and status == 200:
        versioned = b"v=" in scope.get("query_string", b"")
        headers["Cache-Control"] = STATIC_CACHE if versioned else STATIC_CACHE_UNVERSIONED
    if headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")


def _relative_location(headers: MutableHeaders, scope: Scope) -> None:
    """Starlette's trailing-slash redirects (/fhir -> /fhir/) write an absolute Location from the
    Host header the client sent: a forged Host would send the next request (or a cache's copy) to
    another site. Such a Location points at this server as users reach it instead."""
    location = headers.get("location")
    if not location or location.startswith("/"):
        return
    parts = urlsplit(location)
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    server = scope.get("server")
    if parts.netloc and parts.netloc in (host, f"{server[0]}:{server[1]}" if server else None):
        headers["location"] = public_url(urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)))


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
