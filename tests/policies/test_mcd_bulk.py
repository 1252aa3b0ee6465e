"""The MCD bulk download: a zip of a zip of CSVs named like the API's fields; and the real document list."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.errors import SourceError
from medcodes.policies import policies_for_code
from medcodes.policies.linking import CatalogChecker, MemoryChecker
from medcodes.policies.mcd_bulk import read

from .fake_cms import AMA_TEXT


def _csv(rows: list[dict[str, object]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def export_zip(path: Path) -> Path:
    """current_article.zip -> current_article_csv.zip -> CSVs, as CMS ships it (plus an LCD and an NCD table)."""
    tables = {
        "article.csv": [{"article_id": 52837, "article_version": 13, "title": "Old title", "article_eff_date":
                         "01/01/2024", "last_updated": "12/01/2023", "description": ""},
                        {"article_id": 52837, "article_version": 14, "title": "Billing and Coding: Blepharoplasty",
                         "article_eff_date": "01/01/2025", "last_updated": "12/18/2024",
                         "description": "<p>Eyelids</p>"}],
        "article_x_hcpc_code.csv": [
            {"article_id": 52837, "article_version": 14, "hcpc_code_id": "15822", "hcpc_code_version": 1,
             "hcpc_code_group": 1, "range": "", "last_updated": "", "long_description": AMA_TEXT,
             "short_description": AMA_TEXT}],
        "article_x_hcpc_code_group.csv": [{"article_id": 52837, "article_version": 14, "hcpc_code_group": 1,
                                           "paragraph": "<p>Covered when criteria are met.</p>", "last_updated": ""}],
        "article_x_icd10_covered.csv": [
            {"article_id": 52837, "article_version": 14, "icd10_code_id": "H02.831", "icd10_code_version": 1,
             "icd10_covered_group": 1, "range": "", "last_updated": "", "sort_order": 1, "description": "x",
             "asterisk": ""}],
        "article_x_icd10_noncovered.csv": [
            {"article_id": 52837, "article_version": 14, "icd10_code_id": "H53.40", "icd10_code_version": 1,
             "icd10_noncovered_group": 1, "range": "", "last_updated": "", "sort_order": 1, "description": "y"}],
        "article_x_contractor.csv": [{"article_id": 52837, "article_version": 14, "article_type": 1,
                                      "contractor_id": 10, "contractor_type_id": 1, "contractor_version": 1,
                                      "last_updated": ""}],
        "contractor.csv": [{"contractor_id": 10, "contractor_type_id": 1, "contractor_version": 1,
                            "contractor_bus_name": "Test MAC, LLC", "contractor_number": "12345", "status": "A"}],
        "lcd.csv": [{"lcd_id": 36668, "lcd_version": 45, "display_id": 36668, "title": "Vitamin D Assay Testing",
                     "rev_eff_date": "08/14/2025", "last_reviewed_on": "07/30/2025",
                     "indication": "<p>Covered for hypercalcemia (E83.52).</p>", "coding_guidelines": ""}],
        "lcd_x_hcpc_code.csv": [{"lcd_id": 36668, "lcd_version": 45, "hcpc_code_id": "82306", "hcpc_code_version": 1,
                                 "hcpc_code_group": 1, "range": "", "last_updated": "", "long_description": AMA_TEXT,
                                 "short_description": AMA_TEXT}],
        "ncd_trkg.csv": [{"NCD_id": 107, "NCD_vrsn_num": 2, "NCD_mnl_sect": "250.4",
                          "NCD_mnl_sect_title": "Treatment of Actinic Keratosis", "NCD_efctv_dt": "11/26/2001",
                          "itm_srvc_desc": "<p>Lesions (L57.0).</p>",
                          "indctn_lmtn": "<p>Destruction (CPT 17000) is covered.</p>", "othr_txt": ""}],
    }
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name, rows in tables.items():
            z.writestr(name, _csv(rows))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("current_article_csv.zip", inner.getvalue())
        z.writestr("README.txt", "Medicare Coverage Database export (test)")
    return path


def test_a_nested_export_zip(tmp_path: Path, checker: CatalogChecker) -> None:
    records = {r.policy_id: r for r in read(export_zip(tmp_path / "current_article.zip"), checker)}
    assert set(records) == {"medicare-article-a52837", "medicare-lcd-l36668", "medicare-ncd-250.4"}
    art = records["medicare-article-a52837"]
    assert art.title == "Billing and Coding: Blepharoplasty" and art.payer == "Medicare (Test MAC, LLC)"
    assert {(x.code, x.section) for x in art.links} == {("15822", "covered"), ("H02.831", "covered"),
                                                        ("H53.40", "not_covered")}
    assert AMA_TEXT not in repr(records)
    assert {x.code for x in records["medicare-lcd-l36668"].links} == {"82306", "E83.52"}
    assert [x.code for x in records["medicare-ncd-250.4"].links] == ["17000"]


def test_import_mcd_command(tmp_path: Path, catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    args = ["policies", "import-mcd", str(export_zip(tmp_path / "x.zip")), "--db", str(catalog_path),
            "--store", str(store)]
    assert main(args) == 0 and capsys.readouterr().out.count("new") == 3
    assert main(args) == 0 and capsys.readouterr().out.count("unchanged") == 3
    (p,) = policies_for_code(store, "icd10cm", "H53.40")
    assert p["section"] == "not_covered" and p["url"].endswith("articleid=52837&ver=14")


def test_bad_exports(tmp_path: Path) -> None:
    checker = MemoryChecker({})
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(SourceError, match="not a readable zip"):
        list(read(not_zip, checker))
    empty = tmp_path / "e.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("other.csv", "a,b\n1,2\n")
    with pytest.raises(SourceError, match="no MCD tables"):
        list(read(empty, checker))


@pytest.mark.realdata
def test_the_real_document_list(shared_data: Path) -> None:
    path = shared_data / "cms_mcd_coverage_api_2025" / "documents_latest.csv"
    records = list(read(path, MemoryChecker({})))
    assert len(records) == 3133
    assert Counter(r.kind for r in records) == {"lcd": 972, "article": 2161}
    urine = next(r for r in records if r.number == "L36668")
    assert urine.title == "Urine Drug Testing" and urine.payer == "Medicare (Noridian Healthcare Solutions, LLC)"
    assert urine.effective == "2025-08-14" and urine.url.endswith("lcdid=36668&ver=45")
