"""Load figures for `medcodes serve`: search API, suggestions and code pages, p50/p99 and requests/s.

Starts `medcodes serve --workers 2` on the index, then drives it from a second process with wrk
(Debian: apt-get install wrk) over many different URLs taken from the index. Two kinds of run:

- paced: about each of --rates requests/s (each connection waits between requests, wrk's `delay()`),
  the latency a user sees at that load; targets: search API p99 <= 50 ms at 200 req/s, code page
  p99 <= 30 ms;
- open: as many requests as wrk can get answered with --connections (50), the server's ceiling.

Every run takes URLs no earlier run of this benchmark used, so the server's memory of recent answers
helps only where a scenario repeats by nature (the typed queries, suggestions); a run that needed
more URLs than were left says how many it repeated. Before the first run and after the last, the
resident memory of each worker: the index file's mapped pages apart from anonymous memory.

    .venv/bin/python bench/serve.py --db full.sqlite            # build it: medcodes build --out ...
    .venv/bin/python bench/serve.py --db full.sqlite --only "search API, new" --only "code page" --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from medcodes.index import Catalog

QUERY_FILES = Path(__file__).resolve().parent / "queries"
TARGETS = {"search API": 50.0, "code page": 30.0}  # p99 in ms at the paced rate
QUERIES = ("heart attack", "type 2 diabetes", "knee replacement", "broken wrist", "wheelchair", "insulin",
           "dexamethasone injection", "fusion lumbar", "chest pain", "asthma", "hip fracture", "pneumonia",
           "colonoscopy", "E11.9", "J1100", "0SG00A1", "I21", "diabetes with kidney", "bypass coronary",
           "hypertension", "migraine", "depression", "covid", "ultrasound", "cataract")

LUA = r"""
-- one thread (wrk -t1): the paths are asked in order, each once until the list runs out
local paths = {}
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i, wraps = 0, 0
request = function()
  i = i + 1
  if i > #paths then i, wraps = 1, wraps + 1 end
  return wrk.format("GET", paths[i])
end
if delay_ms > 0 then delay = function() return delay_ms end end
done = function(summary, latency, requests)
  local s = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"mean_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":%d,"non_2xx_3xx":%d,"paths":%d}\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, s.connect + s.read + s.write + s.timeout, s.status, #paths))
