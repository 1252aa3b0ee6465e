"""Fetch and rebuild from a local server: a cold cache, then a warm one.

    .venv/bin/python bench/fetch.py [--default] [--repeat N]

Serves the official zips in ../shared/data at their real CMS paths (http.server on 127.0.0.1) and
times `medcodes.fetch.update` (fetch + verify + rebuild) through the real release table:

  cold        empty cache: download, verify, build
  warm        everything cached, index current: re-verify, nothing downloaded or rebuilt
  warm+force  everything cached: re-verify, rebuild

Files: HCPCS January 2025, plus ICD-10-CM FY2025 code descriptions once the icd10cm importer exists.
Without --default the index holds the fetched files only (the embedded default adds about a minute).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from medcodes.fetch.cache import Fetcher
from medcodes.fetch.releases import RELEASES, ReleaseFile
from medcodes.fetch.update import UpdateReport, update

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WANTED = [("hcpcs", "2025-jan", "cms"), ("icd10cm", "2025", "cms")]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def rows() -> list[ReleaseFile]:
    picked = [rf for rf in RELEASES if (rf.system, rf.release, rf.publisher) in WANTED]
    return [rf for rf in picked if importlib.util.find_spec(f"medcodes.sources.{rf.importer}") is not None]


def site(root: Path, table: list[ReleaseFile]) -> None:
    """Lay the official files out under `root` at their URL paths (symlinks: nothing is copied)."""
    for rf in table:
        [official] = SHARED.rglob(rf.file)
        target = root / rf.path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(official)


def timed(run: Callable[[], UpdateReport], repeat: int) -> tuple[float, UpdateReport]:
    times, report = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        report = run()
        times.append(time.perf_counter() - t0)
    assert report is not None
    return statistics.median(times), report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--default", action="store_true", help="include the embedded default in the rebuild")
    ap.add_argument("--repeat", type=int, default=3, help="runs per warm figure (median)")
    args = ap.parse_args()
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is absent: nothing to serve")
    table = rows()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site(root / "www", table)
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root / "www")))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        fetcher = Fetcher(cache=root / "cache", base_urls={"cms": url, "cdc": url}, table=table)
        out = root / "index.sqlite"
        go = partial(update, fetcher, out, default=args.default)
        print(f"files: {', '.join(f'{rf.system} {rf.release} {rf.file}' for rf in table)}"
              + (" + embedded default" if args.default else ""))
        cold_s, cold = timed(go, 1)
        warm_s, warm = timed(go, args.repeat)
        force_s, forced = timed(partial(go, force=True), args.repeat)
        server.shutdown()
        server.server_close()
    mb = sum(f.size for f in cold.downloaded) / 1e6
    download_s = sum(f.seconds for f in cold.downloaded)
    assert cold.build and forced.build and warm.build is None
    print(f"cold        {cold_s:6.2f} s  ({mb:.1f} MB fetched and verified in {download_s:.2f} s, "
          f"{mb / download_s:.0f} MB/s; build {cold.build.seconds:.2f} s)")
    print(f"warm        {warm_s:6.2f} s  (nothing fetched, index current; median of {args.repeat})")
    print(f"warm+force  {force_s:6.2f} s  (nothing fetched, rebuilt; build {forced.build.seconds:.2f} s)")
    print("codes: " + ", ".join(f"{s} {n:,}" for s, n in forced.build.counts_by_system.items()))


if __name__ == "__main__":
    main()
