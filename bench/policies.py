"""Medical policies: quality of code extraction and of covered / not-covered calls, and ingest throughput.

    .venv/bin/python bench/policies.py [--db INDEX] [--copies 10] [--json]

Quality is scored on tests/data/policies/corpus (payer-style documents written for this, with their true
code lists in gold.json): a code mention counts as found when its system, first and last code (or "*" for
"E11.-") match; the coverage call (covered / not covered / investigational) counts when the code is found
with the right call. "dev" documents are the ones the rules were written against; "holdout" ones were
written before the rules they test and scored while tuning; "report" ones were written after the rules were
frozen and never tuned on. "links" scores what reaches the code pages, by kind of document (billing
article, multi-page PDF, text bulletin, revision history...): every code, ranges expanded in the catalog's
order, with its stance (the narrower statement winning, as the linker does); "history" scores the codes
kept apart as the policy's revision history. Without --db the codes are checked against the test catalog
(tests/data/policies/catalog.tsv, a sample of the official code lists the corpus cites); with --db, a
real index (build it with HCPCS for the HCPCS codes to count).

Throughput ingests each corpus document `--copies` times into a fresh store (parse, sanitise, extract,
check, link, write one transaction), HTML and PDF apart, and prints documents per second.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from medcodes import settings  # noqa: E402
from medcodes.app.build import build_from_records  # noqa: E402
from medcodes.index import Catalog  # noqa: E402
from medcodes.policies.documents import read_bytes  # noqa: E402
from medcodes.policies.ingest import document_record  # noqa: E402
from medcodes.policies.linking import CatalogChecker  # noqa: E402
from medcodes.policies.records import COVERAGE_SECTIONS  # noqa: E402
from medcodes.policies.store import PolicyStore  # noqa: E402
from tests.policies.conftest import catalog_records  # noqa: E402
from tests.policies.corpus import Report, doc_kind, document_bytes, evaluate, gold, load, parse_key, predicted  # noqa: E402

# dev: the documents the rules were written against; holdout: written before the rules they test and
# scored while tuning; report: written after the rules were frozen and scored, never tuned on.
SPLITS = ("dev", "holdout", "report")


def checker_for(db: str | None, tmp: Path) -> tuple[CatalogChecker, str]:
    if db:
        return CatalogChecker(Catalog(settings.db_path(db))), f"index {db}"
    path = tmp / "catalog.sqlite"
    build_from_records(list(catalog_records()), path)
    return CatalogChecker(Catalog(path)), "test catalog (tests/data/policies/catalog.tsv)"


def per_class(checker: CatalogChecker) -> dict[str, dict[str, float]]:
    """Precision and recall of each coverage call, over all documents."""
    tp: Counter[str] = Counter()
    said: Counter[str] = Counter()
    true: Counter[str] = Counter()
    for name, expected in gold().items():
        truth = {parse_key(k): v for k, v in expected["codes"].items()}
        found = predicted(load(name), checker)
        for key, section in found.items():
            said[section] += 1
            tp[section] += truth.get(key) == section
        for section in truth.values():
            true[section] += 1
    return {s: {"precision": tp[s] / said[s] if said[s] else 1.0, "recall": tp[s] / true[s] if true[s] else 1.0,
                "true": true[s]} for s in COVERAGE_SECTIONS}


def corpus_sets() -> dict[str, list[tuple[bytes, str]]]:
    """The corpus documents by format, plus one long document of each (every body joined: ~90 KB, ~20 pages)."""
    from tests.policies.pdfgen import text_pdf

    sets: dict[str, list[tuple[bytes, str]]] = {"html": [], "pdf": []}
    for name in sorted(gold()):
        data, shown = document_bytes(name)
        for kind in sets:
            if shown.endswith(f".{kind}"):
                sets[kind].append((data, shown))
    bodies = [d.split(b"<body", 1)[-1].split(b">", 1)[-1].rsplit(b"</body>", 1)[0] for d, _ in sets["html"]]
    sets["html, long"] = [(b"<html><body>" + b"\n".join(bodies) + b"</body></html>", "long.html")]
    texts = [(REPO / "tests/data/policies/corpus" / n).read_text() for n in sorted(gold()) if n.endswith(".pdfsrc")]
    sets["pdf, long"] = [(text_pdf("\n\n".join(texts * 2)), "long.pdf")]
    return sets


def throughput(checker: CatalogChecker, copies: int, tmp: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind, docs in corpus_sets().items():
        store = PolicyStore(tmp / f"store-{kind.replace(', ', '-')}.sqlite")
        size = sum(len(d) for d, _ in docs) * copies
        start = time.perf_counter()
        for i in range(copies):
            for data, shown in docs:
                doc = read_bytes(data, name=f"{shown}#{i}")
                store.put(document_record(doc, checker, policy_id=f"{shown}-{i}"))
        seconds = time.perf_counter() - start
        n = len(docs) * copies
        out[kind] = {"documents": n, "seconds": round(seconds, 3), "docs_per_s": round(n / seconds, 1),
                     "mb_per_s": round(size / seconds / 1e6, 2), "avg_kb": round(size / n / 1024, 1)}
        store.close()
    return out


def figures(r: Report) -> dict[str, Any]:
    return {
        "documents": r.documents, "codes": {"precision": r.codes.precision, "recall": r.codes.recall,
                                            "true": r.codes.tp + r.codes.fn},
        "coverage": {"precision": r.coverage.precision, "recall": r.coverage.recall},
        "section_accuracy": r.section_accuracy,
        "metadata_accuracy": r.metadata_right / r.metadata_total if r.metadata_total else 1.0,
        "links": {"precision": r.links.precision, "recall": r.links.recall, "true": r.links.tp + r.links.fn,
                  "stance_accuracy": r.stance_accuracy},
        "history": {"precision": r.history.precision, "recall": r.history.recall, "true": r.history.tp + r.history.fn},
        "misses": r.codes.misses, "false_positives": r.codes.false_positives,
        "coverage_errors": r.coverage.false_positives, "link_misses": r.links.misses,
        "link_false_positives": r.links.false_positives, "stance_errors": r.stance_errors,
        "history_errors": [f"missed {m}" for m in r.history.misses] + [f"wrong {m}" for m in r.history.false_positives]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="a real index to check codes against (default: the test catalog)")
    p.add_argument("--copies", type=int, default=10, help="times each document is ingested for throughput")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        checker, where = checker_for(args.db, tmp)
        results: dict[str, Any] = {"catalog": where, "documents": len(gold())}
        for split in (*SPLITS, None):
            results[split or "all"] = figures(evaluate(checker, split))
        results["by_kind"] = {k: {s or "all": figures(evaluate(checker, s, k)) for s in (*SPLITS, None)}
                              for k in sorted({doc_kind(n) for n in gold()})}
        results["coverage_by_class"] = per_class(checker)
        results["throughput"] = throughput(checker, args.copies, tmp)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print_report(results)
    return 0


def print_report(r: dict[str, Any]) -> None:
    print(f"corpus: {r['documents']} documents; codes checked against the {r['catalog']}\n")
    print(f"{'':10} {'docs':>5} {'codes':>6} {'code P':>7} {'code R':>7} {'cover P':>8} {'cover R':>8}"
          f" {'section':>8} {'metadata':>9}")
    for split in (*SPLITS, "all"):
        s = r[split]
        print(f"{split:10} {s['documents']:>5} {s['codes']['true']:>6} {s['codes']['precision']:>7.3f}"
              f" {s['codes']['recall']:>7.3f} {s['coverage']['precision']:>8.3f} {s['coverage']['recall']:>8.3f}"
              f" {s['section_accuracy']:>8.3f} {s['metadata_accuracy']:>9.3f}")
    print("\ncoverage calls:", ", ".join(f"{k} P {v['precision']:.3f} R {v['recall']:.3f} (n={v['true']})"
                                         for k, v in r["coverage_by_class"].items()))
    print("\nlinks (what the code pages get, ranges expanded) and their stance, by kind of document:")
    print(f"{'':22} {'split':8} {'docs':>5} {'links':>6} {'link P':>7} {'link R':>7} {'stance':>7}"
          f" {'history P':>10} {'history R':>10}")
    rows = [(k, s, v) for k, by in r["by_kind"].items() for s, v in by.items()] + \
        [("all kinds", s, r[s]) for s in (*SPLITS, "all")]
    for k, split, v in rows:
        if not v["documents"]:
            continue
        lk, h = v["links"], v["history"]
        hist = f"{h['precision']:>10.3f} {h['recall']:>10.3f}" if h["true"] else f"{'-':>10} {'-':>10}"
        print(f"{k:22} {split:8} {v['documents']:>5} {lk['true']:>6} {lk['precision']:>7.3f} {lk['recall']:>7.3f}"
              f" {lk['stance_accuracy']:>7.3f} {hist}")
    for kind, t in r["throughput"].items():
        print(f"ingest {kind:10}: {t['docs_per_s']:>7.1f} documents/s ({t['mb_per_s']} MB/s, {t['documents']} documents"
              f" of {t['avg_kb']} KB on average, parse + extract + link + store)")
    for label, key in (("missed", "misses"), ("false positives", "false_positives"),
                       ("wrong coverage calls", "coverage_errors"), ("links missed", "link_misses"),
                       ("links wrongly made", "link_false_positives"), ("links with the wrong stance", "stance_errors"),
                       ("revision history", "history_errors")):
        if r["all"][key]:
            print(f"\n{label}:\n  " + "\n  ".join(r["all"][key]))


if __name__ == "__main__":
    sys.exit(main())
