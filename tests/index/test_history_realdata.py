"""History from real releases, checked against the official counts."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import pytest

from medcodes.index import Catalog
from medcodes.index.build import build_index

pytestmark = pytest.mark.realdata

FY2025_ZIP = "cms_icd10cm_fy2025_code_descriptions/2025-code-descriptions-tabular-order.zip"


def addenda_lines(path: Path) -> dict[str, int]:
    """The Add / Delete / Revise lines of the zip's codes addenda, counted straight from the text."""
    with zipfile.ZipFile(path) as zf:
        text = zf.read("icd10cm_codes_addenda_2025.txt").decode("ascii")
    found = Counter(line.split(":")[0] for line in text.splitlines())
    return {"added": found["Add"], "deleted": found["Delete"], "revised": found["Revise from"]}


def test_icd10cm_fy2025_zip_alone_gives_its_addenda(shared_data: Path, tmp_path: Path) -> None:
    fy2025 = shared_data / FY2025_ZIP
    if not fy2025.is_file():
        pytest.skip(f"{fy2025} is absent")
    out = tmp_path / "one.sqlite"
    build_index([("icd10cm", fy2025)], out)
    cat = Catalog(out)
    rows = cat.conn.execute("SELECT release, change, source, COUNT(*) FROM history GROUP BY 1, 2, 3").fetchall()
    expected = addenda_lines(fy2025)
    assert expected == {"added": 252, "deleted": 36, "revised": 13}
    assert {tuple(r) for r in rows} == {("ICD-10-CM FY2025", k, "addenda", n) for k, n in expected.items()}
    [event] = [e.to_json() for e in cat.history("icd10cm", "A77.41")]
    assert (event["release"], event["effective"], event["change"], event["old_title"], event["new_title"]) == (
        "ICD-10-CM FY2025", "2024-10-01", "revised", "Ehrlichiosis chafeensis [E. chafeensis]",
        "Ehrlichiosis chaffeensis [E. chaffeensis]")
    # C83.39 stopped being a code (it is a header now); T81.32XA left the classification
    for code in ("C83.39", "T81.32XA"):
        row = cat.row("icd10cm", code)
        assert (row["billable"], row["deleted_in"]) == (0, "ICD-10-CM FY2025")
    assert cat.row("icd10cm", "T81.32XA")["parent"] == "T81.32"
    billable = cat.conn.execute("SELECT COUNT(*) FROM codes WHERE system='icd10cm' AND billable=1").fetchone()[0]
    assert billable == 74_260


def test_icd10cm_fy2025_to_fy2026(shared_data: Path, tmp_path: Path) -> None:
    fy2025 = shared_data / "cms_icd10cm_fy2025_code_descriptions" / "2025-code-descriptions-tabular-order.zip"
    fy2026 = shared_data / "cms_icd10_fy2026_codes" / "icd10cm_codes_2026.txt.gz"
    out = tmp_path / "h.sqlite"
    build_index([("icd10cm", fy2025), ("icd10cm", fy2026)], out)
    cat = Catalog(out)
    counts = {c["change"]: 0 for c in cat.changes("icd10cm", cat.releases()["icd10cm"][-1])}
    for c in cat.changes("icd10cm", cat.releases()["icd10cm"][-1]):
        counts[c["change"]] += 1
    assert counts["added"] == 487
    assert counts["deleted"] == 28
    # FY2026 comes from the diff (no FY2026 addenda loaded), FY2025 still from its addenda
    sources = dict(cat.conn.execute("SELECT release, group_concat(DISTINCT source) FROM history GROUP BY release"))
    assert sources == {"ICD-10-CM FY2025": "addenda", "ICD-10-CM FY2026": "release diff"}
    billable = cat.conn.execute("SELECT COUNT(*) FROM codes WHERE system='icd10cm' AND billable=1").fetchone()[0]
    assert billable == 74_719