end
"""


def main() -> int:
    args = _args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench/serve.py needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 2
    catalog = Catalog(args.db)
    paths = _paths(catalog, args.sample)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(LUA)
        server = _serve(args.db, port, args.workers, Path(tmp) / "serve.log")
        try:
            _wait(base, server)
            memory = {"before": _workers_memory(server.pid, Path(args.db))}
            _SERVER_PID[0] = server.pid
            results = _run_all(wrk, base, script, Path(tmp), paths, args)
            memory["after"] = _workers_memory(server.pid, Path(args.db))
        finally:
            server.terminate()
            server.wait(timeout=15)
    _report(results, memory, catalog, args)
    return 0


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("MEDCODES_DB", "full.sqlite"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rates", default="50,100,200", help="requests/s of the paced runs (comma-separated)")
    p.add_argument("--duration", type=int, default=20, help="seconds per run")
    p.add_argument("--connections", type=int, default=50, help="connections of the open (saturation) runs")
    p.add_argument("--open-urls", type=int, default=40000,
                   help="URLs set aside for each open run (past them, the run repeats and says so)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (keep cores for the server)")
    p.add_argument("--sample", type=int, default=40000, help="distinct codes to request")
    p.add_argument("--only", action="append", metavar="SCENARIO",
                   help="run only this scenario (repeatable): search, suggest, code page, code page + similar,"
                        " code API, search page (a prefix names every scenario it starts)")
    p.add_argument("--json", help="also write the figures here")
    return p.parse_args()


def _paths(catalog: Catalog, sample: int) -> dict[str, list[str]]:
    """URLs per scenario: real codes sampled from the index, queries that mix words and codes."""
    rows = catalog.conn.execute("SELECT system, code FROM codes ORDER BY random() LIMIT ?", (sample,)).fetchall()
    codes = [(r["system"], urllib.parse.quote(r["code"])) for r in rows]
    # the way people type: the search benchmark's lay and abbreviation queries, then some codes
    typed = [line.split("\t")[0] for f in sorted(QUERY_FILES.glob("*.tsv")) for line in f.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    queries = list(dict.fromkeys([*QUERIES, *typed])) + [r["code"] for r in rows[:100]]
    random.Random(7).shuffle(queries)
    prefixes = [q[:n] for q in queries for n in (2, 3, 5, 8) if len(q) >= n]
    q = urllib.parse.quote
    # the long tail: queries asked once, which the server's memory of recent answers cannot help
    # with (the first words of random descriptors, as a coder starts typing one)
    titles = catalog.conn.execute("SELECT title FROM codes ORDER BY random() LIMIT 120000").fetchall()
    rng = random.Random(11)
    firsts = (" ".join(t[0].lower().replace(",", " ").split()[:rng.randint(2, 4)]) for t in titles)
    once = list(dict.fromkeys(x for x in firsts if x))  # a few codes have no descriptor: no empty q
    return {
        "search API": [f"/api/v1/search?q={q(x)}&limit=10" for x in queries],
        "search API, new queries": [f"/api/v1/search?q={q(x)}&limit=10" for x in once],
        "suggest API": [f"/api/v1/suggest?q={q(x)}" for x in prefixes],
        "code page": [f"/codes/{s}/{c}" for s, c in codes],
        # what a browser's first visit asks: the page, then the similar codes app.js fetches after it
        # (the codes from the other end of the sample: none of them was a "code page" run's)
        "code page + similar": [u for s, c in reversed(codes)
                                for u in (f"/codes/{s}/{c}", f"/codes/{s}/{c}/similar?fragment=1")],
        "code API": [f"/api/v1/codes/{s}/{c}" for s, c in codes],
        "search page": [f"/search?q={q(x)}" for x in queries],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "medcodes", "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]
    print("server:", " ".join(cmd), file=sys.stderr)
    with log.open("wb") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)


def _wait(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline, in_a_row = time.monotonic() + 90, 0
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("medcodes serve exited before answering")
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                warm = json.load(r)["warm"]
        except OSError:
            time.sleep(0.2)
            continue
        # each worker builds its similar-codes title indexes for a few seconds after it starts; the
        # figures are of a server that has: warm answers from 20 connections in a row (any worker)
        in_a_row = in_a_row + 1 if warm else 0
        if in_a_row >= 20:
            return
        time.sleep(0.05)
    raise SystemExit("medcodes serve did not answer warm within 90 s")


def _wrk(wrk: str, base: str, script: Path, paths_file: Path, connections: int, seconds: int, threads: int,
         delay_ms: float = 0) -> tuple[dict[str, Any], str]:
    cmd = [wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(script), base]
    env = {**os.environ, "BENCH_PATHS": str(paths_file), "BENCH_DELAY_MS": f"{delay_ms:.1f}"}
    before, cpu_before = _cpu_ticks(), _server_cpu()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    after, cpu_after = _cpu_ticks(), _server_cpu()
    line = next(x for x in out.splitlines() if x.startswith("BENCH "))
    figures = json.loads(line.removeprefix("BENCH "))
    figures["steal_pct"] = _steal_pct(before, after)
    figures["server_cpu_s"] = round(cpu_after - cpu_before, 2)
    shown = f"BENCH_DELAY_MS={delay_ms:.0f} " * (delay_ms > 0) + " ".join(cmd[:-1]) + " URL"
    return figures, shown


class _Urls:
    """A scenario's URLs handed out in order, each to one run only while they last."""

    def __init__(self, name: str, urls: list[str], tmp: Path) -> None:
        self.name, self.urls, self.next, self.tmp, self.files = name, urls, 0, tmp, 0

    def take(self, n: int) -> list[str]:
        got = self.urls[self.next:self.next + n]
        self.next += len(got)
        if len(got) < n and self.urls:  # used up: start over (the run's report counts what it repeated)
            self.next = 0
            got += self.take(n - len(got))
        return got

    def file(self, n: int) -> Path:
        self.files += 1
        path = self.tmp / f"{self.name.replace(' ', '_').replace(',', '')}-{self.files}.txt"
        path.write_text("\n".join(self.take(n)) + "\n")
        return path


