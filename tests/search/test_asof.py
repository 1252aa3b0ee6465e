"""search(..., as_of=DATE) (issue 7): the codes that existed on a date of service."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medcodes.errors import BadRequest
from medcodes.index import Catalog
from medcodes.search import search

from ..indexes import build_index


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("asof") / "index.sqlite", "releases")


def by_code(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in result["results"]}


def test_without_a_date_every_code(path: Path) -> None:
    found = by_code(search(Catalog(path), "cholera", limit=20))
    assert {"A00.0", "A00.1", "A00.2", "A00.9"} <= set(found) and "as_of" not in found["A00.0"]


def test_before_a_release_its_additions_are_left_out(path: Path) -> None:
    r = search(Catalog(path), "cholera", as_of="2025-01-15", limit=20)
    found = by_code(r)
    assert "A00.2" not in found and r["total"] == len(found)
    assert found["A00.1"]["as_of"] == {"date": "2025-01-15", "valid": True, "exists": True, "reason": None}
    assert found["A00.0"]["as_of"]["title"] == "Cholera due to Vibrio cholerae old"  # the title then
    assert r["parsed"]["as_of"] == {"date": "2025-01-15", "releases": {"icd10cm": "FY2025"}}
    assert search(Catalog(path), "A00.2", as_of="2025-01-15")["results"] == []
    assert "A00.2" not in [x["code"] for x in search(Catalog(path), "A00", as_of="2025-01-15", limit=20)["results"]]


def test_after_a_release_its_deletions_are_kept_and_marked(path: Path) -> None:
    found = by_code(search(Catalog(path), "cholera", as_of="2025-11-01", limit=20))
    assert "A00.2" in found and found["A00.2"]["as_of"]["valid"] is True
    gone = found["A00.1"]["as_of"]
    assert gone["valid"] is False and gone["reason"] == "deleted in FY2026 (effective 2025-10-01)"
    order = list(found)
    assert order.index("A00.1") > order.index("A00.9")  # a deleted code after the valid ones


@pytest.mark.parametrize("bad", ["2025-13-01", "yesterday", "2025/01/15", "20250115", "", 20250115])
def test_a_bad_date_is_a_clear_error(path: Path, bad: Any) -> None:
    with pytest.raises(BadRequest, match="as_of"):
        search(Catalog(path), "cholera", as_of=bad)


def test_cli_as_of(path: Path) -> None:
    cmd = [sys.executable, "-m", "medcodes", "search", "cholera", "--db", str(path), "--json", "--limit", "20"]
    proc = subprocess.run([*cmd, "--as-of", "2025-01-15"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    codes = [r["code"] for r in json.loads(proc.stdout)["results"]]
    assert "A00.1" in codes and "A00.2" not in codes
    text = subprocess.run([*cmd[:-3], "--as-of", "2025-11-01"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "A00.1" in text.stdout and "deleted in FY2026" in text.stdout
    bad = subprocess.run([*cmd, "--as-of", "soon"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "2024-06-01" in bad.stderr
