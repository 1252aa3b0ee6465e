"""Fetching into the cache from a local server: verify, never twice, resume, and every failure named."""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from medcodes.fetch.cache import Fetcher
from medcodes.fetch.download import FetchError

from .publisher import Publisher, make_zip

JAN = "/files/zip/january-2025.zip"
APR = "/files/zip/april-2025.zip"


def big_zip() -> bytes:
    # stored random bytes: large enough to arrive in many chunks, and any wrong byte breaks a CRC
    return make_zip({"HCPC2025_JAN_ANWEB.txt": os.urandom(300_000), "readme.txt": b"x"})


def cache_files(fetcher: Fetcher) -> list[str]:
    return sorted(str(p.relative_to(fetcher.cache)) for p in fetcher.cache.rglob("*") if p.is_file())


def test_fetch_downloads_verifies_and_reports_progress(fetcher: Fetcher, publisher: Publisher) -> None:
    body = big_zip()
    publisher.serve(JAN, body)
    seen: list[tuple[str, int, int | None]] = []
    fetcher.progress = lambda label, done, total: seen.append((label, done, total))
    [got] = fetcher.fetch("hcpcs", "2025-jan")
    assert got.downloaded and got.resumed_from == 0 and got.size == len(body)
    assert got.path == fetcher.cache / "hcpcs" / "2025-jan" / "january-2025.zip"
    assert got.path.read_bytes() == body
    assert cache_files(fetcher) == ["hcpcs/2025-jan/january-2025.zip"]  # no .part left behind
    assert seen[-1] == ("hcpcs 2025-jan january-2025.zip", len(body), len(body))
    assert len(seen) > 1 and [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)


def test_the_newest_release_is_the_default(fetcher: Fetcher, publisher: Publisher) -> None:
    publisher.serve(APR, make_zip({"HCPC2025_APR_ANWEB.txt": b"x"}))
    [got] = fetcher.fetch("hcpcs")
    assert got.file.release == "2025-apr"


def test_what_the_cache_holds_is_never_downloaded_again(fetcher: Fetcher, publisher: Publisher) -> None:
    publisher.serve(JAN, big_zip())
    fetcher.fetch("hcpcs", "2025-jan")
    asked = len(publisher.requests)
    [again] = fetcher.fetch("hcpcs", "2025-jan")
    assert not again.downloaded and len(publisher.requests) == asked
    assert [rf.file for rf, _ in fetcher.cached()] == ["january-2025.zip"]


def test_a_broken_download_resumes_where_it_stopped(fetcher: Fetcher, publisher: Publisher) -> None:
    body = big_zip()
    publisher.serve(JAN, body, cut_after=100_000)
    with pytest.raises(FetchError, match=r"broke off.*; kept [0-9,]+ bytes, run again to resume") as e:
        fetcher.fetch("hcpcs", "2025-jan")
    assert str(e.value).startswith(f"{publisher.url}{JAN}: download broke off")
    assert cache_files(fetcher) == ["hcpcs/2025-jan/january-2025.zip.part"]
    kept = (fetcher.cache / "hcpcs/2025-jan/january-2025.zip.part").stat().st_size
    assert 0 < kept <= 100_000 and f"kept {kept:,} bytes" in str(e.value)
    [got] = fetcher.fetch("hcpcs", "2025-jan")
    assert publisher.requests[-1] == (JAN, f"bytes={kept}-")
    assert got.resumed_from == kept and got.path.read_bytes() == body
    assert cache_files(fetcher) == ["hcpcs/2025-jan/january-2025.zip"]


def test_a_server_that_ignores_ranges_sends_the_whole_file_again(fetcher: Fetcher, publisher: Publisher) -> None:
    body = big_zip()
    publisher.serve(JAN, body, cut_after=100_000, ranges=False)
    with pytest.raises(FetchError):
        fetcher.fetch("hcpcs", "2025-jan")
    [got] = fetcher.fetch("hcpcs", "2025-jan")
    assert got.resumed_from == 0 and got.path.read_bytes() == body


def test_a_stale_partial_file_longer_than_the_file_starts_over(fetcher: Fetcher, publisher: Publisher) -> None:
    body = make_zip({"HCPC2025_JAN_ANWEB.txt": b"codes"})
    publisher.serve(JAN, body)
    part = fetcher.cache / "hcpcs" / "2025-jan" / "january-2025.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * (len(body) + 10))
    [got] = fetcher.fetch("hcpcs", "2025-jan")
    assert [r for _, r in publisher.requests] == [f"bytes={len(body) + 10}-", None]  # 416, then from the start
    assert got.path.read_bytes() == body


def test_404_names_the_url(fetcher: Fetcher, publisher: Publisher) -> None:
    with pytest.raises(FetchError, match="HTTP 404") as e:
        fetcher.fetch("hcpcs", "2025-jan")
    assert str(e.value).startswith(f"{publisher.url}{JAN}: HTTP 404")
    assert cache_files(fetcher) == []


def test_a_slow_server_times_out_with_a_clear_error(fetcher: Fetcher, publisher: Publisher) -> None:
    publisher.serve(JAN, big_zip(), delay=1.0)
    fetcher.timeout = 0.2
    with pytest.raises(FetchError, match=r"no data from the server for 0.2 s \(MEDCODES_FETCH_TIMEOUT\)") as e:
        fetcher.fetch("hcpcs", "2025-jan")  # the message says the timeout fired, not the server's 1 s reply
    assert f"{publisher.url}{JAN}" in str(e.value)


