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
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .. import settings

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
                self._refuse(b"431 Request Header Fields Too Large")
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
        self._start_timer(limits().body_timeout, b"408 Request Timeout")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_timer()
        super().on_message_complete()

    def _await_headers(self) -> None:
        _WAITING[self] = None
        self._start_timer(limits().header_timeout, b"408 Request Timeout")

    def _make_room(self) -> None:
        oldest = next((c for c in _WAITING if c is not self), None)
        if oldest is not None:
            oldest._refuse(b"503 Service Unavailable")
        else:  # every other connection is busy with a request: this one waits its turn elsewhere
            self._refuse(b"503 Service Unavailable")

    def _start_timer(self, seconds: float, status: bytes) -> None:
        self._stop_timer()
        self._timer = self.loop.call_later(seconds, self._refuse, status)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, status: bytes) -> None:
        """Answer with `status` unless a response is part sent, and close the connection."""
        self._stop_timer()
        _WAITING.pop(self, None)
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started or self.cycle.response_complete:
            body = status[4:] + b"\n"
            self.transport.write(b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\ncontent-length: " + str(len(body)).encode()
                                 + b"\r\n\r\n" + body)
        self.transport.close()
