"""How `medcodes serve` runs uvicorn: its HTTP protocol with TCP_NODELAY on every connection, and
the limits uvicorn lacks that keep slow clients from starving real ones.

With `--workers 2` or more, uvicorn hands the listening socket to worker processes, and a socket
rebuilt there from its file descriptor reports protocol 0 instead of TCP, so asyncio skips the
TCP_NODELAY it sets on TCP connections. A response then goes out as two small segments with Nagle's
algorithm on, and every request on a kept-alive connection waited ~40 ms for the client's delayed
ACK (measured: 44 ms per request with 2 workers, 1 ms with 1). The protocol sets the option itself.

uvicorn times out only idle kept-alive connections: a client that sends its headers a byte at a
time, or never finishes its body, holds a connection (and a file descriptor) forever, and enough of
them leave none for real requests. Here a request's headers must arrive within
MEDCODES_HEADER_TIMEOUT seconds of its first byte (or of the connection), its body within
MEDCODES_BODY_TIMEOUT, its headers in at most MAX_HEADER_BYTES; and past MEDCODES_MAX_CONNECTIONS
open connections in a worker, the one that has waited longest for its headers is dropped to make
room (a real client sends its headers at once, so it is never that one).
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import logging
import resource
import socket
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .. import settings
from ..api.fhir.resources import outcome
from ..app.errors import ApiError, Problem, classify
from ..app.http import dumps

log = logging.getLogger("medcodes.web")
MAX_HEADER_BYTES = 64 * 1024
_RESERVED_FDS = 64  # index and store files, the listening socket, logs, a margin

PROTOCOL = "medcodes.web.server:NoDelayProtocol"


def loop(wanted: str = "auto") -> str:
    """uvloop where it is installed (not on Windows), else asyncio's own loop; or the one asked for."""
    if wanted in ("uvloop", "asyncio"):
        return wanted
    return "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def set_nodelay(transport: asyncio.BaseTransport) -> bool:
    sock: Any = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return False  # a Unix socket has no Nagle to turn off
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout: float
    body_timeout: float
    max_connections: int


@functools.cache
def limits() -> Limits:
    """The serving limits of this worker (read once, from the settings and the descriptor limit)."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = int(settings.get("MEDCODES_MAX_CONNECTIONS"))
    room = soft - _RESERVED_FDS if soft != resource.RLIM_INFINITY else wanted
    return Limits(float(settings.get("MEDCODES_HEADER_TIMEOUT")), float(settings.get("MEDCODES_BODY_TIMEOUT")),
                  max(8, min(wanted, room)))


def raise_descriptor_limit() -> int:
    """Lift this process's soft limit on open files to the hard one (its children inherit it);
    the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return hard


# connections of this worker still waiting for a request's headers, oldest first
_WAITING: dict[NoDelayProtocol, None] = {}


class NoDelayProtocol(HttpToolsProtocol):  # type: ignore[misc]
    _timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _tail = b""  # the last bytes seen while waiting for the headers, for a terminator split across chunks

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
        self._await_headers()
        if len(self.connections) > limits().max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_timer()
        _WAITING.pop(self, None)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self in _WAITING:
            # only the head counts: a chunk often carries the end of the headers and part of the body
            # (a large POST), and the body has its own limit
            seen = self._tail + data
            end = seen.find(b"\r\n\r\n")
            self._header_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = seen[-3:]
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse(431)
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self not in _WAITING:  # the next request on a kept-alive connection
            self._await_headers()

    def on_headers_complete(self) -> None:
        _WAITING.pop(self, None)
        self._header_bytes = 0
        self._tail = b""
        self._start_timer(limits().body_timeout, 408)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_timer()
        super().on_message_complete()

    def _await_headers(self) -> None:
        _WAITING[self] = None
        self._start_timer(limits().header_timeout, 408)

    def _make_room(self) -> None:
        oldest = next((c for c in _WAITING if c is not self), None)
        if oldest is not None:
            oldest._refuse(503)
        else:  # every other connection is busy with a request: this one waits its turn elsewhere
            self._refuse(503)

    def _start_timer(self, seconds: float, status: int) -> None:
        self._stop_timer()
        self._timer = self.loop.call_later(seconds, self._refuse, status)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: int) -> None:
        """Answer with `status` unless a response is part sent, and close the connection."""
        self._stop_timer()
        _WAITING.pop(self, None)
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started or self.cycle.response_complete:
            self.transport.write(raw_error(status, _MESSAGES.get(status, ""), self._path()))
        self.transport.close()

    def _path(self) -> bytes:
        return getattr(self, "url", b"") or b""

    # uvicorn's own answer to a request it cannot parse, in the error shape of every other response
    # (a failure inside the app is answered by the app's error handler)
    def send_400_response(self, msg: str) -> None:
        self.transport.write(raw_error(400, "The request is not valid HTTP.", self._path()))
        self.transport.close()


_MESSAGES = {
    408: "The request did not arrive in time; send it again at once.",
    431: f"The request's headers are larger than {MAX_HEADER_BYTES // 1024} KiB.",
    503: "The server has too many open connections; try again shortly.",
}
_SECURITY = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin")]


def error_body(problem: Problem, path: bytes) -> tuple[bytes, bytes]:
    """(body, content type) of an error answered below the app: an OperationOutcome under /fhir,
    else the API's JSON error, the one shape of every other error."""
    if path == b"/fhir" or path.startswith((b"/fhir/", b"/fhir?")):
        return dumps(outcome(problem.issue, problem.message)), b"application/fhir+json; charset=utf-8"
    return dumps(problem.json()), b"application/json"


def raw_error(status: int, message: str, path: bytes = b"") -> bytes:
    """A whole HTTP/1.1 error response that closes the connection."""
    problem = classify(ApiError(status, message or HTTPStatus(status).phrase))
    body, content_type = error_body(problem, path)
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode(), b"content-type: " + content_type,
            b"connection: close", b"content-length: " + str(len(body)).encode(),
            *(name + b": " + value for name, value in _SECURITY)]
    return b"\r\n".join(head) + b"\r\n\r\n" + body
