"""`medcodes update`: fetch the newest releases, then rebuild the index from everything cached.

The rebuild reads the embedded default plus every cached release file, oldest
release first, so the builder can diff the releases of each system into code
history. The build is atomic (medcodes.index.build_index): if a fetch or the
build fails, the index that was serving keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..app.build import build_index
from ..errors import MedcodesError, SourceError
from ..files import file_sha256
from ..index import BuildReport, Catalog
from ..sources.embedded import default_sources
from .cache import Fetched, Fetcher
from .download import FetchError
from .releases import MAINTAINED, releases, systems
from .verify import verify


@dataclass
class UpdateReport:
    fetched: list[Fetched]
    sources: list[tuple[str, Path]]
    build: BuildReport | None  # None: the index already held exactly these sources

    @property
    def downloaded(self) -> list[Fetched]:
        return [f for f in self.fetched if f.downloaded]


def update(fetcher: Fetcher, out: Path, only: Sequence[str] = (), *, default: bool = True, force: bool = False,
           log: Callable[[str], None] = lambda _m: None) -> UpdateReport:
    """Fetch the newest release of each system (`only`, or the maintained and already cached ones), then
    rebuild `out` when anything changed."""
    fetched: list[Fetched] = []
    errors: list[str] = []
    for system in _systems(fetcher, only):
        try:
            fetched += fetcher.fetch(system)
        except FetchError as e:
            errors.append(str(e))
    errors += _recheck(fetcher, {f.path for f in fetched}, log)
    if errors:
        raise FetchError("the index was not rebuilt:\n  " + "\n  ".join(errors))
    sources = default_sources() if default else []
    sources += [(rf.importer, path) for rf, path in fetcher.cached()]
    if not sources:
        raise MedcodesError("nothing to build: no release files are cached and the default is left out")
    if not force and not any(f.downloaded for f in fetched) and _holds(out, sources):
        return UpdateReport(fetched, sources, None)
    try:
        return UpdateReport(fetched, sources, build_index(sources, out, log=log))
    except SourceError as e:
        bad = next((path for _rf, path in fetcher.cached() if _within(e.path, path)), None)
        if bad is None:
            raise
        moved = fetcher.quarantine(bad)
        raise FetchError(f"the index was not rebuilt: {e}\n  the cached file {bad} cannot be read, so it was moved"
                         f" to {moved}; `medcodes update` now builds without it (and fetches it again when it"
                         f" is the newest release), or put a good copy back at {bad}") from None


def _recheck(fetcher: Fetcher, checked: set[Path], log: Callable[[str], None]) -> list[str]:
    """Every cached file not just fetched is verified again before the build reads it: a file damaged
    since it came (or one without a known SHA-256 that was never the real file) would otherwise fail
    every later update. A bad one is moved out of the cache and fetched again; when that fails, the
    error says so, and the next update builds without it."""
    errors = []
    for rf, path in fetcher.cached():
        if path in checked:
            continue
        try:
            verify(path, rf)
            continue
        except FetchError as e:
            problem = str(e)
        moved = fetcher.quarantine(path)
        log(f"{path}: not a good copy ({problem}); moved to {moved}, fetching it again")
        try:
            fetcher.fetch_file(rf)
        except FetchError as e:
            errors.append(f"{path}: not a good copy ({problem}), moved to {moved}; fetching it again failed: {e};"
                          f" run `medcodes update` again to build without it, or `medcodes fetch {rf.system}"
                          f" --release {rf.release}` once the publisher serves it")
            continue
        moved.unlink()
    return errors


def _within(reported: str, path: Path) -> bool:
    """Does an error's path (a file, or a member of a zip: "<zip>/<member>", "<zip>!<member>") name `path`?"""
    name = str(path)
    return reported == name or reported.startswith((name + "/", name + "!", name + ":", name + " "))


def _systems(fetcher: Fetcher, only: Sequence[str]) -> list[str]:
    for system in only:
        releases(system, fetcher.table)  # an unknown system fails before anything is fetched
    if only:
        return list(dict.fromkeys(only))
    known = systems(fetcher.table)
    wanted = [*MAINTAINED, *(rf.system for rf, _ in fetcher.cached())]
    return [s for s in dict.fromkeys(wanted) if s in known]


def _holds(out: Path, sources: list[tuple[str, Path]]) -> bool:
    """Was `out` built from exactly these files (by name and content)?"""
    try:
        catalog = Catalog(out)
    except MedcodesError:
        return False
    try:
        built = [(s["name"], s["sha256"]) for s in catalog.sources()]
    finally:
        catalog.conn.close()
    return built == [(name, file_sha256(path)) for name, path in sources]
