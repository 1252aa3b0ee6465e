"""How `medcodes serve` runs uvicorn: its HTTP protocol with TCP_NODELAY on every connection.

With `--workers 2` or more, uvicorn hands the listening socket to worker processes, and a socket
rebuilt there from its file descriptor reports protocol 0 instead of TCP, so asyncio skips the
TCP_NODELAY it sets on TCP connections. A response then goes out as two small segments with Nagle's
algorithm on, and every request on a kept-alive connection waited ~40 ms for the client's delayed
ACK (measured: 44 ms per request with 2 workers, 1 ms with 1). The protocol sets the option itself.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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


class NoDelayProtocol(HttpToolsProtocol):  # type: ignore[misc]
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        super().connection_made(transport)