def _run_all(wrk: str, base: str, script: Path, tmp: Path, paths: dict[str, list[str]],
             args: argparse.Namespace) -> list[dict[str, Any]]:
    results = []
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    for name, urls in paths.items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        pool = _Urls(name, urls, tmp)
        _wrk(wrk, base, script, pool.file(2000), 4, 3, 1)  # warm: caches, worker connections
        for rate in rates:
            # paced: each connection waits so that all of them together send about `rate` requests/s;
            # a connection's cycle is its wait plus the answer's time, so the wait is shortened by the
            # mean answer time of a calibration run (10 requests/s per connection: a slow answer delays
            # a tenth of a second's worth of requests, not more)
            conns = max(1, math.ceil(rate / 10))
            calib, _ = _wrk(wrk, base, script, pool.file(rate * 4), conns, 3, args.threads, 1000 * conns / rate)
            # never under half the cycle: a calibration run slowed by a moment's load elsewhere would
            # otherwise leave no wait at all, and the "paced" run would be an open one
            cycle = 1000 * conns / rate
            delay = max(cycle / 2, cycle - calib["mean_us"] / 1000)
            speed = _cpu_check()
            paced, cmd = _wrk(wrk, base, script, pool.file(int(rate * args.duration * 2.5)), conns, args.duration,
                              args.threads, delay)
            results.append({**_row(name, f"paced ~{rate}/s", paced, cmd), "cpu_check_ms": speed})
        open_, cmd = _wrk(wrk, base, script, pool.file(args.open_urls), args.connections, args.duration,
                          args.threads)
        results.append(_row(name, f"open, {args.connections} conns", open_, cmd))
        print(f"{name}: done ({pool.next:,} of {len(urls):,} URLs used)", file=sys.stderr)
    return results


def _workers_memory(server_pid: int, index: Path) -> list[dict[str, Any]]:
    """Resident memory of each worker of the server (its child processes, or the server itself with
    one worker), in MB: the index file's pages mapped into it, anonymous memory (the heap: Python
    objects, arrays, SQLite's page cache), and the rest (code and other files)."""
    pids = _children(server_pid) or [server_pid]
    return [{"pid": pid, **_smaps(pid, index.resolve())} for pid in pids]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(x) for x in task.read_text().split()]
    # uvicorn's --workers N also starts a resource tracker: a worker is a child mapping the app's code
    return [c for c in found if _is_worker(c)]


def _is_worker(pid: int) -> bool:
    try:
        return "medcodes" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace") or \
            "spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def _smaps(pid: int, index: Path) -> dict[str, float]:
    """Sums of /proc/PID/smaps: Rss in total, Anonymous memory, and the index file's mappings (with
    its -shm). SQLite maps the file once per connection (a worker has one per thread), so the same
    page counts once in each mapping's Rss: the index's Rss sums those, and its Pss divides each
    page among every mapping of it (in both workers), so the workers' Pss add up to the memory the
    index really takes."""
    total = anonymous = index_rss = index_pss = mappings = 0
    current = ""
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        head = line.split()
        if not head:
            continue
        if not head[0].endswith(":") or "-" in head[0]:  # a mapping's header: address range ... path
            current = head[5] if len(head) > 5 else ""
            mappings += current.startswith(str(index))
            continue
        on_index = current.startswith(str(index))
        if head[0] == "Rss:":
            total += int(head[1])
            index_rss += int(head[1]) if on_index else 0
        elif head[0] == "Pss:" and on_index:
            index_pss += int(head[1])
        elif head[0] == "Anonymous:":
            anonymous += int(head[1])
    return {"rss_mb": round(total / 1024, 1), "index_mappings": mappings, "index_rss_mb": round(index_rss / 1024, 1),
            "index_pss_mb": round(index_pss / 1024, 1), "anonymous_mb": round(anonymous / 1024, 1),
            "other_mb": round((total - index_rss - anonymous) / 1024, 1)}


_SERVER_PID = [0]


def _server_cpu() -> float:
    """CPU seconds (user and system) the server's workers have used: on a machine others load too,
    CPU per request says what wall-clock figures cannot."""
    pids = _children(_SERVER_PID[0]) or [_SERVER_PID[0]]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _cpu_check() -> float:
    """Milliseconds for a fixed pure-Python loop, with the server idle: this virtual machine's speed
    changes by a third from one minute to the next with no steal showing, and a run is only
    comparable with another at a similar figure."""
    start = time.perf_counter()
    sum(i * i for i in range(1_000_000))
    return round((time.perf_counter() - start) * 1000, 1)


