"""Extraction quality on the payer-style corpus: the issue's targets (precision >= 0.98, recall >= 0.95)."""

from __future__ import annotations

import pytest

from medcodes.policies.linking import CatalogChecker

from .corpus import Report, evaluate, gold


@pytest.fixture(scope="module")
def report(checker: CatalogChecker) -> Report:
    return evaluate(checker)


def test_corpus_is_big_enough_and_varied() -> None:
    names = list(gold())
    assert len(names) >= 30
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
