"""The release table: every row well formed; release lookups; settings that drive the fetcher."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from medcodes.errors import MedcodesError
from medcodes.fetch.cache import Fetcher, fetch_dir
from medcodes.fetch.releases import MAINTAINED, PUBLISHERS, RELEASES, ReleaseFile, files, releases, systems
from medcodes.fetch.verify import member_matches
from medcodes.settings import SETTINGS
from medcodes.sources import IMPORTERS


@pytest.mark.parametrize("rf", RELEASES, ids=lambda rf: f"{rf.system}-{rf.release}-{rf.file}")
def test_every_row_is_well_formed(rf: ReleaseFile) -> None:
    assert rf.publisher in PUBLISHERS and rf.importer in IMPORTERS
    date.fromisoformat(rf.effective)
    assert rf.path.startswith("/") and " " not in rf.path and rf.file.endswith(".zip") and "/" not in rf.file
    assert rf.members
    assert rf.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", rf.sha256)


def test_rows_are_unique_and_a_release_has_one_effective_date() -> None:
    assert len({(rf.system, rf.release, rf.file) for rf in RELEASES}) == len(RELEASES)
    dates = {(rf.system, rf.release): rf.effective for rf in RELEASES}
    assert all(dates[(rf.system, rf.release)] == rf.effective for rf in RELEASES)


def test_publisher_base_urls_are_settings() -> None:
    names = {s.name for s in SETTINGS}
    assert set(PUBLISHERS.values()) <= names
    assert set(MAINTAINED) <= set(systems())


def test_the_default_release_is_the_newest() -> None:
    assert releases("hcpcs")[0] == "2025-jan"
    newest = files("hcpcs")
    assert len(newest) == 1 and newest[0].release == releases("hcpcs")[-1]
    assert newest[0].effective == max(rf.effective for rf in RELEASES if rf.system == "hcpcs")


def test_a_release_lists_its_files_in_table_order() -> None:
    cm = files("icd10cm", "2025")
    assert [rf.publisher for rf in cm] == ["cms", "cdc"]
    assert cm[0].path == "/files/zip/2025-code-descriptions-tabular-order.zip"


@pytest.mark.parametrize(("system", "release", "message"), [
    ("nope", None, "no releases to fetch for 'nope'; known: icd10cm"),
    ("hcpcs", "1999", "no hcpcs release '1999'; known: 2025-jan"),
])
def test_unknown_system_or_release(system: str, release: str | None, message: str) -> None:
    with pytest.raises(MedcodesError, match=re.escape(message)):
        files(system, release)


@pytest.mark.parametrize(("name", "pattern", "expected"), [
    ("Code Descriptions/icd10cm_order_2027.txt", "icd10cm_order_2027.txt", True),
    ("HCPC2025_JAN_ANWEB_12172024.txt", "hcpc*anweb*.TXT", True),
    ("HCPC2025_JAN_ANWEB_12172024.xlsx", "HCPC*ANWEB*.txt", False),
    ("icd-10-cm-index-2025.xml", "icd*[-_]index[-_]2025.xml", True),
    ("icd-10-cm-eindex-2025.xml", "icd*[-_]index[-_]2025.xml", False),
])
def test_member_patterns(name: str, pattern: str, expected: bool) -> None:
    assert member_matches(name, pattern) is expected


def test_fetcher_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MEDCODES_CACHE", str(tmp_path))
    monkeypatch.delenv("MEDCODES_FETCH_DIR", raising=False)
    assert fetch_dir() == tmp_path / "downloads"
    monkeypatch.setenv("MEDCODES_FETCH_DIR", str(tmp_path / "dl"))
    monkeypatch.setenv("MEDCODES_CMS_BASE_URL", "http://mirror.example/cms/")
    monkeypatch.setenv("MEDCODES_FETCH_TIMEOUT", "2.5")
    f = Fetcher.from_settings()
    assert f.cache == tmp_path / "dl" and f.timeout == 2.5
    assert f.url(files("hcpcs", "2025-jan")[0]) == \
        "http://mirror.example/cms/files/zip/january-2025-alpha-numeric-hcpcs-file.zip"
    assert f.url(files("icd10cm", "2025")[1]).startswith("https://ftp.cdc.gov/pub/Health_Statistics/NCHS/")


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan"])
def test_a_bad_timeout_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MEDCODES_FETCH_TIMEOUT", value)
    with pytest.raises(MedcodesError, match="MEDCODES_FETCH_TIMEOUT wants a number of seconds"):
        Fetcher.from_settings()
