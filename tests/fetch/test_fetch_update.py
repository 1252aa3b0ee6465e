"""`update`: fetch what is new, rebuild from every cached release (with history), atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.errors import MedcodesError
from medcodes.fetch.cache import Fetcher
from medcodes.fetch.download import FetchError
from medcodes.fetch.update import update
from medcodes.index import Catalog

from .publisher import Publisher, hcpcs_zip, make_zip, release_file

JAN = "/files/zip/january-2025.zip"
APR = "/files/zip/april-2025.zip"
JAN_NAME = "HCPCS Level II 2025 January (Q1)"
APR_NAME = "HCPCS Level II 2025 April (Q2)"


def open_index(path: Path) -> Catalog:
    return Catalog(path)


@pytest.fixture
def two_releases(fetcher: Fetcher, publisher: Publisher) -> Fetcher:
    """January is cached already; April (without J1100) is new on the server."""
    publisher.serve(JAN, hcpcs_zip())
    publisher.serve(APR, hcpcs_zip("HCPC2025_APR_ANWEB.txt", drop=("J1100",)))
    fetcher.fetch("hcpcs", "2025-jan")
    return fetcher


def test_update_fetches_the_newest_and_builds_history(two_releases: Fetcher, tmp_path: Path) -> None:
    out = tmp_path / "index.sqlite"
    report = update(two_releases, out, default=False)
    assert [(f.file.release, f.downloaded) for f in report.fetched] == [("2025-apr", True)]
    assert [name for name, _ in report.sources] == ["hcpcs", "hcpcs"]
    assert report.build is not None and report.build.counts_by_system["hcpcs"] > 5
    catalog = open_index(out)
    assert catalog.releases()["hcpcs"] == [JAN_NAME, APR_NAME]
    assert [(h.release, h.change) for h in catalog.history("hcpcs", "J1100")] == [(APR_NAME, "deleted")]
    catalog.conn.close()


def test_update_without_anything_new_leaves_the_index_alone(two_releases: Fetcher, publisher: Publisher,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "index.sqlite"
    update(two_releases, out, default=False)
    before, asked = out.stat().st_mtime_ns, len(publisher.requests)
    again = update(two_releases, out, default=False)
    assert again.build is None and not again.downloaded
    assert out.stat().st_mtime_ns == before and len(publisher.requests) == asked
    assert update(two_releases, out, default=False, force=True).build is not None
    assert update(two_releases, tmp_path / "elsewhere.sqlite", default=False).build is not None


def test_a_bad_release_leaves_the_index_untouched(fetcher: Fetcher, publisher: Publisher, tmp_path: Path) -> None:
    out = tmp_path / "index.sqlite"
    publisher.serve(APR, hcpcs_zip("HCPC2025_APR_ANWEB.txt"))
    update(fetcher, out, default=False)
    before = out.read_bytes()
    # a new release comes out, and what arrives is not the whole zip
    fetcher.table = [*fetcher.table, release_file("2025-jul", "2025-07-01", "july-2025.zip")]
    publisher.serve("/files/zip/july-2025.zip", make_zip({"HCPC2025_JUL_ANWEB.txt": b"x" * 5000})[:-30])
    with pytest.raises(FetchError, match=r"(?s)the index was not rebuilt:.*/files/zip/july-2025.zip: "
                                         r"the download is not a good copy: not a readable zip.*removed it"):
        update(fetcher, out, default=False)
    assert out.read_bytes() == before
    assert [rf.release for rf, _ in fetcher.cached()] == ["2025-apr"]
    assert not list(fetcher.cache.rglob("*.part"))


def test_update_keeps_cached_systems_current(fetcher: Fetcher, publisher: Publisher, tmp_path: Path) -> None:
    publisher.serve(APR, hcpcs_zip("HCPC2025_APR_ANWEB.txt"))
    publisher.serve("/cdc/files/zip/other.zip", hcpcs_zip("HCPC2020_ANWEB.txt"))
    report = update(fetcher, tmp_path / "a.sqlite", default=False)
    assert [f.file.system for f in report.fetched] == ["hcpcs"]  # "other" is neither maintained nor cached
    fetcher.fetch("other")
    report = update(fetcher, tmp_path / "a.sqlite", default=False)
    assert [f.file.system for f in report.fetched] == ["hcpcs", "other"]
    assert report.build is not None  # a newly cached file changes what the index is built from


def test_an_unknown_system_fails_before_fetching(fetcher: Fetcher, publisher: Publisher, tmp_path: Path) -> None:
    with pytest.raises(MedcodesError, match="no releases to fetch for 'nope'"):
        update(fetcher, tmp_path / "a.sqlite", only=["hcpcs", "nope"], default=False)
    assert publisher.requests == []


def test_nothing_to_build(fetcher: Fetcher, tmp_path: Path) -> None:
    fetcher.table = [release_file("v1", "2020-01-01", "other.zip", system="other")]
    with pytest.raises(MedcodesError, match="nothing to build"):
        update(fetcher, tmp_path / "a.sqlite", default=False)
    assert not (tmp_path / "a.sqlite").exists()


def test_a_damaged_older_cached_file_is_fetched_again(two_releases: Fetcher, publisher: Publisher,
                                                      tmp_path: Path) -> None:
    """January has no known SHA-256 and was cached long ago; since then its copy was cut short on disk.
    Only April is fetched by `update`, yet the build reads January too."""
    jan = two_releases.path(two_releases.table[0])
    good = jan.read_bytes()
    jan.write_bytes(good[: len(good) // 2])
    logged: list[str] = []
    report = update(two_releases, tmp_path / "index.sqlite", default=False, log=logged.append)
    assert report.build is not None and jan.read_bytes() == good
    assert any(str(jan) in line and "fetching it again" in line for line in logged)


def test_a_bad_cached_file_blocks_one_update_not_every_one(two_releases: Fetcher, publisher: Publisher,
                                                           tmp_path: Path) -> None:
    """The publisher no longer serves January, and the cached copy is damaged: the error names the
    file and says what happens next; the update after it builds from what is good."""
    jan = two_releases.path(two_releases.table[0])
    jan.write_bytes(jan.read_bytes()[:100])
    publisher.serve(JAN, b"")  # now an empty answer: not a good copy either
    out = tmp_path / "index.sqlite"
    with pytest.raises(FetchError) as e:
        update(two_releases, out, default=False)
    message = str(e.value)
    assert f"{jan}: not a good copy (not a readable zip" in message
    assert "run `medcodes update` again to build without it" in message and "moved to" in message
    assert not out.exists()
    report = update(two_releases, out, default=False)  # the next one is not blocked
    assert report.build is not None and Catalog(out).releases()["hcpcs"] == [APR_NAME]


def test_a_cached_file_the_importer_refuses_is_moved_aside(two_releases: Fetcher, tmp_path: Path) -> None:
    """A good zip with the expected member, but not the file the release is (no SHA-256 to tell):
    the build's error names the cached file, and the next update builds without it."""
    jan = two_releases.path(two_releases.table[0])
    jan.write_bytes(make_zip({"HCPC2025_JAN_ANWEB.txt": b"this is not an HCPCS record file\n" * 40}))
    out = tmp_path / "index.sqlite"
    with pytest.raises(FetchError) as e:
        update(two_releases, out, default=False)
    message = str(e.value)
    moved = two_releases.cache / "quarantine" / jan.relative_to(two_releases.cache)
    assert str(jan) in message and f"moved to {moved}" in message and "builds without it" in message
    assert moved.exists() and not jan.exists()
    report = update(two_releases, out, default=False)
    assert report.build is not None and Catalog(out).releases()["hcpcs"] == [APR_NAME]
