"""`medcodes serve` as run for real: several worker processes, kept-alive connections."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medcodes.web import server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def two_workers(request: pytest.FixtureRequest, index_path: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """asyncio's own loop is the one that skips TCP_NODELAY (uvloop sets it itself)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve2") / "serve.log"
    cmd = [sys.executable, "-m", "medcodes", "serve", "--db", str(index_path), "--host", "127.0.0.1",
           "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "MEDCODES_LOOP": request.param}
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "medcodes serve --workers 2 did not start"
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_kept_alive_requests_do_not_wait_for_delayed_acks(two_workers: int) -> None:
    """Without TCP_NODELAY every request on a kept-alive connection to a worker took ~40 ms (the
    client's delayed ACK); with it, about a millisecond. The bound leaves room for a slow machine."""
    conn = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=10)
    times = []
    for _ in range(25):
        start = time.perf_counter()
        conn.request("GET", "/api/v1/health")
        r = conn.getresponse()
        assert r.status == 200 and r.read()
        times.append(time.perf_counter() - start)
    conn.close()
    assert statistics.median(times[5:]) < 0.02, f"median {statistics.median(times[5:]) * 1000:.1f} ms"


def test_the_server_uses_the_fast_parser_and_loop() -> None:
    import importlib

    assert importlib.import_module(server.PROTOCOL.split(":")[0]).NoDelayProtocol.__mro__[1].__name__ == \
        "HttpToolsProtocol"
    assert server.loop() == ("asyncio" if sys.platform == "win32" else "uvloop")
    assert server.loop("asyncio") == "asyncio"
