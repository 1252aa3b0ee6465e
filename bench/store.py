"""Policy ingest and read throughput of the durable store, on the SQLite file and on PostgreSQL.

    python bench/store.py                          # a throwaway PostgreSQL cluster from Debian's binaries
    python bench/store.py --pg postgresql://me@127.0.0.1:5432/bench   # an existing, empty database
    python bench/store.py --policies 400 --links 60 --reads 4000 --threads 4

For each backend: `ingest` stores N invented policies of `--links` codes each (one transaction per
policy, as `medcodes policies ingest` does); `code reads` asks for the policies citing a code, as a
code page does (`policies_for_code`), from `--threads` threads; `searches` runs word searches
(`search_policies`). Prints wall and CPU seconds and per-second rates; run it on an idle machine
(it prints the load average), and compare the two backends from the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from medcodes import storage  # noqa: E402
from medcodes.policies.queries import policies_for_code, search_policies  # noqa: E402
from medcodes.policies.records import Link, PolicyRecord  # noqa: E402
from medcodes.policies.store import PolicyStore  # noqa: E402

WORDS = ("wheelchair", "glucose", "monitor", "infusion", "biopsy", "imaging", "therapy", "orthosis", "sleep",
         "apnea", "dialysis", "transplant", "injection", "prosthesis", "oxygen")


def codes(n: int) -> list[str]:
    return [f"E{10 + i // 10}.{i % 10}" for i in range(n)]


def policy(i: int, links: int, pool: list[str], rng: random.Random) -> PolicyRecord:
    cited = rng.sample(pool, links)
    words = " ".join(rng.choice(WORDS) for _ in range(400))
    text = f"Invented policy {i}. " + words + " Codes: " + ", ".join(cited)
    return PolicyRecord(payer=f"Plan {i % 7}", title=f"Invented policy {i} on {rng.choice(WORDS)}", kind="document",
                        content_hash=f"h{i}", policy_id=f"P-{i}", text=text, source=f"policy-{i}.html",
                        links=tuple(Link("icd10cm", c, "covered", f"… {c} …", c, True) for c in cited))


def timed(fn: Callable[[], int]) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    n = fn()
    return n, time.perf_counter() - wall, time.process_time() - cpu


def run(where: str, label: str, args: argparse.Namespace) -> None:
    rng = random.Random(7)
    pool = codes(900)
    records = [policy(i, args.links, pool, rng) for i in range(args.policies)]
    store = PolicyStore(where)

    def ingest() -> int:
        for r in records:
            store.put(r)
        return len(records)

    asked = [rng.choice(pool) for _ in range(args.reads)]

    def reads() -> int:
        with ThreadPoolExecutor(args.threads) as ex:
            return sum(1 for _ in ex.map(lambda c: policies_for_code(where, "icd10cm", c), asked))

    queries = [" ".join(rng.sample(WORDS, 2)) for _ in range(args.reads // 10)]

    def searches() -> int:
        with ThreadPoolExecutor(args.threads) as ex:
            return sum(1 for _ in ex.map(lambda q: search_policies(where, q, limit=20), queries))

    for name, fn, unit in (("ingest", ingest, "policies"), ("code reads", reads, "reads"),
                           ("searches", searches, "searches")):
        n, wall, cpu = timed(fn)
        print(f"{label:<10} {name:<11} {n:>6} {unit:<9} wall {wall:7.2f} s  cpu {cpu:7.2f} s"
              f"  {n / wall:9.1f}/s")
    storage.forget(where)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pg", help="an empty PostgreSQL database (default: a throwaway cluster)")
    p.add_argument("--policies", type=int, default=300)
    p.add_argument("--links", type=int, default=60, help="codes each policy cites")
    p.add_argument("--reads", type=int, default=3000)
    p.add_argument("--threads", type=int, default=4)
    args = p.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        run(str(Path(tmp) / "store.sqlite"), "sqlite", args)
    if args.pg:
        run(args.pg, "postgresql", args)
    else:
        from tests import postgres

        with postgres.cluster() as server:
            run(postgres.new_database(server), "postgresql", args)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
