"""A local publisher: an HTTP server on 127.0.0.1 with Range support and ways to misbehave.

Each route serves bytes at a path and can be told to answer slowly, to close
the connection part-way through (once), or to ignore Range requests.
"""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from medcodes.fetch.releases import ReleaseFile

HCPCS_DATA = Path(__file__).resolve().parents[1] / "data" / "hcpcs"


@dataclass
class Route:
    body: bytes
    delay: float = 0.0  # seconds before the response starts
    cut_after: int | None = None  # send only this many body bytes, then close (the first time only)
    ranges: bool = True  # False: ignore Range and always send the whole file


@dataclass
class Publisher:
    url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)

    def serve(self, path: str, body: bytes, *, delay: float = 0.0, cut_after: int | None = None,
              ranges: bool = True) -> None:
        self.routes[path] = Route(body, delay, cut_after, ranges)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        pub = self.server.publisher
        rng = self.headers.get("Range")
        pub.requests.append((self.path, rng))
        route = pub.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        time.sleep(route.delay)
        start = int(m.group(1)) if rng and route.ranges and (m := re.fullmatch(r"bytes=(\d+)-", rng)) else 0
        size = len(route.body)
        if start >= size and start:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        body = route.body[start:]
        if route.cut_after is not None:
            body, route.cut_after = body[:route.cut_after], None
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    publisher: Publisher

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (timeout tests) breaks the pipe; that is expected


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def hcpcs_zip(member: str = "HCPC2025_JAN_ANWEB_fixture.txt", drop: tuple[str, ...] = ()) -> bytes:
    """A tiny CMS HCPCS zip from the test fixture, leaving out the codes in `drop`."""
    lines = (HCPCS_DATA / "HCPC2025_JAN_ANWEB_fixture.txt").read_bytes().split(b"\r\n")
    kept = [ln for ln in lines if ln[:5].decode() not in drop]
    return make_zip({member: b"\r\n".join(kept), "proc_notes_JAN2025.txt":
                     (HCPCS_DATA / "proc_notes_JAN2025.txt").read_bytes()})


def release_file(release: str, effective: str, file: str, system: str = "hcpcs", publisher: str = "cms",
                 members: tuple[str, ...] = ("HCPC*ANWEB*.txt",)) -> ReleaseFile:
    return ReleaseFile(system, release, effective, file, publisher, f"/files/zip/{file}", "hcpcs", members)


@contextmanager
def running() -> Iterator[Publisher]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.publisher = Publisher(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.publisher
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
