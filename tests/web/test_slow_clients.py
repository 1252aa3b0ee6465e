"""Slow clients against a real `medcodes serve` on a machine with few file descriptors: connections
that trickle their headers are cut off, and real requests keep being answered."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .. import live

# Not a measure of speed, only how long a request may be kept waiting before it counts as unanswered:
# on a machine loaded twenty-fold the connect alone can wait seconds in the listen backlog behind the
# slow clients' connections, so the bound is far above anything a working server needs.
PATIENCE_S = 180


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=PATIENCE_S) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0  # no answer at all


@pytest.mark.slow  # a live server held by trickling clients
def test_slow_headers_do_not_starve_real_requests(index_path: Path, tmp_path: Path) -> None:
    """300 slow connections against a server that may open 200 files: without the limits they
    take every descriptor and real requests go unanswered."""
    env = {"MEDCODES_HEADER_TIMEOUT": "3", "MEDCODES_STORE": str(index_path.with_name("medcodes-store.sqlite"))}
    with live.medcodes_serve(index_path, tmp_path / "serve.log", env=env, max_files=200, start_s=PATIENCE_S) as base:
        slow = live.SlowClients(base)
        stop = threading.Event()

        def keep_trickling() -> None:
            while not stop.wait(0.3):
                slow.trickle()
                slow.open(300 - len(slow.socks))  # as fast as the server cuts them, new ones come

        slow.open(300)
        t = threading.Thread(target=keep_trickling)
        t.start()
        try:
            answers = [_status(f"{base}/api/v1/search?q=diabetes&limit={k}") for k in range(1, 31)]
        finally:
            stop.set()
            t.join()
            slow.trickle()  # once more: what the server cut while the last requests ran
            slow.close()
        assert answers == [200] * 30
        assert slow.closed >= 100  # the slow ones were cut off, not left to pile up


def _answer(s: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    return data


@pytest.mark.slow  # a live server held by trickling clients
def test_headers_too_large_or_too_slow_and_bodies_too_slow(index_path: Path, tmp_path: Path) -> None:
    env = {"MEDCODES_HEADER_TIMEOUT": "1", "MEDCODES_BODY_TIMEOUT": "1",
           "MEDCODES_STORE": str(index_path.with_name("medcodes-store.sqlite"))}
    with live.medcodes_serve(index_path, tmp_path / "serve.log", env=env) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as s:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
            assert _answer(s).startswith(b"HTTP/1.1 431 ")
        with socket.create_connection((host, int(port)), timeout=20) as s:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # and nothing more
            assert _answer(s).startswith(b"HTTP/1.1 408 ")
        with socket.create_connection((host, int(port)), timeout=20) as s:
            s.sendall(b"POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"codes\":")  # a body that never finishes
            assert _answer(s).startswith(b"HTTP/1.1 408 ")
        with socket.create_connection((host, int(port)), timeout=20) as s:
            # a kept-alive connection: the first request answered, the second trickled
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/health HTTP/1.1\r\n")
            both = _answer(s)
            assert both.startswith(b"HTTP/1.1 200 ") and b"HTTP/1.1 408 " in both
        assert _status(f"{base}/api/v1/health") == 200
