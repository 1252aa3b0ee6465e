"""Coding edits: what the build step costs and how many codes it covers; LOINC file counts.

    .venv/bin/python bench/edits.py --index medcodes.sqlite [--loinc FILE ...]

Runs the edits build step on a copy of a built index (its ICD-10-CM/PCS codes as loaded) and prints
the step's wall and CPU time (the machine's load beside them) and peak RSS growth, the rows each
official table gave and how many were for codes the index lacks, and the share of billable ICD-10-CM
and ICD-10-PCS codes with each fact. With --loinc, the codes each LOINC file gives (the LOINC table
sample, the Top 2000 files).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medcodes.edits import build  # noqa: E402
from medcodes.model import Code  # noqa: E402
from medcodes.sources import loinc  # noqa: E402

FACTS = {"icd10cm": ("cc_mcc", "cc_exclusion", "ms_drg", "hcc", "mce"), "icd10pcs": ("ms_drg", "mce")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True, type=Path, help="a built index (its edit tables are rebuilt on a copy)")
    ap.add_argument("--loinc", action="append", default=[], type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "idx.sqlite"
        shutil.copy(args.index, copy)
        conn = sqlite3.connect(copy)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu0, t0 = time.process_time(), time.perf_counter()
        build.build(conn)
        conn.commit()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"edits step      {wall:8.1f} s wall  {cpu:6.1f} s CPU  peak RSS +{rss:.0f} MB  (load {load})")
        for key, version, rows, unmatched in conn.execute("SELECT key, version, rows, unmatched FROM edit_sources"):
            print(f"{key:<12} {version:<38} {rows:8,} rows  {unmatched:6,} for codes the index lacks")
        _coverage(conn)
        conn.close()
    for path in args.loinc:
        recs = list(loinc.read(path))
        terms = {r.code for r in recs if isinstance(r, Code) and r.kind == "code"}
        rows = sum(1 for r in recs if isinstance(r, Code) and r.kind == "code")
        classes = sum(1 for r in recs if isinstance(r, Code) and r.kind == "section")
        print(f"loinc {path.name:<45} {rows:6,} rows  {len(terms):6,} terms  {classes:3} classes")


def _coverage(conn: sqlite3.Connection) -> None:
    for system, facts in FACTS.items():
        total = conn.execute("SELECT COUNT(*) FROM codes WHERE system=? AND billable=1", (system,)).fetchone()[0]
        if not total:
            continue
        line = [f"{system:<9} {total:7,} billable codes:"]
        for fact in (*facts, None):
            where = "AND e.fact=?" if fact else ""
            n = conn.execute(
                f"SELECT COUNT(DISTINCT c.code) FROM codes c JOIN code_edits e ON e.system=c.system AND e.code=c.code"
                f" WHERE c.system=? AND c.billable=1 {where}", (system, fact) if fact else (system,)).fetchone()[0]
            line.append(f"{fact or 'any'} {100 * n / total:5.1f}%")
        print("  ".join(line))


if __name__ == "__main__":
    main()
