"""Generation throughput against the local test server: is the pipeline itself a bottleneck?

    .venv/bin/python bench/generate.py [--db INDEX] [--codes 2000] [--concurrency 1,4,16,64] [--latency 0,0.2]

For each server latency and concurrency, generates explainers for the same codes into a fresh
store (the real pipeline: code data, prompt, HTTP client, JSON checks, store writes) and prints
codes/s. The test server runs in a child process so its CPU time is not the pipeline's.
At latency L and concurrency C an endpoint-bound run can reach C / L codes/s; with latency 0 the
figure is the pipeline's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medcodes import settings
from medcodes.app.build import build_from_records
from medcodes.content.generate import generate
from medcodes.content.llm import OpenAIChatClient
from medcodes.content.store import ContentStore
from medcodes.index import Catalog
from medcodes.model import Code, Note, Release


def synthetic_index(path: Path, n: int) -> list[tuple[str, str]]:
    """n made-up ICD-10-CM-shaped codes in families of 10, with notes, when no index is given."""
    records: list[object] = [Release("icd10cm", "synthetic")]
    targets = []
    for fam in range(min(n // 10 + 1, 2300)):
        cat = f"{'ABCDEFGHJKLMNPQRSTVWXYZ'[fam // 100 % 23]}{fam % 100:02d}"
        records.append(Code("icd10cm", cat, f"Made-up condition family {fam}", kind="category", billable=False,
                            notes=(Note("excludes1", "another made-up condition"),)))
        for i in range(10):
            code = f"{cat}.{i}"
            records.append(Code("icd10cm", code, f"Made-up condition family {fam}, variant {i}", parent=cat,
                                billable=True))
            targets.append(("icd10cm", code))
    build_from_records(records, path)  # type: ignore[arg-type]
    return targets[:n]


def billable_targets(catalog: Catalog, n: int) -> list[tuple[str, str]]:
    rows = catalog.conn.execute("SELECT system, code FROM codes WHERE billable=1 AND system IN"
                                " ('icd10cm', 'icd10pcs', 'hcpcs') ORDER BY random() LIMIT ?", (n,))
    return [(r[0], r[1]) for r in rows]


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "medcodes.content.fakellm", "--slow", str(latency)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


async def one_run(catalog: Catalog, store: ContentStore, url: str, targets: list[tuple[str, str]],
                  concurrency: int) -> tuple[float, int, int]:
    client = OpenAIChatClient(url, "bench", concurrency=concurrency)
    try:
        report = await generate(catalog, store, client, targets, concurrency=concurrency)
    finally:
        await client.aclose()
    return report.seconds, report.generated, report.failed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="an index (default: a synthetic one)")
    ap.add_argument("--codes", type=int, default=2000)
    ap.add_argument("--concurrency", default="1,4,16,64")
    ap.add_argument("--latency", default="0,0.2", help="server seconds per answer, comma-separated")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            catalog = Catalog(settings.db_path(args.db))
            targets = billable_targets(catalog, args.codes)
        else:
            targets = synthetic_index(Path(tmp) / "idx.sqlite", args.codes)
            catalog = Catalog(Path(tmp) / "idx.sqlite")
        print(f"{len(targets)} codes from {'the index ' + args.db if args.db else 'a synthetic index'}")
        print(f"{'latency s':>9} {'concurrency':>11} {'codes':>6} {'failed':>6} {'seconds':>8} {'codes/s':>8}"
              f" {'ceiling C/L':>11}")
        for latency in (float(x) for x in args.latency.split(",")):
            proc, url = start_server(latency)
            try:
                for c in (int(x) for x in args.concurrency.split(",")):
                    n = len(targets) if latency == 0 else min(len(targets), max(20, int(c / latency * 5)))
                    store = ContentStore(Path(tmp) / f"store-{latency}-{c}-{time.time_ns()}.sqlite")
                    seconds, done, failed = asyncio.run(one_run(catalog, store, url, targets[:n], c))
                    ceiling = f"{c / latency:11.1f}" if latency else f"{'—':>11}"
                    print(f"{latency:9.2f} {c:11d} {done:6d} {failed:6d} {seconds:8.2f} {done / seconds:8.1f}"
                          f" {ceiling}")
            finally:
                proc.terminate()
                proc.wait()


if __name__ == "__main__":
    main()
