"""Full build of the embedded default: wall time, peak RSS, index size, counts per system.

    .venv/bin/python bench/build.py [--source NAME=PATH ...]

Runs `medcodes build` in a child process so peak RSS is the build's own.
Targets (issue #2): <= 60 s wall and <= 1 GB peak RSS on the 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


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
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode:
            sys.exit(f"build failed:\n{proc.stderr}")
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        conn = sqlite3.connect(out)
        counts = conn.execute("SELECT system, COUNT(*), SUM(billable) FROM codes GROUP BY system").fetchall()
        terms = conn.execute("SELECT COUNT(*) FROM terms").fetchone()[0]
        rels = conn.execute("SELECT COUNT(*) FROM relations").fetchone()[0]
        conn.close()
        print(proc.stderr.strip())
        print(f"\nwall            {wall:8.1f} s   (target <= 60 s)")
        print(f"peak RSS        {rss_mb:8.0f} MB  (target <= 1024 MB)")
        print(f"index size      {out.stat().st_size / 2**20:8.1f} MB")
        print(f"terms           {terms:8,}")
        print(f"relations       {rels:8,}")
        for system, n, billable in counts:
            print(f"{system:<15} {n:8,} codes  {billable or 0:8,} billable")


if __name__ == "__main__":
    main()
