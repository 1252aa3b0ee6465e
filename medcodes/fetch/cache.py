"""The local cache of official release files: fetch into it, list what it holds.

Layout: `<cache>/<system>/<release>/<file>`. A file appears under its final
name only once verified; until then it is `<file>.part`, which the next
fetch resumes. So a file in the cache is never downloaded again (it is only
re-checked, and fetched afresh if it no longer verifies).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import settings
from ..errors import MedcodesError
from ..http_client import HttpClient
from .download import FetchError, Progress, client, download
from .releases import PUBLISHERS, RELEASES, ReleaseFile, files
from .verify import verify


def _quiet(_msg: str) -> None:
    pass


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:  # also refuses nan
        raise MedcodesError(f"MEDCODES_FETCH_TIMEOUT wants a number of seconds above 0, got {text!r}")
    return value


def fetch_dir() -> Path:
    explicit = settings.get("MEDCODES_FETCH_DIR")
    return Path(explicit or Path(settings.get("MEDCODES_CACHE")) / "downloads").expanduser()


@dataclass(frozen=True, slots=True)
class Fetched:
    file: ReleaseFile
    path: Path
    url: str
    downloaded: bool  # False: it was in the cache already
    size: int
    resumed_from: int = 0  # bytes a broken earlier download had already brought
    seconds: float = 0.0


@dataclass
class Fetcher:
    cache: Path
    base_urls: Mapping[str, str]  # publisher -> base URL
    timeout: float = 60.0
    table: Sequence[ReleaseFile] = RELEASES
    log: Callable[[str], None] = _quiet
    progress: Progress | None = None

    @classmethod
    def from_settings(cls, log: Callable[[str], None] = _quiet, progress: Progress | None = None) -> Fetcher:
        """The cache, publisher base URLs and timeout from MEDCODES_* settings."""
        return cls(cache=fetch_dir(), base_urls={p: settings.get(name) for p, name in PUBLISHERS.items()},
                   timeout=_seconds(settings.get("MEDCODES_FETCH_TIMEOUT")), log=log, progress=progress)

    def url(self, rf: ReleaseFile) -> str:
        return self.base_urls[rf.publisher].rstrip("/") + rf.path

    def path(self, rf: ReleaseFile) -> Path:
        return self.cache / rf.system / rf.release / rf.file

    def fetch(self, system: str, release: str | None = None) -> list[Fetched]:
        """Bring every file of a release (default: the newest) into the cache."""
        wanted = files(system, release, self.table)
        with client(self.timeout) as http:
            return [self._fetch_file(http, rf) for rf in wanted]

    def fetch_file(self, rf: ReleaseFile) -> Fetched:
        """One file of the table into the cache (a cached copy that no longer verifies is fetched again)."""
        with client(self.timeout) as http:
            return self._fetch_file(http, rf)

    def quarantine(self, path: Path) -> Path:
        """Move a bad cached file out of the way (`<cache>/quarantine/...`), so the next update
        neither reads it nor fails on it again, and it is still there to look at."""
        moved = self.cache / "quarantine" / path.relative_to(self.cache)
        moved.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, moved)
        return moved

    def cached(self) -> list[tuple[ReleaseFile, Path]]:
        """Every table file the cache holds, oldest release first (table order within one)."""
        held = [(rf, self.path(rf)) for rf in self.table if self.path(rf).is_file()]
        return sorted(held, key=lambda row: row[0].effective)

    def _fetch_file(self, http: HttpClient, rf: ReleaseFile) -> Fetched:
        dest, url = self.path(rf), self.url(rf)
        if dest.is_file():
            try:
                verify(dest, rf)
                return Fetched(rf, dest, url, downloaded=False, size=dest.stat().st_size)
            except FetchError as e:
                self.log(f"{dest}: no longer a good copy ({e}); downloading it again")
                dest.unlink()
        part = dest.with_name(dest.name + ".part")
        t0 = time.perf_counter()
        resumed = download(http, url, part, f"{rf.system} {rf.release} {rf.file}", self.progress, size=rf.size)
        try:
            verify(part, rf)
        except FetchError as e:
            part.unlink()
            note = f"\n{rf.note}: {dest}" if rf.note else ""
            raise FetchError(url, f"the download is not a good copy: {e}; removed it{note}") from None
        os.replace(part, dest)
        got = Fetched(rf, dest, url, downloaded=True, size=dest.stat().st_size, resumed_from=resumed,
                      seconds=time.perf_counter() - t0)
        self.log(f"fetched {rf.system} {rf.release} {rf.file}: {got.size / 1e6:.1f} MB in {got.seconds:.1f}s"
                 + (f" (resumed at {resumed:,} bytes)" if resumed else ""))
        return got
