"""The store: versions by content hash, links per version, search, the code-page and policy-page data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from medcodes.errors import NotFound
from medcodes.index import Catalog
from medcodes.policies import policies_for_code, policy_page, search_policies
from medcodes.policies import store as store_module
from medcodes.policies.documents import read_text
from medcodes.policies.ingest import document_record
from medcodes.policies.linking import CatalogChecker
from medcodes.policies.records import PolicyRecord, RangeLink
from medcodes.policies.store import PolicyStore, text_hash

POLICY = """Acme Health Plan Medical Policy
Policy Number: MP-100
Effective Date: 01/01/2025

Policy
Shoulder surgery (CPT 22612) is medically necessary for shoulder pain (M25.511 - M25.519).
Fusion for low back pain alone (M54.50) is not medically necessary.

Coding
CPT codes:
22630-22633
"""


def record(text: str, checker: CatalogChecker, source: str = "/policies/mp-100.txt") -> PolicyRecord:
    doc = read_text(text, source=source)
    return document_record(doc, checker)


def test_first_ingest_then_same_text_changes_nothing(store: PolicyStore, checker: CatalogChecker) -> None:
    first = store.put(record(POLICY, checker))
    assert (first.status, first.version) == ("new", 1) and first.policy_id == "acme-health-plan-mp-100"
    before = store.conn.execute("SELECT COUNT(*) FROM policy_links").fetchone()[0]
    again = store.put(record(POLICY, checker))
    assert (again.status, again.version, again.policy_id) == ("unchanged", 1, first.policy_id)
    assert store.conn.execute("SELECT COUNT(*) FROM policy_links").fetchone()[0] == before
    assert store.conn.execute("SELECT COUNT(*) FROM policy_versions").fetchone()[0] == 1


def test_changed_text_adds_a_version_and_moves_the_links(store: PolicyStore, checker: CatalogChecker,
                                                         tmp_path: Path) -> None:
    store.put(record(POLICY, checker))
    changed = POLICY.replace("(M54.50) is not medically necessary", "(M54.50) is considered investigational")
    result = store.put(record(changed, checker))
    assert (result.status, result.version) == ("updated", 2)
    found = policies_for_code(store.path, "icd10cm", "M54.50")
    assert [(p["section"], p["version"]) for p in found] == [("investigational", 2)]
    old = store.conn.execute("SELECT section FROM policy_links WHERE version=1 AND code='M54.50'").fetchall()
    assert [r[0] for r in old] == ["not_covered"]  # the old version keeps its links
    page = policy_page(store.path, result.policy_id)
    assert [v["version"] for v in page["versions"]] == [2, 1]


def test_the_same_document_found_again_by_payer_and_number(store: PolicyStore, checker: CatalogChecker) -> None:
    a = store.put(record(POLICY, checker, source="/a/mp-100.txt"))
    b = store.put(record(POLICY + "\nRevised.\n", checker, source="https://acme.example/mp-100"))
    assert b.policy_id == a.policy_id and b.version == 2


def test_new_extractor_relinks_in_place(store: PolicyStore, checker: CatalogChecker,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store.put(record(POLICY, checker))
    monkeypatch.setattr(store_module, "EXTRACTOR_VERSION", "test-next")
    result = store.put(record(POLICY, checker))
    assert (result.status, result.version) == ("relinked", 1)
    assert store.conn.execute("SELECT extractor FROM policy_versions").fetchone()[0] == "test-next"


def test_a_failed_write_leaves_nothing(store: PolicyStore, checker: CatalogChecker,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(PolicyStore, "_index_text", broken)  # fails after the policy, version and links
    with pytest.raises(sqlite3.OperationalError):
        store.put(record(POLICY, checker))
    for table in ("policies", "policy_versions", "policy_links", "policy_ranges", "policy_fts"):
        assert store.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_policies_for_code_shape_and_order(store: PolicyStore, checker: CatalogChecker) -> None:
    store.put(record(POLICY, checker))
    (p,) = policies_for_code(store.path, "icd10cm", "m25511")
    assert {k: p[k] for k in ("policy_id", "payer", "number", "section", "version", "effective")} == {
        "policy_id": "acme-health-plan-mp-100", "payer": "Acme Health Plan", "number": "MP-100",
        "section": "covered", "version": 1, "effective": "2025-01-01"}
    assert p["section_label"] == "Covered / medically necessary" and "M25.511 - M25.519" in p["snippet"]
    assert {"policy_id", "payer", "title", "url", "section", "snippet", "version"} <= p.keys()


def test_cpt_ranges_without_cpt_data_match_by_code_order(store: PolicyStore, checker: CatalogChecker) -> None:
    store.put(record(POLICY, checker))
    assert [p["mention"] for p in policies_for_code(store.path, "cpt", "22631")] == ["22630-22633"]
    assert policies_for_code(store.path, "cpt", "22634") == []
    assert policies_for_code(store.path, "cpt", "2263") == []


def test_reading_a_missing_store_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none.sqlite"
    assert policies_for_code(path, "icd10cm", "E11.9") == [] and search_policies(path, "x") == []
    with pytest.raises(NotFound):
        policy_page(path, "x")
    assert not path.exists()


@pytest.mark.parametrize("q", ['"', "fusion AND", "NEAR(a b)", "col:val", "*", "a OR", "'; DROP TABLE policies; --"])
def test_search_never_passes_user_text_as_query_syntax(store: PolicyStore, checker: CatalogChecker, q: str) -> None:
    store.put(record(POLICY, checker))
    assert isinstance(search_policies(store.path, q), list)


def test_search_by_words_and_by_code(store: PolicyStore, checker: CatalogChecker) -> None:
    store.put(record(POLICY, checker))
    assert [p["policy_id"] for p in search_policies(store.path, "shoulder surgery")] == ["acme-health-plan-mp-100"]
    assert [p["policy_id"] for p in search_policies(store.path, "M25.519")] == ["acme-health-plan-mp-100"]
    assert search_policies(store.path, "cataract") == []
    # one or many: the policy's "surgery" is found by "surgeries", its "shoulder" by "shoulders"
    assert [p["policy_id"] for p in search_policies(store.path, "shoulders surgeries")] == ["acme-health-plan-mp-100"]
    (listed,) = search_policies(store.path, "")
    assert listed["codes"] > 3


def test_policy_page_lists_every_code_with_titles(store: PolicyStore, checker: CatalogChecker,
                                                  catalog: Catalog) -> None:
    result = store.put(record(POLICY, checker))
    page = policy_page(store.path, result.policy_id, catalog)
    by_code = {c["code"]: c for c in page["codes"]}
    assert by_code["M25.519"]["title"] == "Pain in unspecified shoulder" and by_code["22612"]["title"] is None
    assert page["ranges"][0]["first"] == "22630" and page["sections"]["covered"].startswith("Covered")
    with pytest.raises(NotFound):
        policy_page(store.path, "no-such-policy")


def test_records_round_trip_ranges_and_hash(store: PolicyStore) -> None:
    rec = PolicyRecord(payer="P", title="T", kind="map", content_hash=text_hash("x"), policy_id="p-1",
                       ranges=(RangeLink("cpt", "80150", "80299", "coding", "s", "80150-80299"),))
    store.put(rec)
    assert [p["policy_id"] for p in policies_for_code(store.path, "cpt", "80200")] == ["p-1"]
    assert text_hash("a  b\n") == text_hash("a b")


def test_word_forms_of_one_and_many() -> None:
    from medcodes.policies.queries import word_forms

    assert word_forms("wheelchair") == ["wheelchair", "wheelchairs"]
    assert word_forms("Wheelchairs") == ["Wheelchairs", "wheelchair"]
    assert word_forms("biopsies") == ["biopsies", "biopsy"] and word_forms("biopsy") == ["biopsy", "biopsies"]
    assert word_forms("E11.9") == ["E11.9"] and word_forms("knee")[1] == "knees" and word_forms("cpt") == ["cpt"]