def _cpu_ticks() -> list[int]:
    """The machine's CPU time counters (Linux /proc/stat); [] elsewhere."""
    try:
        return [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return []


def _steal_pct(before: list[int], after: list[int]) -> float | None:
    """Share of CPU time the hypervisor gave to other machines during a run: on a shared virtual
    machine the figures of a run with much steal are the host's, not the server's."""
    if len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return round(100 * (after[7] - before[7]) / total, 1) if total > 0 else None


def _row(name: str, mode: str, f: dict[str, Any], cmd: str) -> dict[str, Any]:
    return {"scenario": name, "mode": mode, "rps": round(f["requests"] / (f["duration_us"] / 1e6), 1),
            "p50_ms": f["p50_us"] / 1000, "p90_ms": f["p90_us"] / 1000, "p99_ms": f["p99_us"] / 1000,
            "max_ms": f["max_us"] / 1000, "requests": f["requests"], "errors": f["errors"],
            "repeated": max(0, f["requests"] - f.get("paths", f["requests"])),
            "server_cpu_ms_per_request": round(1000 * f.get("server_cpu_s", 0) / max(1, f["requests"]), 2),
            "non_2xx_3xx": f["non_2xx_3xx"], "steal_pct": f.get("steal_pct"), "command": cmd}


def _target(scenario: str) -> float | None:
    """The p99 target of a scenario: "search API, new queries" is held to the search API's."""
    return next((ms for name, ms in TARGETS.items() if scenario == name or scenario.startswith(name + ",")), None)


def _report(results: list[dict[str, Any]], memory: dict[str, list[dict[str, Any]]], catalog: Catalog,
            args: argparse.Namespace) -> None:
    counts = catalog.counts()
    print(f"\nindex {args.db}: {sum(counts.values()):,} codes ({', '.join(f'{k} {v:,}' for k, v in counts.items())})")
    semantic = os.environ.get("MEDCODES_SEMANTIC", "auto")
    print(f"server: medcodes serve --workers {args.workers} (MEDCODES_SEMANTIC={semantic});"
          f" load: wrk from a second process, {args.duration}s per run; {os.cpu_count()} CPUs;"
          f" load average at the end {os.getloadavg()[0]:.1f}\n")
    print(f"{'scenario':<23} {'mode':<17} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
          f" {'errors':>7} {'repeat':>7} {'cpu/req':>7} {'steal%':>7} {'cpu ms':>7}  target")
    for r in results:
        target = _target(r["scenario"]) if r["mode"].startswith("paced") else None
        verdict = "" if target is None else f"p99 <= {target:g} ms: {'met' if r['p99_ms'] <= target else 'MISSED'}"
        print(f"{r['scenario']:<23} {r['mode']:<17} {r['rps']:>8.1f} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f}"
              f" {r['p99_ms']:>8.2f} {r['max_ms']:>8.2f} {r['errors'] + r['non_2xx_3xx']:>7} {r['repeated']:>7}"
              f" {r['server_cpu_ms_per_request']:>7.2f}"
              f" {'-' if r['steal_pct'] is None else r['steal_pct']:>7} {r.get('cpu_check_ms', ''):>7}  {verdict}")
    print("errors: connection errors, timeouts and answers other than 2xx/3xx; repeat: requests whose URL an"
          " earlier request of the run had asked (the run's URLs ran out)")
    print("cpu/req: CPU milliseconds the server's workers used per answered request (user + system)")
    print("steal%: CPU time the hypervisor gave to other machines during the run (/proc/stat); a run with"
          " much of it measures the host")
    print("cpu ms: a fixed Python loop timed just before the paced run (lower is a faster machine at that moment)")
    print("\nresident memory per worker, MB. index: the index file's pages mapped in (page cache, shared by"
          " the workers): Rss over its maps (one per SQLite connection, so a page counts once per map) and"
          " Pss (each page divided among all maps: the workers' Pss add up to what the index takes);"
          " anonymous: the worker's own heap; other: code and other files")
    print(f"{'when':<7} {'pid':>8} {'RSS':>8} {'maps':>5} {'idx Rss':>8} {'idx Pss':>8} {'anonymous':>10} {'other':>8}")
    for when, workers in memory.items():
        for w in workers:
            print(f"{when:<7} {w['pid']:>8} {w.get('rss_mb', 0):>8.1f} {w.get('index_mappings', 0):>5}"
                  f" {w.get('index_rss_mb', 0):>8.1f} {w.get('index_pss_mb', 0):>8.1f}"
                  f" {w.get('anonymous_mb', 0):>10.1f} {w.get('other_mb', 0):>8.1f}")
    print("\nwrk commands (URL = the server; paths in order from the scenario's list, none used by an earlier run):")
    for cmd in dict.fromkeys(r["command"] for r in results):
        print("  " + cmd)
    if args.json:
        figures = {"db": args.db, "counts": counts, "workers": args.workers, "results": results, "memory": memory}
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    sys.exit(main())
