"""The `medcodes fetch` and `medcodes update` commands: parse, call medcodes.fetch, print.

Imports stay inside the functions so `medcodes show` does not pay for httpx.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .. import settings
from ..errors import MedcodesError

if TYPE_CHECKING:
    from .cache import Fetcher


def add_fetch(p: argparse.ArgumentParser) -> None:
    p.add_argument("system", nargs="?", help="code system: icd10cm, icd10pcs, hcpcs, gems, icd9cm, loinc, ndc, rxnorm")
    p.add_argument("--release", metavar="R", help="release id such as 2026 or 2025-jan (default: the newest)")
    p.add_argument("--list", action="store_true", help="list the releases that can be fetched and what is cached")


def cmd_fetch(args: argparse.Namespace) -> int:
    from .releases import systems

    bars = _Bars()
    fetcher = _fetcher(bars)
    if args.list:
        _print_releases(fetcher, args.system)
        return 0
    if not args.system:
        raise MedcodesError(f"name a system to fetch: {', '.join(systems())} (or --list)")
    try:
        results = fetcher.fetch(args.system, args.release)
    finally:
        bars.close()
    for f in results:
        print(f"{'fetched' if f.downloaded else 'cached '} {f.path}  ({f.size / 1e6:.1f} MB)")
    print("`medcodes update` rebuilds the index with every cached release", file=sys.stderr)
    return 0


def _print_releases(fetcher: Fetcher, system: str | None) -> None:
    from .releases import releases

    if system:
        releases(system, fetcher.table)  # an unknown system is an error, not an empty list
    for rf in sorted(fetcher.table, key=lambda rf: (rf.system, rf.effective)):
        if system in (None, rf.system):
            state = "cached" if fetcher.path(rf).is_file() else "-"
            print(f"{rf.system:<9} {rf.release:<9} {rf.effective}  {state:<6}  {fetcher.url(rf)}")


def add_update(p: argparse.ArgumentParser) -> None:
    p.add_argument("system", nargs="*",
                   help="systems to bring up to date (default: icd10cm, icd10pcs, hcpcs and any already cached)")
    p.add_argument("--no-default", action="store_true", help="leave out the embedded default data")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing new was fetched")


def cmd_update(args: argparse.Namespace) -> int:
    from .update import update

    out = settings.db_path(args.db)
    bars = _Bars()
    fetcher = _fetcher(bars)
    try:
        report = update(fetcher, out, args.system, default=not args.no_default, force=args.force, log=_err)
    finally:
        bars.close()
    new = report.downloaded
    print(f"fetched {len(new)} new file(s)" + (f", {sum(f.size for f in new) / 1e6:.1f} MB" if new else ""))
    if report.build is None:
        print(f"{out} is up to date ({len(report.sources)} source files)")
    else:
        counts = ", ".join(f"{s} {n:,}" for s, n in report.build.counts_by_system.items())
        print(f"rebuilt {out} in {report.build.seconds:.1f}s: {counts}")
    return 0


def _fetcher(bars: _Bars) -> Fetcher:
    from .cache import Fetcher

    # progress bars only on a terminal; the per-file log lines go to stderr either way
    return Fetcher.from_settings(log=_err, progress=bars if sys.stderr.isatty() else None)


def _err(message: str) -> None:
    print(message, file=sys.stderr)


class _Bars:
    """One tqdm bar per file on stderr; a Progress callback."""

    def __init__(self) -> None:
        self.label: str | None = None
        self.bar: Any = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if label != self.label:
            from tqdm import tqdm

            self.close()
            self.label = label
            self.bar = tqdm(desc=label, total=total, initial=done, unit="B", unit_scale=True, leave=False)
        else:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = self.label = None
