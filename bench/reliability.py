"""Replays the ways a self-hosted server meets trouble and prints tried / handled / failed for each.

    python bench/reliability.py                      # this checkout
    python bench/reliability.py --code OTHER_CHECKOUT  # the same scenarios against another version

Families:
  rebuild   `medcodes build --out` onto the file a 2-worker `medcodes serve` answers from, three
            times, while clients search and look codes up (6, then 4 more after each build):
            failed = any 5xx, or a code present in every build answering 404; and whether a code
            only the last build has is then answered
  slow      N connections trickling their headers against a server limited to 1,024 open files,
            while real requests are made one after another: failed = no answer within 10 s
  fetch     the outbound client against local servers: a redirect to an internal address
            (failed = followed), a redirect loop (requests made), a server dripping a byte every
            0.5 s (seconds until given up, capped at 180), Retry-After: 3600 (seconds it would wait)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import live  # noqa: E402  (the same server and slow-client helpers the tests use)

DATA = ROOT / "tests" / "data"
HCPCS = f"hcpcs={DATA / 'hcpcs' / 'HCPC2025_JAN_ANWEB_fixture.txt'}"
ICD10CM = f"icd10cm={DATA / 'icd10cm' / 'icd10cm_tabular_2026.xml'}"


def _env(code: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(code), "MEDCODES_SEMANTIC": "off"}


def _get(url: str, timeout: float = 10) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _build(code: Path, out: Path, *sources: str) -> None:
    args = [a for s in sources for a in ("--source", s)]
    subprocess.run([sys.executable, "-m", "medcodes", "build", "--no-default", *args, "--out", str(out)],
                   check=True, capture_output=True, env={**os.environ, **_env(code)}, cwd=code)


def rebuild(code: Path, tmp: Path) -> str:
    index = tmp / "served.sqlite"
    _build(code, index, HCPCS)
    env = {**_env(code), "MEDCODES_STORE": str(tmp / "store.sqlite")}
    with live.medcodes_serve(index, tmp / "rebuild.log", "--workers", "2", env=env) as base:
        stop = threading.Event()
        seen: Counter[str] = Counter()

        def client(n: int) -> None:
            i = n * 1_000_000
            while not stop.is_set():
                i += 1
                for kind, url in (("search", f"{base}/api/v1/search?q=neoplasm+lip&limit={i % 90 + 1}&offset={i % 7}"),
                                  ("code", f"{base}/api/v1/codes/hcpcs/J1100")):
                    status = _get(url)
                    seen["tried"] += 1
                    if status >= 500 or status == 0 or (kind == "code" and status == 404):
                        seen["failed"] += 1
                        seen[f"{kind} {status}"] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for sources in ((HCPCS, ICD10CM), (HCPCS,), (HCPCS, ICD10CM)):
            _build(code, index, *sources)
            time.sleep(1)
            # load rises after each build: the server's new threads open their first connections
            more = [threading.Thread(target=client, args=(len(threads) + n,)) for n in range(4)]
            for t in more:
                t.start()
            threads += more
            time.sleep(1)
        stop.set()
        for t in threads:
            t.join()
        after = Counter(_get(f"{base}/api/v1/codes/icd10cm/C00.0") for _ in range(40))
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(seen.items()) if k not in ("tried", "failed"))
    return (f"rebuild  tried {seen['tried']:>6}  handled {seen['tried'] - seen['failed']:>6}  failed"
            f" {seen['failed']:>5}  ({kinds or 'none'}); new code after the last build: {after[200]}/40 answered 200")


def slow(code: Path, tmp: Path, connections: int, real: int = 100) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the slow clients' own sockets
    index = tmp / "slow.sqlite"
    _build(code, index, HCPCS, ICD10CM)
    env = {**_env(code), "MEDCODES_STORE": str(tmp / "store.sqlite")}
    with live.medcodes_serve(index, tmp / "slow.log", env=env, max_files=1024) as base:
        clients = live.SlowClients(base)
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(0.5):
                clients.trickle()
                clients.open(connections - len(clients.socks))

        try:
            clients.open(connections)
        except OSError:
            pass  # the server stopped accepting: the real requests below will show it
        t = threading.Thread(target=trickle)
        t.start()
        started = time.perf_counter()
        try:
            answers = [_get(f"{base}/api/v1/search?q=neoplasm&limit={k % 90 + 1}&offset={k % 5}")
                       for k in range(real)]
        finally:
            stop.set()
            t.join()
            clients.close()
        seconds = time.perf_counter() - started
    failed = sum(1 for a in answers if a != 200)
    return (f"slow     {connections:>5} slow connections: real requests tried {real}  handled {real - failed}"
            f"  failed {failed} ({100 * failed / real:.0f}%) in {seconds:.1f}s; slow ones cut off: {clients.closed}")


_FETCH = r"""
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from medcodes.policies.http import FetchError, HttpClient

