"""The semantic build step alone, on a copy of a built index: wall and CPU time, peak RSS, size;
then success@1/@10 on lay paraphrases (bench/queries/meaning.tsv) with semantic retrieval off and on.

    .venv/bin/python bench/vectors.py --db full.sqlite [--queries 500]

Runs the step (medcodes.search.semantic.build) in this process on a copy of the index, so the
figures are the step's own: RSS before it (Python, numpy, the open index) and its peak. Then times
what a query adds when it is fused: encoding the words and the similarity to every stored vector.
The whole build (bench/build.py) includes this step; `medcodes build` logs its time as
"step medcodes.search.semantic".
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from medcodes.search import semantic  # noqa: E402


def rss_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MB."""
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    return current, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", default=os.environ.get("MEDCODES_TEST_FULL_DB", "full.sqlite"))
    p.add_argument("--queries", type=int, default=500)
    args = p.parse_args()
    os.environ["MEDCODES_SEMANTIC"] = "on"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index.sqlite"
        shutil.copyfile(args.db, copy)
        conn = sqlite3.connect(copy)
        conn.execute("DROP TABLE IF EXISTS search_vectors")
        conn.commit()
        before, _ = rss_mb()
        cpu0, t0 = time.process_time(), time.perf_counter()
        semantic.build(conn)
        conn.commit()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        _, peak = rss_mb()
        n, size = conn.execute("SELECT length(ids) / 4, length(ids) + length(vectors) + length(weights)"
                               " FROM search_vectors").fetchone()
        print(f"vector step: {n:,} texts  {wall:.2f} s wall  {cpu:.2f} s CPU  RSS {before:.0f} MB before,"
              f" peak {peak:.0f} MB  stored {size / 1e6:.1f} MB ({semantic.model_name()}, {semantic.DIM} dims)"
              f"  load average {os.getloadavg()[0]:.1f}")
        index = semantic.load(conn)
        assert index is not None
        titles = [r[0] for r in conn.execute("SELECT title FROM codes WHERE system='icd9cm'")]
        rng = random.Random(20261202)
        queries = [" ".join(rng.sample(t.lower().split(), min(4, len(t.split()))))
                   for t in rng.sample(titles, args.queries)]
        keep = np.ones(len(index.ids), dtype=bool)
        times, cpus = [], []
        for q in queries:
            t, c = time.perf_counter(), time.process_time()
            vec = index.model.encode([q], index.weights)[0]
            semantic.nearest(index, vec, keep)
            times.append((time.perf_counter() - t) * 1e3)
            cpus.append((time.process_time() - c) * 1e3)
        times.sort()
        print(f"per fused query: encode + similarity to {len(index.ids):,} vectors"
              f"  p50 {statistics.median(times):.2f} ms"
              f"  p99 {times[int(len(times) * 0.99) - 1]:.2f} ms wall, mean {statistics.mean(cpus):.2f} ms CPU"
              f"  (vectors {(index.coarse.nbytes + index.full.nbytes) / 1e6:.0f} MB in memory)")
    meaning(Path(args.db))


def meaning(db: Path) -> None:
    """success@1/@10 and empty answers on the paraphrase set, searched in ICD-10-CM, off and on."""
    from medcodes.index import Catalog
    from medcodes.search import engine_for, search
    from medcodes.systems import compact

    rows = []
    for line in (REPO / "bench" / "queries" / "meaning.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            q, wanted = line.split("\t")[:2]
            rows.append((q, [compact(e.partition(":")[2]) for e in wanted.split("|")]))
    for mode in ("off", "on"):
        os.environ["MEDCODES_SEMANTIC"] = mode
        cat = Catalog(db)
        engine_for(cat)
        s1 = s10 = empty = 0
        for q, expect in rows:
            got = [compact(r["code"]) for r in search(cat, q, systems=["icd10cm"], limit=10)["results"]]
            ok = [any(c.startswith(e) for e in expect) for c in got]
            s1 += bool(ok and ok[0])
            s10 += any(ok)
            empty += not got
        n = len(rows)
        print(f"meaning      {n:>4}  semantic={mode:<3}  s@1 {s1 / n:.3f}  s@10 {s10 / n:.3f}  empty {empty}")


if __name__ == "__main__":
    main()
