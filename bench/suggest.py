"""Suggestion benchmark: latency of `suggest()` as people type, and what the re-scoring depth costs.

    .venv/bin/python bench/suggest.py --db full.sqlite

The prefixes are what the search box sends while someone types the benchmark's queries (2, 3, 5 and
8 characters of each, as bench/serve.py asks). Printed: p50/p90/p99/max latency in-process on the
first pass (nothing remembered yet) and on a second pass, and agreement of the lists with those of a
search's re-scoring depth (engine.CANDIDATES): the same first suggestion, and the share of the 8
that are the same.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from medcodes import search
from medcodes.index import Catalog
from medcodes.search import engine, results

QUERY_FILES = Path(__file__).resolve().parent / "queries"
LIMIT = 8


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("MEDCODES_DB", "full.sqlite"))
    p.add_argument("--sample", type=int, default=800, help="prefixes timed")
    p.add_argument("--candidates", type=int, help=f"re-scored per suggestion (default {results.SUGGEST_CANDIDATES})")
    args = p.parse_args()
    if args.candidates:
        results.SUGGEST_CANDIDATES = args.candidates
    catalog = Catalog(args.db)
    prefixes = _prefixes(catalog)[:args.sample]
    search.suggest(catalog, "warm up", LIMIT)
    search.suggest(catalog, "E11", LIMIT)
    first = _timed(catalog, prefixes)
    again = _timed(catalog, prefixes)
    print(f"index {args.db}; {len(prefixes)} prefixes; re-scored candidates {results.SUGGEST_CANDIDATES}"
          f" (search: {engine.CANDIDATES})")
    for name, (ms, _) in (("first pass", first), ("second pass", again)):
        ms = sorted(ms)
        print(f"{name:<12} p50 {_pct(ms, 50):6.2f} ms  p90 {_pct(ms, 90):6.2f}  p99 {_pct(ms, 99):6.2f}"
              f"  max {ms[-1]:7.2f}  {len(ms) / (sum(ms) / 1000):6.0f} suggestions/s")
    slow = sorted(zip(first[0], prefixes, strict=True), reverse=True)[:8]
    print("slowest (first pass):", ", ".join(f"{q!r} {t:.0f} ms" for t, q in slow))
    shallow = again[1]
    kept = results.SUGGEST_CANDIDATES
    results.SUGGEST_CANDIDATES = engine.CANDIDATES
    try:
        deep = _timed(catalog, prefixes)[1]
    finally:
        results.SUGGEST_CANDIDATES = kept
    same_first = sum(1 for a, b in zip(shallow, deep, strict=True) if a[:1] == b[:1]) / len(prefixes)
    overlap = sum(len(set(a) & set(b)) / len(b) if b else float(not a)
                  for a, b in zip(shallow, deep, strict=True)) / len(prefixes)
    print(f"against {engine.CANDIDATES} re-scored: same first suggestion {same_first:.3f},"
          f" same suggestions {overlap:.3f} of {LIMIT}")
    return 0


def _prefixes(catalog: Catalog) -> list[str]:
    typed = [line.split("\t")[0] for f in sorted(QUERY_FILES.glob("*.tsv")) for line in f.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    rows = catalog.conn.execute("SELECT code FROM codes ORDER BY random() LIMIT 100").fetchall()
    queries = list(dict.fromkeys(typed)) + [r[0] for r in rows]
    random.Random(7).shuffle(queries)
    return [q[:n] for q in queries for n in (2, 3, 5, 8) if len(q) >= n]


def _timed(catalog: Catalog, prefixes: list[str]) -> tuple[list[float], list[list[str]]]:
    ms, lists = [], []
    for q in prefixes:
        start = time.perf_counter()
        found = search.suggest(catalog, q, LIMIT)
        ms.append((time.perf_counter() - start) * 1000)
        lists.append([f"{r['system']}:{r['code']}" for r in found])
    return ms, lists


def _pct(sorted_ms: list[float], pct: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * pct / 100))]


if __name__ == "__main__":
    sys.exit(main())
