"""Real HTTP servers on 127.0.0.1 (or another loopback address) answering from a table of
routes: a route is a function of the request handler and the site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Site:
    def __init__(self, host: str) -> None:
        self.hits: list[str] = []
        self.routes: dict[str, Any] = {}
        self.sent = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.hits.append(self.path)
                site.routes.get(self.path, _not_found)(self, site)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"


def _not_found(h: BaseHTTPRequestHandler, _site: Site) -> None:
    h.send_response(404)
    h.send_header("Content-Length", "0")
    h.end_headers()


def answer(status: int, body: bytes = b"", **headers: str) -> Any:
    def route(h: BaseHTTPRequestHandler, _site: Site) -> None:
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            h.send_header(k.replace("_", "-"), v)
        h.end_headers()
        h.wfile.write(body)
    return route


@contextmanager
def site(host: str = "127.0.0.1") -> Iterator[Site]:
    try:
        site = Site(host)
    except OSError:
        pytest.skip(f"cannot listen on {host}")
    thread = threading.Thread(target=site.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        site.httpd.shutdown()
        site.httpd.server_close()
