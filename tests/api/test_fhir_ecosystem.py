"""A representative part of the HL7 terminology ecosystem tests, replayed against a real `medcodes serve`
the way the HL7 TxTester sends them (bench/fhir_ecosystem.py), and the runner's comparison rules."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import medcodes_serve

ROOT = Path(__file__).resolve().parents[2]
# beside the repository, as ../shared/peer-tests; MEDCODES_TX_TESTS names another copy (a worktree elsewhere)
SUITE = Path(os.environ.get("MEDCODES_TX_TESTS")
             or ROOT.parent / "shared" / "peer-tests" / "fhir-tx-ecosystem" / "tests")
sys.path.insert(0, str(ROOT / "bench"))
import fhir_ecosystem as fe  # noqa: E402

# One or more tests of each kind the server passes: expansions (all, filters, paging, search),
# validation (code, Coding, CodeableConcept; bad code, system, display, version; inactive; abstract),
# version rules, $lookup, regexes that would hang a backtracking engine.
REPRESENTATIVE = [
    ("simple-cases", "simple-expand-all"), ("simple-cases", "simple-expand-isa"),
    ("simple-cases", "simple-expand-enum-bad"), ("simple-cases", "simple-lookup-1"),
    ("simple-cases", "simple-lookup-2"),
    ("validation", "validation-simple-code-good"), ("validation", "validation-simple-codeableconcept-good"),
    ("validation", "validation-simple-code-bad-code"), ("validation", "validation-simple-coding-bad-code"),
    ("validation", "validation-simple-code-bad-display"),
    ("version", "version-simple-code-bad-version1"), ("version", "coding-v10-vs20"),
    ("inactive", "inactive-2-validate"), ("inactive", "inactive-2a-validate"), ("inactive", "inactive-expand"),
    ("notSelectable", "notSelectable-prop-all"), ("notSelectable", "notSelectable-prop-true"),
    ("search", "search-filter-yes"), ("exclude", "exclude-1"), ("case", "case-insensitive-code1-1"),
    ("permutations", "good-cc1-all-request"), ("regex-bad", "expand-regex-bad-2"),
    ("metadata", "term-caps"),
]


@pytest.fixture(scope="module")
def base(index_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not (SUITE / "test-cases.json").exists():
        pytest.skip("the HL7 terminology ecosystem tests are not beside the repository (../shared/peer-tests)")
    with medcodes_serve(index_path, tmp_path_factory.mktemp("serve") / "serve.log") as url:
        yield f"{url}/fhir"


@pytest.mark.parametrize(("suite", "name"), REPRESENTATIVE, ids=[n for _, n in REPRESENTATIVE])
def test_ecosystem_case(base: str, suite: str, name: str) -> None:
    found = [(s, t) for s, t in fe.applicable(SUITE, suite, name) if t["name"] == name]
    assert found, f"{suite}/{name} is not in the suite"
    result = fe.run_test(base, SUITE, *found[0])
    assert result.passed, result.message


def test_compare_rules() -> None:
    expected = {"$optional-properties$": ["id"], "id": "$id$", "when": "$instant$", "text": "$external:1:code1x$",
                "list": [{"a": 1}, {"a": 2}, {"$optional$": True, "a": 3}],
                "extension": [{"$optional$": "!tx.fhir.org", "url": "x"}]}
    assert fe.compare(expected, {"when": "2026-01-02T03:04:05Z", "text": "Unknown code 'code1x'",
                                 "list": [{"a": 2}, {"a": 1}]}) is None
    assert fe.compare(expected, {"when": "yesterday", "text": "code1x", "list": [{"a": 1}, {"a": 2}]})
    assert fe.compare(expected, {"when": "2026-01-02T03:04:05Z", "text": "other", "list": [{"a": 1}, {"a": 2}]})
    assert fe.compare(expected, {"when": "2026-01-02T03:04:05Z", "text": "code1x", "list": [{"a": 1}]})
    assert fe.compare(expected, {"when": "2026-01-02T03:04:05Z", "text": "code1x", "list": [{"a": 1}, {"a": 2}],
                                 "extra": True})


def test_scrub_and_r5_conversion() -> None:
    oo = {"resourceType": "OperationOutcome", "text": {"div": "x"}, "issue": [
        {"severity": "error", "code": "x", "diagnostics": "only diagnostics"},
        {"severity": "error", "code": "y", "details": {"text": "t"}, "diagnostics": "d",
         "extension": [{"url": "http://example.org/unmanaged"}]}]}
    assert fe.scrub(oo) == {"resourceType": "OperationOutcome",
                            "issue": [{"severity": "error", "code": "y", "details": {"text": "t"}}]}
    match = {"name": "match", "part": [{"name": "equivalence", "valueCode": "wider"}]}
    assert fe.to_r5(match)["part"] == [{"name": "relationship", "valueCode": "source-is-broader-than-target"}]
