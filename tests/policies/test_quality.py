"""Extraction quality on the payer-style corpus: codes (precision >= 0.98, recall >= 0.95), and what reaches
the code pages (links: precision and recall >= 0.99, stance >= 0.97), for every kind of document."""

from __future__ import annotations

import pytest

from medcodes.policies.linking import CatalogChecker

from .corpus import Report, doc_kind, evaluate, gold


@pytest.fixture(scope="module")
def report(checker: CatalogChecker) -> Report:
    return evaluate(checker)


def test_corpus_is_big_enough_and_varied() -> None:
    names = list(gold())
    assert len(names) >= 50
    assert {n.rsplit(".", 1)[-1] for n in names} >= {"html", "txt", "pdfsrc", "md"}
    assert sum(d.get("split") == "holdout" for d in gold().values()) >= 8


def test_code_extraction_meets_the_targets(report: Report) -> None:
    assert report.codes.precision >= 0.98, report.codes.false_positives
    assert report.codes.recall >= 0.95, report.codes.misses


def test_coverage_classification_meets_the_targets(report: Report) -> None:
    assert report.coverage.precision >= 0.98, report.coverage.false_positives
    assert report.coverage.recall >= 0.95, report.coverage.misses


def test_metadata_is_found(report: Report) -> None:
    assert report.metadata_right / report.metadata_total >= 0.95, report.metadata_misses


def test_the_held_out_documents_too(checker: CatalogChecker) -> None:
    held = evaluate(checker, "holdout")
    assert held.documents >= 8 and held.codes.precision >= 0.98 and held.codes.recall >= 0.95


def test_the_kinds_real_documents_come_in_are_all_there() -> None:
    kinds = {doc_kind(n) for n in gold()}
    assert {"billing article", "multi-page pdf", "text bulletin", "revision history"} <= kinds
    assert sum(bool(d.get("history")) for d in gold().values()) >= 8
    assert sum(bool(d.get("pdf", {}).get("footer")) for d in gold().values()) >= 2


def test_links_and_their_stance_meet_the_targets(report: Report) -> None:
    assert report.links.precision >= 0.99, report.links.false_positives
    assert report.links.recall >= 0.99, report.links.misses
    assert report.stance_accuracy >= 0.97, report.stance_errors


@pytest.mark.parametrize("kind", ["billing article", "multi-page pdf", "text bulletin", "revision history",
                                  "html policy", "text policy", "pdf"])
def test_each_kind_of_document_meets_the_targets(checker: CatalogChecker, kind: str) -> None:
    r = evaluate(checker, of_kind=kind)
    assert r.documents >= 2
    assert r.links.precision >= 0.99 and r.links.recall >= 0.99, (r.links.false_positives, r.links.misses)
    assert r.stance_accuracy >= 0.97, r.stance_errors


def test_revision_history_codes_are_kept_apart(report: Report) -> None:
    assert report.history.precision >= 0.95, report.history.false_positives
    assert report.history.recall >= 0.95, report.history.misses


def test_the_report_documents_written_after_the_rules(checker: CatalogChecker) -> None:
    r = evaluate(checker, "report")
    assert r.documents >= 6
    assert r.links.precision >= 0.99 and r.links.recall >= 0.99, (r.links.false_positives, r.links.misses)
    assert r.stance_accuracy >= 0.97 and r.history.recall >= 0.95, (r.stance_errors, r.history.misses)
