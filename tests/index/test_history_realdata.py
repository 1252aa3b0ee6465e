"""History from real releases, checked against the official counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.index import Catalog, build_index

pytestmark = pytest.mark.realdata


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
    billable = cat.conn.execute("SELECT COUNT(*) FROM codes WHERE system='icd10cm' AND billable=1").fetchone()[0]
    assert billable == 74_719
