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
  errors    bad requests of every kind to a live server (unknown addresses and methods, bad
            parameters, bodies past the limit, FHIR and page errors, bytes that are not HTTP, headers
            too large or too slow): failed = an answer not in the error shape of its address (JSON,
            OperationOutcome, HTML page) or without the security headers
  host      a forged Host header on pages, FHIR resources and redirects: failed = reflected
  openapi   schemathesis against the served OpenAPI document (fixed seed): tried = cases generated,
            failed = distinct failures (a valid request refused, an invalid one accepted, a 5xx, an
            answer outside the document)
  cache     bad files in the fetch cache: an older release's copy cut short (publisher still serving
            it, or gone), a copy the importer refuses, a download longer than the release file:
            failed = the update after it still fails, or more bytes written than the file has
  disk      a build and a policy ingest that run out of room (a file-size limit on the command):
            failed = not one clear line, a traceback, the old index changed, or a document it said
            it stored missing
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
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


FORGED = "evil.example"
CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _request(base: str, method: str, path: str, headers: dict[str, str] | None = None,
             body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status), {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
    except OSError:
        return 0, {}, b""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _shape(kind: str, status: int, headers: dict[str, str], body: bytes) -> bool:
    """Is this error answer in the shape of its address, with the security headers?"""
    if status < 400 or headers.get("x-content-type-options") != "nosniff":
        return False
    try:
        if kind == "json":
            data = json.loads(body)
            return data.get("ok") is False and data.get("status") == status and bool(data.get("message"))
        if kind == "fhir":
            return json.loads(body).get("resourceType") == "OperationOutcome"
    except (ValueError, AttributeError):
        return False
    return headers.get("content-type", "").startswith("text/html") and "content-security-policy" in headers \
        and headers.get("x-frame-options") == "DENY"


def _raw(base: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    got = b""
    try:
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(data)
            while chunk := s.recv(65536):
                got += chunk
    except OSError:
        pass
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return (int(m.group(1)) if m else 0), headers, body


def _served(code: Path, tmp: Path, name: str, **env: str) -> tuple[Path, dict[str, str]]:
    index = tmp / f"{name}.sqlite"
    if not index.exists():
        _build(code, index, HCPCS, ICD10CM)
    return index, {**_env(code), "MEDCODES_STORE": str(tmp / "store.sqlite"), **env}


def errors(code: Path, tmp: Path) -> str:
    index, env = _served(code, tmp, "errors", MEDCODES_HEADER_TIMEOUT="2")
    big = json.dumps({"codes": ["E11.9"] * 60_000}).encode()
    fhir_big = json.dumps({"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": CM}, {"name": "code", "valueCode": "E11.9"},
        {"name": "display", "valueString": "x" * 600_000}]}).encode()
    json_type = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, str, dict[str, str], bytes | None]] = [
        ("json", "GET", "/api/v1/nothing-here", {}, None),
        ("json", "GET", "/api/v1/codes/icd11/E11.9", {}, None),
        ("json", "GET", "/api/v1/codes/icd10cm/Z99.99", {}, None),
        ("json", "POST", "/api/v1/search", {}, b""),
        ("json", "GET", "/api/v1/validate", {}, None),
        ("json", "GET", "/api/v1/search?q=", {}, None),
        ("json", "GET", "/api/v1/search?q=a&as_of=", {}, None),
        ("json", "GET", "/api/v1/search?q=a&limit=abc", {}, None),
        ("json", "GET", "/api/v1/search?q=%00", {}, None),
        ("json", "POST", "/api/v1/validate", json_type, b"{"),
        ("json", "POST", "/api/v1/validate", json_type, b'{"codes":["\\ud800"]}'),
        ("json", "POST", "/api/v1/validate", json_type, big),
        ("json", "GET", "/openapi.json/x", {}, None),
        ("fhir", "GET", "/fhir/Nothing", {}, None),
        ("fhir", "DELETE", "/fhir/metadata", {}, None),
        ("fhir", "GET", f"/fhir/CodeSystem/$lookup?system={CM}", {}, None),
        ("fhir", "GET", f"/fhir/CodeSystem/$lookup?system={CM}&code=E11.9&_format=xml", {}, None),
        ("fhir", "POST", "/fhir/CodeSystem/$validate-code", {"Content-Type": "application/fhir+json"}, fhir_big),
        ("html", "GET", "/nothing-here", {}, None),
        ("html", "GET", "/static/nothing.css", {}, None),
        ("html", "GET", "/codes/icd10cm/Z99.99", {}, None),
        ("html", "GET", "/search?q=%00", {}, None),
        ("html", "GET", "/codes/icd10cm/" + "E" * 500, {}, None),
    ]
    raw: list[tuple[str, bytes]] = [
        ("json", b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"),
        ("json", b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"),
        ("fhir", b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n"),
        ("json", b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"),
        ("json", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n"),
        ("json", b"POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"),
    ]
    failed: list[str] = []
    with live.medcodes_serve(index, tmp / "errors.log", env=env, start_s=120) as base:
        for kind, method, path, headers, body in cases:
            status, got_headers, got = _request(base, method, path, headers, body)
            if not _shape(kind, status, got_headers, got):
                failed.append(f"{method} {path[:50]} -> {status} {got_headers.get('content-type', '')}")
        for kind, data in raw:
            status, got_headers, got = _raw(base, data)
            if not _shape(kind, status, got_headers, got):
                failed.append(f"raw {data[:30]!r} -> {status} {got_headers.get('content-type', '')}")
    tried = len(cases) + len(raw)
    return (f"errors   tried {tried:>6}  handled {tried - len(failed):>6}  failed {len(failed):>5}"
            + ("" if not failed else "  (" + "; ".join(failed[:12]) + ")"))


def host(code: Path, tmp: Path) -> str:
    index, env = _served(code, tmp, "errors")
    paths = ["/fhir/metadata", "/fhir/metadata?mode=terminology", "/fhir/CodeSystem", "/fhir/ValueSet",
             "/fhir/ConceptMap", "/fhir", "/api/v1", "/browse/", "/static", "/api/docs/", "/sources/", "/changes/",
             "/codes/icd10cm/e119", "/search?q=E11.9", "/api/v1/codes/icd10cm/e119", "/", "/openapi.json"]
    opener = urllib.request.build_opener(_NoRedirect)
    failed = []
    with live.medcodes_serve(index, tmp / "host.log", env=env, start_s=120) as base:
        for path in paths:
            req = urllib.request.Request(base + path, headers={"Host": FORGED})
            try:
                with opener.open(req, timeout=30) as r:
                    seen = r.read() + str(dict(r.headers)).encode()
            except urllib.error.HTTPError as e:
                seen = e.read() + str(dict(e.headers)).encode()
            if FORGED.encode() in seen:
                failed.append(path)
    return (f"host     tried {len(paths):>6}  handled {len(paths) - len(failed):>6}  failed {len(failed):>5}"
            + (f"  (reflected: {', '.join(failed)})" if failed else ""))


def openapi(code: Path, tmp: Path, examples: int) -> str:
    index, env = _served(code, tmp, "errors")
    script = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
    with live.medcodes_serve(index, tmp / "openapi.log", env=env, start_s=120) as base:
        got = subprocess.run([sys.executable, "-c", script, "run", f"{base}/openapi.json", "--checks", "all",
                              "--phases", "examples,coverage,fuzzing", "--max-examples", str(examples),
                              "--continue-on-failure", "--seed", "7", "--no-color"],
                             capture_output=True, text=True, cwd=tmp, timeout=1800)
    m = re.search(r"(\d+) generated, (?:(\d+) found (\d+) unique failures|\d+ passed)", got.stdout)
    if not m:
        return f"openapi  did not run: {(got.stdout + got.stderr)[-300:]}"
    tried, failures = int(m.group(1)), int(m.group(3) or 0)
    kinds = ", ".join(re.findall(r"❌ (ST\d+ [^:]+: \d+)", got.stdout))
    return (f"openapi  tried {tried:>6}  handled {tried - failures:>6}  failed {failures:>5}"
            f"  (distinct failures{': ' + kinds if kinds else ''}; {examples} examples per operation, seed 7)")


_CACHE = r"""
import json, os, sys
from pathlib import Path
from dataclasses import replace
from medcodes.fetch.cache import Fetcher
from medcodes.fetch.update import update
from medcodes.errors import MedcodesError
from tests.fetch.publisher import hcpcs_zip, make_zip, release_file, running

tmp = Path(sys.argv[1])
JAN, APR = "/files/zip/january-2025.zip", "/files/zip/april-2025.zip"
out = {}


def fetcher(pub, name):
    table = (release_file("2025-jan", "2025-01-01", "january-2025.zip"),
             release_file("2025-apr", "2025-04-01", "april-2025.zip"))
    return Fetcher(cache=tmp / name / "cache", base_urls={"cms": pub.url}, timeout=5.0, table=table)


def scenario(name, damage, publisher_after):
    with running() as pub:
        pub.serve(JAN, hcpcs_zip())
        pub.serve(APR, hcpcs_zip("HCPC2025_APR_ANWEB.txt"))
        f = fetcher(pub, name)
        f.fetch("hcpcs", "2025-jan")
        jan = f.path(f.table[0])
        damage(jan)
        publisher_after(pub)
        index = tmp / name / "index.sqlite"
        first = "built"
        try:
            update(f, index, default=False)
        except MedcodesError as e:
            first = "named the file" if str(jan) in str(e) else "did not name the file: " + str(e)[:120]
        try:
            update(f, index, default=False)
            second = "built"
        except MedcodesError as e:
            second = "failed again: " + str(e)[:160]
        out[name] = {"first update": first, "next update": second, "handled": second == "built"
                     and first in ("built", "named the file")}


def gone(pub):
    pub.serve(JAN, b"")


scenario("older copy cut short, still published", lambda p: p.write_bytes(p.read_bytes()[:200]), lambda pub: None)
scenario("older copy cut short, publisher gone", lambda p: p.write_bytes(p.read_bytes()[:200]), gone)
scenario("copy the importer refuses", lambda p: p.write_bytes(make_zip({"HCPC2025_JAN_ANWEB.txt": b"junk\n" * 50})),
         lambda pub: None)
with running() as pub:
    body = make_zip({"HCPC2025_JAN_ANWEB.txt": b"codes"})
    pub.serve(JAN, body + os.urandom(2_000_000))
    f = fetcher(pub, "oversize")
    f.table = [replace(f.table[0], size=len(body))]
    try:
        f.fetch("hcpcs")
        result = "kept an oversized file"
    except MedcodesError as e:
        result = str(e).split(": ", 1)[-1][:100]
    written = sum(p.stat().st_size for p in (tmp / "oversize").rglob("*") if p.is_file())
    out["download past the file's size"] = {"result": result, "bytes kept": written, "file size": len(body),
                                            "handled": written <= len(body)}
print(json.dumps(out))
"""


def cache(code: Path, tmp: Path) -> list[str]:
    env = {**os.environ, **_env(code), "MEDCODES_ALLOW_PRIVATE_URLS": "1"}
    (tmp / "cache").mkdir(exist_ok=True)
    got = subprocess.run([sys.executable, "-c", _CACHE, str(tmp / "cache")], capture_output=True, text=True,
                         env=env, timeout=600, cwd=code)
    if got.returncode:
        return [f"cache    failed to run: {got.stderr[-500:]}"]
    results = json.loads(got.stdout)
    handled = sum(1 for v in results.values() if v.pop("handled"))
    lines = [f"cache    tried {len(results):>6}  handled {handled:>6}  failed {len(results) - handled:>5}"]
    return lines + [f"cache    {name:<40} {json.dumps(v)}" for name, v in results.items()]


def _medcodes(code: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return subprocess.run([sys.executable, "-m", "medcodes", *args], capture_output=True, text=True,
                          env={**os.environ, **_env(code)}, cwd=code, preexec_fn=limit, timeout=600)


def _clean(got: subprocess.CompletedProcess[str]) -> str:
    """'' when the command failed with exactly one 'medcodes: error:' line and no traceback."""
    lines = [x for x in got.stderr.splitlines() if x.startswith("medcodes: error:")]
    if got.returncode == 0:
        return "succeeded (nothing ran out of room)"
    if "Traceback" in got.stderr:
        return "a traceback: " + got.stderr.strip().splitlines()[-1][:100]
    return "" if len(lines) == 1 else f"{len(lines)} error lines"


def disk(code: Path, tmp: Path) -> list[str]:
    index = tmp / "disk.sqlite"
    _build(code, index, HCPCS, ICD10CM)
    before = index.read_bytes()
    results: dict[str, str] = {}
    got = _medcodes(code, "build", "--no-default", "--source", HCPCS, "--source", ICD10CM, "--out", str(index),
                    fsize=len(before) // 2)
    problem = _clean(got) or ("the old index changed" if index.read_bytes() != before else "")
    leftovers = [p.name for p in tmp.glob("disk.sqlite?*")]
    results["build past the limit"] = problem or (f"left {leftovers}" if leftovers else "")
    store = tmp / "disk-store.sqlite"
    docs = tmp / "disk-docs"
    docs.mkdir()
    corpus = code / "tests" / "data" / "policies" / "corpus"
    for name in sorted(os.listdir(corpus))[:8]:
        shutil.copy(corpus / name, docs / name)
    first = tmp / "disk-first"
    first.mkdir()
    shutil.copy(docs / sorted(os.listdir(docs))[0], first)
    _medcodes(code, "policies", "ingest", str(first), "--db", str(index), "--store", str(store))
    limit = max(p.stat().st_size for p in tmp.glob("disk-store.sqlite*")) + 16 * 1024
    got = _medcodes(code, "policies", "ingest", str(docs), "--db", str(index), "--store", str(store), fsize=limit)
    said = {x.split()[1] for x in got.stdout.splitlines() if x.split()[:1] in (["new"], ["unchanged"])}
    conn = sqlite3.connect(store)
    stored = {r[0] for r in conn.execute("SELECT id FROM policies")}
    conn.close()
    problem = _clean(got) or ("" if said <= stored else f"said it stored {len(said - stored)} it did not")
    results["ingest past the limit"] = problem or f"{len(said)} documents reported as stored, all there"
    failed = sum(1 for name, v in results.items() if v and not v.endswith("all there"))
    lines = [f"disk     tried {len(results):>6}  handled {len(results) - failed:>6}  failed {failed:>5}"]
    return lines + [f"disk     {name:<24} {v or 'one clear line, nothing lost'}" for name, v in results.items()]


FAMILIES = ("rebuild", "slow", "fetch", "errors", "host", "openapi", "cache", "disk")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose medcodes is run (default: this one)")
    ap.add_argument("--slow", type=int, action="append", help="slow connections (repeatable; default 200 and 2100)")
    ap.add_argument("--only", choices=FAMILIES, action="append")
    ap.add_argument("--examples", type=int, default=50, help="schemathesis examples per operation (openapi)")
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
        for family, run in (("errors", lambda: [errors(code, tmp)]), ("host", lambda: [host(code, tmp)]),
                            ("openapi", lambda: [openapi(code, tmp, args.examples)]),
                            ("cache", lambda: cache(code, tmp)), ("disk", lambda: disk(code, tmp))):
            if not args.only or family in args.only:
                for line in run():
                    print(line, flush=True)


if __name__ == "__main__":
    main()
