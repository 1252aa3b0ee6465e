"""Full build of the embedded default: wall time, CPU time, peak RSS, index size, counts per system.

    .venv/bin/python bench/build.py [--source NAME=PATH ...] [--keep PATH]

Runs `medcodes build` in a child process so peak RSS and CPU time are the build's own (its worker
process's included: CPU is the sum of both, and the RSS of both together is sampled).
Targets: <= 60 s wall and <= 1 GB peak RSS on a 2-core machine. The machine's load is printed
before and after (a shared machine's wall time says as much about the others as about the build;
the CPU time says less about them), and the counts per system are compared with the publishers'
own record counts.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# (what, SQL counting it, the publisher's count, where the publisher says so)
PUBLISHED: tuple[tuple[str, str, int, str], ...] = (
    ("HCPCS Level II codes, January 2025",
     "SELECT COUNT(*) FROM codes WHERE system='hcpcs' AND kind='code'", 8_259,
     "CMS HCPC2025_JAN_ANWEB procedure records (RIC 3)"),
    ("HCPCS Level II modifiers, January 2025",
     "SELECT COUNT(*) FROM codes WHERE system='hcpcs-mod'", 383, "CMS HCPC2025_JAN_ANWEB modifier records (RIC 7)"),
    ("ICD-10-PCS codes, FY2026",
     "SELECT COUNT(*) FROM codes WHERE system='icd10pcs' AND kind='code'", 79_115, "CMS icd10pcs_codes_2026.txt"),
    ("ICD-10-PCS tables, FY2026",
     "SELECT COUNT(*) FROM codes WHERE system='icd10pcs' AND kind='table'", 914, "CMS icd10pcs_tables_2026.xml"),
    ("ICD-10-CM billable codes, FY2026",
     "SELECT SUM(billable) FROM codes WHERE system='icd10cm'", 74_719, "CMS icd10cm_codes_2026.txt"),
    ("Place of Service codes",
     "SELECT COUNT(*) FROM codes WHERE system='pos'", 52, "CMS POS code set (HL7 THO CodeSystem 20240502)"),
    ("ICD-9-CM diagnosis codes, v32",
     "SELECT SUM(billable) FROM codes WHERE system='icd9cm'", 14_567, "CMS32_DESC_LONG_DX.txt"),
    ("ICD-9-CM procedure codes, v32",
     "SELECT SUM(billable) FROM codes WHERE system='icd9pcs'", 3_882, "CMS32_DESC_LONG_SG.txt"),
)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants together (Linux /proc; 0 elsewhere)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        todo.extend(int(c) for c in children)
    return total


class TreeRss(threading.Thread):
    """Samples the build's processes (the build and its worker) ten times a second: ru_maxrss is the
    largest single process, this is what they hold at once."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.peak = max(self.peak, tree_rss(self.pid))


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--keep", help="keep the index at this path")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or Path(tmp) / "bench.sqlite")
        cmd = [sys.executable, "-m", "medcodes", "build", "--out", str(out)]
        for s in args.source:
            cmd += ["--source", s]
        before = load_line()
        t0 = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = TreeRss(child.pid)
        sampler.start()
        stdout, stderr = child.communicate()
        wall = time.perf_counter() - t0
        sampler.done.set()
        sampler.join()
        proc = subprocess.CompletedProcess(cmd, child.returncode, stdout, stderr)
        after = load_line()
        if proc.returncode:
            sys.exit(f"build failed:\n{proc.stderr}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        conn = sqlite3.connect(out)
        counts = conn.execute("SELECT system, COUNT(*), SUM(billable) FROM codes GROUP BY system").fetchall()
        terms = conn.execute("SELECT source, COUNT(*) FROM terms GROUP BY source ORDER BY source").fetchall()
        refs = conn.execute("SELECT kind, COUNT(*) FROM term_refs GROUP BY kind ORDER BY kind").fetchall()
        unresolved = conn.execute("SELECT source, COUNT(*) FROM unresolved_terms GROUP BY source").fetchall()
        rels = conn.execute("SELECT COUNT(*) FROM relations").fetchone()[0]
        published = [(what, conn.execute(sql).fetchone()[0] or 0, n, where) for what, sql, n, where in PUBLISHED]
        conn.close()
        print(proc.stderr.strip())
        print(f"\nbefore          {before}")
        print(f"after           {after}")
        print(f"wall            {wall:8.1f} s   (target <= 60 s)")
        print(f"CPU (user+sys)  {usage.ru_utime + usage.ru_stime:8.1f} s")
        print(f"peak RSS        {usage.ru_maxrss / 1024:8.0f} MB  (largest process)")
        print(f"peak RSS, all   {sampler.peak / 2**20:8.0f} MB  (target <= 1024 MB; the build and its worker"
              " together, sampled every 0.1 s)")
        print(f"index size      {out.stat().st_size / 2**20:8.1f} MB")
        print(f"relations       {rels:8,}")
        for source, n in terms:
            print(f"terms {source:<9} {n:8,}")
        for kind, n in refs:
            print(f"refs {kind:<10} {n:8,}")
        for source, n in unresolved:
            print(f"unresolved {source:<4} {n:8,}  (index entries whose code is not in the loaded release)")
        for system, n, billable in counts:
            print(f"{system:<15} {n:8,} codes  {billable or 0:8,} billable")
        print("\ncounts against the publishers' own")
        for what, found, n, where in published:
            print(f"  {'OK  ' if found == n else 'DIFF'} {what:<40} {found:8,}  published {n:8,}  ({where})")


if __name__ == "__main__":
    main()
