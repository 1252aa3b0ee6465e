"""Real servers and a real browser for tests: `medcodes serve` as a user starts it, and Debian's
chromium driven by Playwright (skipped cleanly when either browser piece is absent)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def medcodes_serve(index: Path, log: Path, *args: str, env: dict[str, str] | None = None,
                   start_s: float = 30, max_files: int | None = None) -> Iterator[str]:
    """`medcodes serve --db INDEX [ARGS]` on a free port of 127.0.0.1; yields its base URL once it
    answers, and stops it afterwards. `max_files`: the server's limit on open files (as a small
    machine or container has)."""
    port = free_port()
    cmd = [sys.executable, "-m", "medcodes", "serve", "--db", str(index), "--host", "127.0.0.1",
           "--port", str(port), *args]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                preexec_fn=None if max_files is None else lambda: _limit_files(max_files))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log, start_s)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _limit_files(n: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


class SlowClients:
    """Connections that send a request's headers a byte at a time and never finish them (a
    slowloris): `open(n)`, then `trickle()` now and then; `closed` counts those the server cut."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.socks: list[socket.socket] = []
        self.closed = 0
        self.refused = 0

    def open(self, n: int) -> None:
        for _ in range(n):
            try:
                s = socket.create_connection(self.address, timeout=30)
            except OSError:  # the server's backlog is full: a slow client that never got in
                self.refused += 1
                continue
            s.setblocking(False)
            try:
                s.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            except OSError:
                s.close()
                self.closed += 1
                continue
            self.socks.append(s)

    def trickle(self) -> None:
        alive = []
        for s in self.socks:
            try:
                s.recv(1024, socket.MSG_PEEK)
                # an answer before the headers are done is a refusal (408, 503), and b"" a hang-up
                raise ConnectionResetError
            except BlockingIOError:
                pass  # nothing from the server: still waiting on us
            except OSError:
                s.close()
                self.closed += 1
                continue
            try:
                s.send(b"X")
            except OSError:
                s.close()
                self.closed += 1
                continue
            alive.append(s)
        self.socks = alive

    def close(self) -> None:
        for s in self.socks:
            s.close()
        self.socks = []


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path, start_s: float) -> None:
    deadline = time.monotonic() + start_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"medcodes serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"medcodes serve did not start within {start_s:g} s")


def chromium() -> Iterator[Any]:
    """A headless Debian chromium (executablePath), for a module-scoped `browser` fixture."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_for(check: Callable[[], Any], deadline_s: float = 240.0) -> Any:
    """Poll until `check()` is truthy: a generous deadline for a loaded machine, never a timing assertion."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"still not so after {deadline_s:g} s")
