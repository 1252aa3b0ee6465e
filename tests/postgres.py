"""A throwaway PostgreSQL cluster for the store tests: Debian's server binaries, a data folder in a
temporary directory, a free 127.0.0.1 port, trust authentication, no fsync (nothing here must
survive a crash). MEDCODES_TEST_PG names a running server to use instead (a URL whose user may
create databases). Each test gets a database of its own.

initdb refuses to run as root: as root the cluster runs as the `postgres` user (Debian's package
creates it) through `runuser`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN_DIRS = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None (PostgreSQL is not installed)."""
    for d in BIN_DIRS:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_cluster_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL as another user")
    return ["runuser", "-u", "postgres", "--", *cmd]


@contextmanager
def cluster() -> Iterator[str]:
    """Start a cluster, yield its URL (the `postgres` database as the cluster's superuser), stop it."""
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found")
    root = Path(tempfile.mkdtemp(prefix="medcodes-pg-"))
    data = root / "data"
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = 0
    try:
        subprocess.run(_as_cluster_user([str(bindir / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
                                         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        for attempt in range(3):  # another test process may take the free port first
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
                       " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
                       " -c shared_buffers=16MB")
            started = subprocess.run(_as_cluster_user([str(bindir / "pg_ctl"), "-D", str(data), "-l",
                                                       str(root / "log"), "-o", options, "-w", "-t", "60", "start"]),
                                     capture_output=True, timeout=90)
            if started.returncode == 0:
                break
            if attempt == 2:
                log = (root / "log").read_text(errors="replace")[-2000:] if (root / "log").exists() else ""
                raise RuntimeError(f"PostgreSQL did not start: {started.stderr.decode(errors='replace')}{log}")
        yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_cluster_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                                             "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def new_database(server_url: str) -> str:
    """A fresh, empty database on the server; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _db = server_url.rpartition("/")
    return f"{base}/{name.split('?')[0]}"


def drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(server_url, autocommit=True) as conn:
        for _ in range(50):  # a server process of the test may still be closing its connections
            try:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                return
            except psycopg.Error:
                time.sleep(0.1)
