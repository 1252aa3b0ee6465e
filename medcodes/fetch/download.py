"""Download one file over HTTP into a `.part` file, resuming a broken download with HTTP Range.

A download that breaks off (connection closed, timeout) keeps what it got;
the next call asks for the rest (`Range: bytes=N-`). A server that ignores
the range answers 200 and the file starts over. Whether the bytes add up to
a good copy is for `verify` to say, so a resumed download spliced from a
file that changed on the server in between is caught there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from ..errors import MedcodesError

USER_AGENT = "medcodes (official release fetcher)"

# (label, bytes so far, total bytes or None when the server does not say)
Progress = Callable[[str, int, int | None], None]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(?:\d+|\*)")


class FetchError(MedcodesError):
    """A release file that could not be downloaded or is not a good copy."""


def client(timeout: float) -> httpx.Client:
    # identity encoding: byte offsets for Range must count the file's own bytes
    return httpx.Client(timeout=timeout, follow_redirects=True,
                        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})


def download(http: httpx.Client, url: str, part: Path, label: str = "", progress: Progress | None = None) -> int:
    """Complete `part` from `url`; return the byte offset the download resumed from (0: from the start)."""
    for _attempt in range(2):
        start = part.stat().st_size if part.exists() else 0
        try:
            with http.stream("GET", url, headers={"Range": f"bytes={start}-"} if start else {}) as r:
                if r.status_code == 416 and start:
                    part.unlink()  # what we hold is not a prefix the server can continue: start over
                    continue
                offset = _offset(r, url, start)
                _write(r, part, offset, label or url, progress)
                return offset
        except httpx.TimeoutException:
            raise FetchError(f"{url}: no data from the server for {_timeout(http):g} s (MEDCODES_FETCH_TIMEOUT)"
                             + _resume_hint(part)) from None
        except httpx.ConnectError as e:
            raise FetchError(f"{url}: cannot connect ({e})") from None
        except httpx.TransportError as e:
            raise FetchError(f"{url}: download broke off ({e})" + _resume_hint(part)) from None
    raise FetchError(f"{url}: the server refuses every byte range (HTTP 416)")


def _offset(r: httpx.Response, url: str, start: int) -> int:
    if r.status_code == 200:
        return 0
    if r.status_code == 206:
        m = _CONTENT_RANGE.match(r.headers.get("Content-Range", ""))
        if m and int(m.group(1)) == start:
            return start
        raise FetchError(f"{url}: asked for bytes {start}- and got {r.headers.get('Content-Range')!r}")
    raise FetchError(f"{url}: HTTP {r.status_code} {r.reason_phrase}".rstrip())


def _write(r: httpx.Response, part: Path, offset: int, label: str, progress: Progress | None) -> None:
    length = r.headers.get("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    done = offset
    part.parent.mkdir(parents=True, exist_ok=True)
    with open(part, "ab" if offset else "wb") as f:
        # no re-chunking: a buffered tail would be lost when the peer breaks off (httpx checks
        # Content-Length and raises RemoteProtocolError on a short body)
        for chunk in r.iter_raw():
            f.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(label, done, total)


def _timeout(http: httpx.Client) -> float:
    return http.timeout.read or 0.0


def _resume_hint(part: Path) -> str:
    if part.exists() and part.stat().st_size:
        return f"; kept {part.stat().st_size:,} bytes, run again to resume"
    return ""
