"""Search: one box over every code system.

    from medcodes.index import Catalog
    from medcodes.search import search, suggest
    search(Catalog(path), "heart attack", systems=["icd10cm"], limit=10)
    suggest(catalog, "diab", limit=8)

The package itself is callable with the default index (MEDCODES_DB), so `medcodes.search(q)`
works as the issue asks: `medcodes.search("broken wrist", billable=True)`.
"""

from __future__ import annotations

import os
import sys
import threading
import types
import weakref
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import BadRequest
from ..index import Catalog
from .asof import parse_date
from .engine import Engine
from .results import run_search, run_suggest

__all__ = ["search", "suggest", "engine_for"]

MAX_LIMIT = 1000
MAX_OFFSET = 100_000

_engines: weakref.WeakKeyDictionary[Catalog, Engine] = weakref.WeakKeyDictionary()
_catalogs: dict[tuple[str, int, int], Catalog] = {}
_lock = threading.Lock()


def search(catalog: Catalog | str | Path, q: str, systems: list[str] | tuple[str, ...] | None = None,
           billable: bool | None = None, limit: int = 10, offset: int = 0,
           as_of: str | None = None) -> dict[str, Any]:
    """Ranked results for `q` with per-system counts (facets), the total and "did you mean".

    `as_of` ("2024-06-01", a date of service): only codes that existed on that date; codes
    deleted by then are kept and each result says whether it was valid then (issue 7).
    Raises BadRequest for input that cannot be answered (a negative limit, an unknown system,
    a date that is not YYYY-MM-DD).
    """
    cat = _catalog(catalog)
    limit, offset = _bounds(limit, offset)
    date = parse_date(as_of) if as_of is not None else None
    return run_search(cat, engine_for(cat), q, systems, billable, limit, offset, date)


def suggest(catalog: Catalog | str | Path, prefix: str, limit: int = 8) -> list[dict[str, Any]]:
    """As-you-type completions: codes that start with `prefix`, then the best word matches."""
    cat = _catalog(catalog)
    limit, _ = _bounds(limit, 0)
    return run_suggest(cat, engine_for(cat), prefix, limit)


def engine_for(catalog: Catalog) -> Engine:
    engine = _engines.get(catalog)
    if engine is None:
        with _lock:
            engine = _engines.get(catalog)
            if engine is None:
                engine = _engines[catalog] = Engine(catalog.conn)
    return engine


def _catalog(catalog: Catalog | str | Path) -> Catalog:
    if isinstance(catalog, Catalog):
        return catalog
    if not isinstance(catalog, str | os.PathLike):
        raise TypeError(f"search wants a Catalog or an index path, not {type(catalog).__name__}")
    path = Path(catalog).expanduser().resolve()
    try:
        st = path.stat()
    except OSError:
        return Catalog(path)  # raises the Catalog's own clear error
    key = (str(path), st.st_ino, st.st_mtime_ns)
    with _lock:
        cat = _catalogs.get(key)
        if cat is None:
            for old in [k for k in _catalogs if k[0] == key[0]]:
                del _catalogs[old]  # the file was rebuilt: forget the old one
            cat = _catalogs[key] = Catalog(path)
    return cat


def _bounds(limit: Any, offset: Any) -> tuple[int, int]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be an integer from 0 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise BadRequest(f"offset must be an integer from 0 to {MAX_OFFSET}, got {offset!r}")
    return limit, offset


class _CallableModule(types.ModuleType):
    """Lets `medcodes.search(q, ...)` search the default index while `medcodes.search.search`
    stays the function that takes a Catalog."""

    def __call__(self, q: str, systems: list[str] | None = None, billable: bool | None = None,
                 limit: int = 10, offset: int = 0, *, db: str | Path | None = None,
                 as_of: str | None = None) -> dict[str, Any]:
        return search(db or settings.db_path(), q, systems=systems, billable=billable, limit=limit, offset=offset,
                      as_of=as_of)


sys.modules[__name__].__class__ = _CallableModule
