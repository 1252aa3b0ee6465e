"""The official zips in ../shared/data, served at their real CMS paths, through the real release table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from medcodes.fetch.cache import Fetcher
from medcodes.fetch.download import FetchError
from medcodes.fetch.releases import RELEASES, ReleaseFile
from medcodes.fetch.update import update
from medcodes.fetch.verify import verify
from medcodes.index import Catalog
from medcodes.sources.embedded import DEFAULT_ORDER

from .publisher import Publisher

pytestmark = pytest.mark.realdata

HCPCS_JAN = next(rf for rf in RELEASES if (rf.system, rf.release) == ("hcpcs", "2025-jan"))
CM_2025 = next(rf for rf in RELEASES if (rf.system, rf.release, rf.publisher) == ("icd10cm", "2025", "cms"))


def official(shared_data: Path, rf: ReleaseFile) -> Path:
    [path] = shared_data.rglob(rf.file)
    return path


def serve(publisher: Publisher, shared_data: Path, cache: Path, *rows: ReleaseFile,
          cut_after: int | None = None) -> Fetcher:
    """Serve the official files of `rows` at their real paths; a fetcher on just those rows."""
    for rf in rows:
        publisher.serve(rf.path, official(shared_data, rf).read_bytes(), cut_after=cut_after)
    return Fetcher(cache=cache, base_urls={"cms": publisher.url, "cdc": publisher.url}, table=rows)


def test_the_table_checksums_are_those_of_the_official_files(shared_data: Path) -> None:
    checked = [rf for rf in RELEASES if rf.sha256]
    assert {rf.file for rf in checked} == {HCPCS_JAN.file, CM_2025.file}
    for rf in checked:
        verify(official(shared_data, rf), rf)  # size, SHA-256, every CRC, the expected members


def test_a_broken_official_download_resumes_to_the_exact_file(shared_data: Path, publisher: Publisher,
                                                               tmp_path: Path) -> None:
    fetcher = serve(publisher, shared_data, tmp_path, HCPCS_JAN, cut_after=1_000_000)
    with pytest.raises(FetchError, match="run again to resume"):
        fetcher.fetch("hcpcs", "2025-jan")
    [got] = fetcher.fetch("hcpcs", "2025-jan")  # verified against the table's SHA-256
    assert got.resumed_from > 0 and got.size == HCPCS_JAN.size


def test_update_builds_the_official_hcpcs_file(shared_data: Path, publisher: Publisher, tmp_path: Path) -> None:
    fetcher = serve(publisher, shared_data, tmp_path / "cache", HCPCS_JAN)
    report = update(fetcher, tmp_path / "index.sqlite", default=False)
    assert [f.downloaded for f in report.fetched] == [True]
    catalog = Catalog(tmp_path / "index.sqlite")
    codes = catalog.conn.execute("SELECT COUNT(*) FROM codes WHERE system='hcpcs' AND kind='code'").fetchone()[0]
    catalog.conn.close()
    assert codes == 8259  # the official count (SOURCES.md)


@pytest.mark.slow
@pytest.mark.skipif(any(importlib.util.find_spec(f"medcodes.sources.{name}") is None for name in DEFAULT_ORDER),
                    reason="not every importer of the embedded default exists yet")
def test_update_end_to_end_with_the_default(shared_data: Path, publisher: Publisher, tmp_path: Path) -> None:
    """The embedded default plus fetched ICD-10-CM FY2025 and HCPCS: history across ICD-10-CM releases."""
    fetcher = serve(publisher, shared_data, tmp_path / "cache", CM_2025, HCPCS_JAN)
    out = tmp_path / "index.sqlite"
    report = update(fetcher, out)
    assert report.build is not None and len(report.downloaded) == 2
    catalog = Catalog(out)
    try:
        assert len(catalog.releases()["icd10cm"]) >= 2 and "hcpcs" in catalog.counts()
        changes = catalog.conn.execute("SELECT COUNT(*) FROM history WHERE system='icd10cm'").fetchone()[0]
    finally:
        catalog.conn.close()
    assert changes > 400  # FY2026 added 487 codes to FY2025 (SOURCES.md)
    assert update(fetcher, out).build is None
