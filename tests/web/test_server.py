"""`medcodes serve` as run for real: several worker processes, kept-alive connections."""

from __future__ import annotations

import http.client
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medcodes.web import server

from .. import live


class _Transport:
    """What set_nodelay reads of an asyncio transport: its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> Any:
        return self.sock if name == "socket" else None


def test_nodelay_is_set_on_a_socket_rebuilt_from_its_descriptor() -> None:
    """The case asyncio misses: a worker's socket rebuilt from a descriptor says protocol 0."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        rebuilt = socket.fromfd(accepted.fileno(), socket.AF_INET, socket.SOCK_STREAM)
        try:
            assert rebuilt.proto == 0 and rebuilt.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            assert server.set_nodelay(_Transport(rebuilt)) is True  # type: ignore[arg-type]
            assert rebuilt.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            for s in (rebuilt, accepted, client):
                s.close()
    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert server.set_nodelay(_Transport(a)) is False  # type: ignore[arg-type]
    gone = socket.socket()
    gone.close()  # a connection already closed: the option cannot be set, and that is no error
    assert server.set_nodelay(_Transport(gone)) is False  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def two_workers(request: pytest.FixtureRequest, index_path: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """asyncio's own loop is the one that skips TCP_NODELAY (uvloop sets it itself)."""
    log = tmp_path_factory.mktemp("serve2") / "serve.log"
    with live.medcodes_serve(index_path, log, "--workers", "2", env={"MEDCODES_LOOP": request.param}) as base:
        yield int(base.rsplit(":", 1)[1])


def test_kept_alive_connections_are_answered_by_every_loop(two_workers: int) -> None:
    """Many requests on one kept-alive connection to a worker, on both loops. Without TCP_NODELAY each
    took ~40 ms (the client's delayed ACK): the option itself is checked above, and bench/serve.py
    reports the latencies."""
    conn = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=10)
    for _ in range(25):
        conn.request("GET", "/api/v1/health")
        r = conn.getresponse()
        assert r.status == 200 and r.read() and r.getheader("connection", "keep-alive") != "close"
    conn.close()


def test_the_server_uses_the_fast_parser_and_loop() -> None:
    import importlib

    assert importlib.import_module(server.PROTOCOL.split(":")[0]).NoDelayProtocol.__mro__[1].__name__ == \
        "HttpToolsProtocol"
    assert server.loop() == ("asyncio" if sys.platform == "win32" else "uvloop")
    assert server.loop("asyncio") == "asyncio"
