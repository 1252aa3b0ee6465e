"""Download one file over HTTP into a `.part` file, resuming a broken download with HTTP Range.

A download that breaks off (connection closed, timeout) keeps what it got;
the next call asks for the rest (`Range: bytes=N-`). A server that ignores
the range answers 200 and the file starts over. Whether the bytes add up to
a good copy is for `verify` to say, so a resumed download spliced from a
file that changed on the server in between is caught there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from ..http_client import FetchError, HttpClient, Limits

__all__ = ["FetchError", "Progress", "client", "download"]

USER_AGENT = "medcodes (official release fetcher)"
# a release file is at most a few hundred MB: an hour is slow but honest; a server dripping bytes
# is cut off then rather than holding `medcodes update` forever
DEADLINE = 3600.0
MAX_BYTES = 2 * 1024**3  # when the table does not say how big the file is

# (label, bytes so far, total bytes or None when the server does not say)
Progress = Callable[[str, int, int | None], None]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(?:\d+|\*)")


def client(timeout: float) -> HttpClient:
    # identity encoding: byte offsets for Range must count the file's own bytes
    return HttpClient(limits=Limits(timeout=timeout, deadline=DEADLINE, max_bytes=MAX_BYTES, retries=0),
                      user_agent=USER_AGENT, headers={"Accept-Encoding": "identity"})


def download(http: HttpClient, url: str, part: Path, label: str = "", progress: Progress | None = None,
             size: int | None = None) -> int:
    """Complete `part` from `url`; return the byte offset the download resumed from (0: from the start).
    `size`: the file's known size; nothing beyond it is written."""
    for _attempt in range(2):
        start = part.stat().st_size if part.exists() else 0
        try:
            with http.stream(url, headers={"Range": f"bytes={start}-"} if start else {}) as r:
                if r.status_code == 416 and start:
                    part.unlink()  # what we hold is not a prefix the server can continue: start over
                    continue
                offset = _offset(r, url, start)
                cap = (size if size is not None else http.limits.max_bytes) - offset
                _write(http.body(r, max_bytes=max(cap, 0), raw=True), r, part, offset, label or url, progress)
                return offset
        except FetchError as e:
            if e.too_big:
                part.unlink(missing_ok=True)  # not the file the table describes: nothing to resume
                raise FetchError(f"{e}; the release file is {size:,} bytes" if size else str(e)) from None
            if e.timed_out:
                raise FetchError(url, f"no data from the server for {http.limits.timeout:g} s"
                                      f" (MEDCODES_FETCH_TIMEOUT){_resume_hint(part)}") from None
            if e.retryable and "cannot connect" not in str(e):
                raise FetchError(f"{e}{_resume_hint(part)}") from None
            raise
    raise FetchError(url, "the server refuses every byte range (HTTP 416)")


def _offset(r: httpx.Response, url: str, start: int) -> int:
    if r.status_code == 200:
        return 0
    if r.status_code == 206:
        m = _CONTENT_RANGE.match(r.headers.get("Content-Range", ""))
        if m and int(m.group(1)) == start:
            return start
        raise FetchError(url, f"asked for bytes {start}- and got {r.headers.get('Content-Range')!r}")
    raise FetchError(url, f"HTTP {r.status_code} {r.reason_phrase}".rstrip(), r.status_code)


def _write(chunks: Iterator[bytes], r: httpx.Response, part: Path, offset: int, label: str,
           progress: Progress | None) -> None:
    length = r.headers.get("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    done = offset
    part.parent.mkdir(parents=True, exist_ok=True)
    with open(part, "ab" if offset else "wb") as f:
        # raw chunks, not re-chunked: a buffered tail would be lost when the peer breaks off (httpx
        # checks Content-Length and raises RemoteProtocolError on a short body)
        for chunk in chunks:
            f.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(label, done, total)


def _resume_hint(part: Path) -> str:
    if part.exists() and part.stat().st_size:
        return f"; kept {part.stat().st_size:,} bytes, run again to resume"
    return ""