hits = {"loop": 0, "internal": 0}
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/loop":
            hits["loop"] += 1
            self.send_response(302); self.send_header("Location", "/loop"); self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/to-internal":
            self.send_response(302); self.send_header("Location", f"http://127.0.0.2:{internal}/secret")
            self.send_header("Content-Length", "0"); self.end_headers()
        elif self.path == "/secret":
            hits["internal"] += 1
            self.send_response(200); self.send_header("Content-Length", "6"); self.end_headers()
            self.wfile.write(b"secret")
        elif self.path == "/busy":
            self.send_response(503); self.send_header("Retry-After", "3600"); self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/drip":
            self.send_response(200); self.send_header("Content-Length", "100000"); self.end_headers()
            try:
                for _ in range(100000):
                    self.wfile.write(b"x"); self.wfile.flush(); time.sleep(0.5)
            except OSError:
                pass

def serve(host):
    s = ThreadingHTTPServer((host, 0), H); s.daemon_threads = True
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1]

internal = serve("127.0.0.2")
port = serve("127.0.0.1")
base = f"http://127.0.0.1:{port}"
out = {}
# waits are counted, not waited: the clock jumps by each (what a deadline sees after real waits)
skipped = [0.0]
real_monotonic = time.monotonic
time.monotonic = lambda: real_monotonic() + skipped[0]
def attempt(name, url, **kw):
    slept = []
    def sleep(s):
        slept.append(s)
        skipped[0] += s
    t0 = real_monotonic()
    try:
        HttpClient(rate=1000, sleep=sleep, **kw).get(url)
        out[name] = {"result": "fetched"}
    except FetchError as e:
        out[name] = {"result": str(e).split(": ", 1)[-1][:90]}
    out[name]["seconds"] = round(real_monotonic() - t0, 1)
    out[name]["would_wait"] = round(sum(slept), 1)
attempt("redirect to internal", base + "/to-internal")
out["redirect to internal"]["internal hits"] = hits["internal"]
attempt("redirect loop", base + "/loop")
out["redirect loop"]["requests"] = hits["loop"]
attempt("retry-after 3600", base + "/busy")
done = threading.Event()
def drip():
    attempt("drip 1 byte/0.5 s", base + "/drip")
    done.set()
threading.Thread(target=drip, daemon=True).start()
if not done.wait(180):
    out["drip 1 byte/0.5 s"] = {"result": "still reading after 180 s"}
print(json.dumps(out))
"""


def fetch(code: Path) -> list[str]:
    env = {**os.environ, **_env(code), "MEDCODES_ALLOW_PRIVATE_URLS": "127.0.0.1"}
    got = subprocess.run([sys.executable, "-c", _FETCH], capture_output=True, text=True, env=env, timeout=300,
                         cwd=code)
    if got.returncode:
        return [f"fetch    failed to run: {got.stderr[-500:]}"]
    return [f"fetch    {name:<22} {json.dumps(v)}" for name, v in json.loads(got.stdout).items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose medcodes is run (default: this one)")
    ap.add_argument("--slow", type=int, action="append", help="slow connections (repeatable; default 200 and 2100)")
    ap.add_argument("--only", choices=("rebuild", "slow", "fetch"), action="append")
    args = ap.parse_args()
    code = args.code.resolve()
    os.chdir(code)  # `python -m medcodes` imports from the working folder first
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=code, capture_output=True, text=True)
    print(f"medcodes at commit {commit.stdout.strip() or '?'}")
    with tempfile.TemporaryDirectory(prefix="medcodes-reliability-") as d:
        tmp = Path(d)
        if not args.only or "rebuild" in args.only:
            print(rebuild(code, tmp), flush=True)
        if not args.only or "slow" in args.only:
            for n in args.slow or [200, 2100]:
                print(slow(code, tmp, n), flush=True)
        if not args.only or "fetch" in args.only:
            for line in fetch(code):
                print(line, flush=True)


if __name__ == "__main__":
    main()
