"""End to end on the embedded default: what a user sees after `make run` builds the index.

One build per test run (tests/conftest.py `full_index`); every check here reads it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medcodes.index import Catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_db(full_index: Path) -> Path:
    return full_index


def _medcodes(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "medcodes", args[0], "--db", str(db), *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_show_e119(full_db: Path) -> None:
    proc = _medcodes(full_db, "show", "e119")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("E11.9 — Type 2 diabetes mellitus without complications")
    assert "E08-E13" in proc.stdout  # the block in the hierarchy
    assert "excludes" in proc.stdout.lower()  # inherited notes
    assert "icd9cm 250.00" in proc.stdout  # GEM crosswalk


def test_show_json_has_the_api_fields(full_db: Path) -> None:
    data = json.loads(_medcodes(full_db, "show", "S72.001A", "--json").stdout)
    for key in ("system", "code", "title", "billable", "kind", "release", "ancestors", "children", "notes",
                "crosswalks", "attributes"):
        assert key in data
    assert data["billable"] is True and data["release"].startswith("ICD-10-CM FY2026")


def test_counts_per_system(full_db: Path) -> None:
    cat = Catalog(full_db)
    billable = dict(cat.conn.execute("SELECT system, SUM(billable) FROM codes GROUP BY system").fetchall())
    assert billable["icd10cm"] == 74_719
    assert billable["icd10pcs"] == 79_115  # FY2026, from the data layer
    assert billable["icd9cm"] == 14_567 and billable["icd9pcs"] == 3_882
    assert billable["msdrg"] > 700
    kinds = dict(((s, k), n) for s, k, n in cat.conn.execute(
        "SELECT system, kind, COUNT(*) FROM codes GROUP BY system, kind").fetchall())
    # CMS's own counts: HCPCS January 2025, ICD-10-PCS FY2026; the POS code set
    assert kinds[("hcpcs", "code")] == 8_259 and kinds[("hcpcs-mod", "modifier")] == 383
    assert kinds[("icd10pcs", "code")] == 79_115 and kinds[("pos", "code")] == 52


def test_both_icd10_halves_are_fy2026(full_db: Path) -> None:
    releases = Catalog(full_db).releases()
    assert releases["icd10cm"] == ["ICD-10-CM FY2026, April 2026 update"]
    assert releases["icd10pcs"] == ["ICD-10-PCS FY2026"]
    assert releases["hcpcs"] == ["HCPCS Level II 2025 January (Q1)"]


def test_index_terms_and_what_they_could_not_point_at(full_db: Path) -> None:
    cat = Catalog(full_db)
    by_source = dict(cat.conn.execute("SELECT source, COUNT(*) FROM terms GROUP BY source").fetchall())
    assert set(by_source) == {"index", "eindex", "drug", "neoplasm", "pcs-index"}
    assert by_source["index"] > 60_000
    # every kept term points at a loaded code
    assert cat.conn.execute("SELECT COUNT(*) FROM terms t LEFT JOIN codes c ON c.system = t.system AND"
                            " c.code = t.code WHERE c.id IS NULL").fetchone()[0] == 0
    unresolved = cat.unresolved_terms()
    assert unresolved and all(u["release"] in ("ICD-10-PCS FY2025", "ICD-10-CM FY2025") for u in unresolved)
    proc = _medcodes(full_db, "sources", "--unresolved")
    assert proc.returncode == 0 and unresolved[0]["term"] in proc.stdout


def test_unknown_code_is_a_clean_error(full_db: Path) -> None:
    proc = _medcodes(full_db, "show", "QQQ999")
    assert proc.returncode == 1 and proc.stderr.startswith("medcodes: error: no code 'QQQ999'")


def test_sources_lists_hashes(full_db: Path) -> None:
    proc = _medcodes(full_db, "sources")
    assert proc.returncode == 0 and "sha256" in proc.stdout and "ICD-10-CM FY2026" in proc.stdout
    assert "derived" in proc.stdout and "https://www.cms.gov/files/zip/january-2025-alpha-numeric-hcpcs-file.zip" \
        in proc.stdout
