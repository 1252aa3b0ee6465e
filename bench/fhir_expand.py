"""Latency of filtered ValueSet $expand over ICD-10-CM at a paced rate: p50/p95/p99 in ms.

Starts `medcodes serve` on the index and sends GET /fhir/ValueSet/$expand?url=<ICD-10-CM>?fhir_vs
&filter=<words>&count=20 at --rate requests/s for --seconds, each request timed from the moment it was
due (so a slow answer that delays the next ones counts against them too, no coordinated omission).
Target: p99 <= 50 ms at 50 requests/s.

    .venv/bin/python bench/fhir_expand.py --db full.sqlite [--rate 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

CM = "http://hl7.org/fhir/sid/icd-10-cm"
FILTERS = ("diabetes", "kidney", "fracture femur", "asthma", "pneumonia", "heart failure", "migraine",
           "hypertension", "chest pain", "depress", "open wound", "sepsis", "pregnancy", "burn", "fever",
           "dislocation", "anemia", "cataract", "obesity", "covid", "E11", "S72", "diabetes kidney", "ulcer")
TARGET_P99_MS = 50.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="index file (medcodes build --out ...)")
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    port = _free_port()
    log = Path(tempfile.mkdtemp()) / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "medcodes", "serve", "--db", a.db, "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", str(a.workers)], stdout=out, stderr=out,
                                  env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait(port, server)
        paths = [_path(f) for f in FILTERS]
        # warm: every worker builds its word index of ICD-10-CM on its first filtered expansion (seconds);
        # the figures are for a warm server, so send the queries until a whole round answers quickly
        for _ in range(20):
            started = time.monotonic()
            for p in paths * a.workers:
                _get(http.client.HTTPConnection("127.0.0.1", port, timeout=60), p)
            if time.monotonic() - started < 0.1 * len(paths) * a.workers:
                break
        latencies, errors = _paced(port, paths, a.rate, a.seconds)
    finally:
        server.terminate()
        server.wait(timeout=20)
    latencies.sort()
    pct = {q: latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] for q in (50, 95, 99)}
    print(f"filtered $expand over ICD-10-CM, {a.rate:g} req/s for {a.seconds:g} s, {len(latencies)} answers, "
          f"{errors} errors: p50 {pct[50]:.1f} ms, p95 {pct[95]:.1f} ms, p99 {pct[99]:.1f} ms "
          f"(target p99 <= {TARGET_P99_MS:g} ms: {'met' if pct[99] <= TARGET_P99_MS else 'NOT met'})")
    return 0


def _path(words: str) -> str:
    query = urllib.parse.urlencode({"url": f"{CM}?fhir_vs", "filter": words, "count": "20"})
    return f"/fhir/ValueSet/$expand?{query}"


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path, headers={"Accept": "application/fhir+json"})
    r = conn.getresponse()
    r.read()
    return r.status


def _paced(port: int, paths: list[str], rate: float, seconds: float) -> tuple[list[float], int]:
    total = int(rate * seconds)
    start = time.monotonic() + 0.2
    due = [start + i / rate for i in range(total)]
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    next_index = [0]

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= total:
                return
            time.sleep(max(0.0, due[i] - time.monotonic()))
            try:
                status = _get(conn, paths[i % len(paths)])
            except OSError:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            took = (time.monotonic() - due[i]) * 1000
            with lock:
                latencies.append(took)
                errors[0] += status != 200

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("medcodes serve exited")
        try:
            if _get(http.client.HTTPConnection("127.0.0.1", port, timeout=2), "/api/v1/health") == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("medcodes serve did not start")


if __name__ == "__main__":
    sys.exit(main())
