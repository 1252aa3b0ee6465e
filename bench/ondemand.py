"""Explainers on demand, measured: a real `medcodes serve --workers 2` with the local fake model server.

    python bench/ondemand.py [--db INDEX] [--codes 8] [--rounds 30] [--busy-model-seconds 2]

Prints
- the time from a code page's first open to the page showing the generated sections (the page is
  fetched again every 50 ms, as a reader reloading would), the fake model answering at once;
- page latency (median, p95, max) of code pages that already have their text, with the queue idle,
  then with the queue busy: every other code of the index opened (queued), the model taking
  `--busy-model-seconds` per answer, the worker generating the whole time;
- the latency of the opens that queued a code (a page view that writes the queue row);
- the similar-codes fragment of the written pages, idle and busy: similar codes are remembered per
  state of the store file, which every queue write changes.

Without --db it builds the small hand-made index of the tests (tests/content/conftest.py).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medcodes.app.build import build_from_records  # noqa: E402
from medcodes.content.fakellm import FakeLLM  # noqa: E402
from tests import live  # noqa: E402

WRITTEN = "Explained by a language model"


def fetch(url: str) -> tuple[float, str]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read().decode()
    return time.perf_counter() - started, body


def summary(name: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{name:44} n={len(ms):4}  median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  max {ms[-1]:7.1f} ms"


def billable(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT system, code FROM codes WHERE billable=1 AND deleted_in IS NULL ORDER BY system, seq LIMIT 400")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, help="an index built by `medcodes build` (default: the tests' small one)")
    ap.add_argument("--codes", type=int, default=8, help="codes timed from first open to sections shown")
    ap.add_argument("--rounds", type=int, default=30, help="fetches of each written page per latency figure")
    ap.add_argument("--busy-model-seconds", type=float, default=2.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="medcodes-ondemand-"))
    db = args.db
    if db is None:
        from tests.content.conftest import RECORDS

        db = tmp / "index.sqlite"
        build_from_records(RECORDS, db)  # type: ignore[arg-type]  # the tests' list of every record kind
    codes = billable(db)
    first, rest = codes[:args.codes], codes[args.codes:]
    with FakeLLM() as llm:
        env = {"MEDCODES_STORE": str(tmp / "store.sqlite"), "MEDCODES_LLM_BASE_URL": llm.base_url,
               "MEDCODES_LLM_MODEL": "fake", "MEDCODES_ONDEMAND_QUEUE": "10000"}
        with live.medcodes_serve(db, tmp / "serve.log", "--workers", "2", env=env, start_s=120) as base:
            print(f"index {db.name}: {len(codes)} billable codes; medcodes serve --workers 2, fake model on 127.0.0.1")
            shown = []
            for system, code in first:
                url = f"{base}/codes/{system}/{code}"
                started = time.perf_counter()
                while WRITTEN not in fetch(url)[1]:
                    time.sleep(0.05)
                shown.append(time.perf_counter() - started)
            print(summary("first open -> sections shown (fake model)", shown))
            urls = [f"{base}/codes/{s}/{c}" for s, c in first]
            idle = [fetch(u)[0] for _ in range(args.rounds) for u in urls]
            print(summary("written pages, queue idle", idle))
            similar = [fetch(u + "/similar?fragment=1")[0] for _ in range(args.rounds) for u in urls]
            print(summary("their similar codes (app.js's 2nd request), idle", similar))
            llm.default, llm.slow_seconds = "slow", args.busy_model_seconds
            before = len(llm.requests)
            queued = [fetch(f"{base}/codes/{s}/{c}")[0] for s, c in rest]
            if queued:
                print(summary("opens that queue a code", queued))
            busy = [fetch(u)[0] for _ in range(args.rounds) for u in urls]
            print(summary(f"written pages, queue busy ({len(rest)} queued)", busy))
            similar = [fetch(u + "/similar?fragment=1")[0] for _ in range(args.rounds) for u in urls]
            print(summary("their similar codes, queue busy", similar))
            print(f"model requests during the busy run: {len(llm.requests) - before}; most at once (whole run)"
                  f" {llm.max_in_flight}")


if __name__ == "__main__":
    main()
