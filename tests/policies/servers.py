"""A real HTTP server on 127.0.0.1 in a thread, answering from a table of routes, recording every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_answer(obj: Any, status: int = 200, **headers: str) -> Answer:
    return Answer(status, json.dumps(obj).encode(), "application/json", dict(headers))


Route = Callable[[Request], Answer]


@dataclass
class Server:
    url: str
    requests: list[Request]
    routes: dict[str, Route | Answer]

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


@contextmanager
def serve(routes: dict[str, Route | Answer]) -> Iterator[Server]:
    """Serve `routes` (path -> Answer, or a function of the request) until the block ends; 404 otherwise."""
    requests: list[Request] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlparse(self.path)
            req = Request(parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                          {k.lower(): v for k, v in self.headers.items()}, time.monotonic())
            with lock:
                requests.append(req)
            route = routes.get(parts.path)
            answer = Answer(404, b"not found", "text/plain") if route is None else (
                route if isinstance(route, Answer) else route(req))
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for k, v in answer.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", requests, routes)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