def test_no_server_at_all(fetcher: Fetcher) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fetcher.base_urls = {"cms": f"http://127.0.0.1:{port}"}
    with pytest.raises(FetchError, match=f"http://127.0.0.1:{port}{JAN}: cannot connect"):
        fetcher.fetch("hcpcs", "2025-jan")


def corrupt(body: bytes) -> bytes:
    """Flip bytes inside the first member's data: the zip still opens, its CRC does not match."""
    i = body.index(b"HCPC2025_JAN_ANWEB.txt") + len("HCPC2025_JAN_ANWEB.txt") + 1000
    return body[:i] + bytes(b ^ 0xFF for b in body[i:i + 16]) + body[i + 16:]


@pytest.mark.parametrize(("body", "message"), [
    (corrupt(make_zip({"HCPC2025_JAN_ANWEB.txt": os.urandom(20_000)})), "CRC mismatch|not a readable zip"),
    (b"<html>This page has moved</html>", "not a readable zip"),
    (make_zip({"HCPC2025_JAN_ANWEB.xlsx": b"x"}), r"no member like HCPC\*ANWEB\*\.txt \(it holds: HCPC2025_JAN"),
    (b"", "the file is empty"),
])
def test_a_bad_download_is_removed_with_a_clear_error(fetcher: Fetcher, publisher: Publisher, body: bytes,
                                                      message: str) -> None:
    publisher.serve(JAN, body)
    with pytest.raises(FetchError, match=message) as e:
        fetcher.fetch("hcpcs", "2025-jan")
    assert str(e.value).startswith(f"{publisher.url}{JAN}: the download is not a good copy: ")
    assert str(e.value).endswith("; removed it")
    assert cache_files(fetcher) == []


def test_size_and_sha256_from_the_table_are_checked(fetcher: Fetcher, publisher: Publisher) -> None:
    body = make_zip({"HCPC2025_JAN_ANWEB.txt": b"codes"})
    publisher.serve(JAN, body)
    rf = fetcher.table[0]
    fetcher.table = [replace(rf, size=len(body) + 1)]
    with pytest.raises(FetchError, match=f"{len(body):,} bytes where {len(body) + 1:,} were expected"):
        fetcher.fetch("hcpcs")
    fetcher.table = [replace(rf, size=len(body), sha256="0" * 64)]
    with pytest.raises(FetchError, match=f"SHA-256 {hashlib.sha256(body).hexdigest()} where 0{{64}} was"):
        fetcher.fetch("hcpcs")
    fetcher.table = [replace(rf, size=len(body), sha256=hashlib.sha256(body).hexdigest())]
    assert fetcher.fetch("hcpcs")[0].downloaded


def test_a_cached_file_that_no_longer_verifies_is_fetched_again(fetcher: Fetcher, publisher: Publisher) -> None:
    body = make_zip({"HCPC2025_JAN_ANWEB.txt": b"codes"})
    publisher.serve(JAN, body)
    [got] = fetcher.fetch("hcpcs", "2025-jan")
    got.path.write_bytes(b"damaged on disk")
    logged: list[str] = []
    fetcher.log = logged.append
    [again] = fetcher.fetch("hcpcs", "2025-jan")
    assert again.downloaded and again.path.read_bytes() == body
    assert "no longer a good copy (not a readable zip" in logged[0]


def test_cached_lists_files_oldest_release_first(fetcher: Fetcher, publisher: Publisher, tmp_path: Path) -> None:
    publisher.serve(JAN, make_zip({"HCPC2025_JAN_ANWEB.txt": b"x"}))
    publisher.serve(APR, make_zip({"HCPC2025_APR_ANWEB.txt": b"x"}))
    publisher.serve("/cdc/files/zip/other.zip", make_zip({"a.txt": b"x"}))
    for system, release in [("hcpcs", "2025-apr"), ("other", None), ("hcpcs", "2025-jan")]:
        fetcher.fetch(system, release)
    assert [(rf.system, rf.release) for rf, _ in fetcher.cached()] == [
        ("other", "v1"), ("hcpcs", "2025-jan"), ("hcpcs", "2025-apr")]


def test_a_download_stops_at_the_size_the_table_gives(fetcher: Fetcher, publisher: Publisher) -> None:
    """A publisher (or something in between) sending far more than the release file is: nothing past
    the file's size is written, and nothing is left to resume."""
    body = make_zip({"HCPC2025_JAN_ANWEB.txt": b"codes"})
    publisher.serve(JAN, body + os.urandom(400_000))
    fetcher.table = [replace(fetcher.table[0], size=len(body))]
    with pytest.raises(FetchError, match=f"over the {len(body):,}-byte limit; the release file is {len(body):,} bytes"):
        fetcher.fetch("hcpcs")
    assert cache_files(fetcher) == []


def test_a_file_of_unknown_size_stops_at_the_cap(fetcher: Fetcher, publisher: Publisher,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from medcodes.fetch import download

    monkeypatch.setattr(download, "MAX_BYTES", 100_000)
    publisher.serve(JAN, os.urandom(300_000))
    with pytest.raises(FetchError, match="over the 100,000-byte limit"):
        fetcher.fetch("hcpcs", "2025-jan")
    assert cache_files(fetcher) == []
