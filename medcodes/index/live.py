"""The index a long-running server answers from, switched to a rebuilt file between requests.

`medcodes build` and `medcodes update` write a new file beside the index and rename it over the old
one. A server process keeps its old connections reading the old inode, so without a check it would
answer from the deleted file forever, and a thread that opened its first connection after the rename
would read the new file with arrays (search engine, title indexes) made from the old one. Here every
request asks `current()`: one stat of the path; when the file there is another one, a new Catalog is
opened for the requests that follow, while requests already running finish on the Catalog they
started with. The old Catalog, its engine and its connections go when the last of them ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..errors import MedcodesError
from ..memo import file_stamp
from .catalog import Catalog

log = logging.getLogger("medcodes.index")


class LiveCatalog:
    def __init__(self, path: str | Path, *, store: str | Path | None = None,
                 on_replace: Callable[[Catalog], None] = lambda _c: None) -> None:
        self._store = store
        self._catalog = Catalog(path, store=store)
        self._on_replace = on_replace
        self._lock = threading.Lock()
        self._refused: tuple[str, int, int, int] | None = None  # a new file that would not open
        self.replaced = 0

    @property
    def path(self) -> Path:
        return self._catalog.path

    def current(self) -> Catalog:
        """The Catalog of the file at the path now (the same object while the file is the same)."""
        cat = self._catalog
        stamp = file_stamp(cat.path)
        if stamp == cat.stamp or stamp is None or stamp == self._refused:
            # gone (being moved into place, or removed by hand): keep answering from what is open
            return cat
        with self._lock:
            if self._catalog is not cat:  # another thread switched meanwhile
                return self._catalog
            try:
                new = Catalog(cat.path, store=self._store)
            except MedcodesError as e:
                # a file copied into place by hand, half written or of another schema: keep serving
                # the open one and say why once, rather than failing every request
                log.error("keeping the index already open: the new file at %s cannot be read: %s", cat.path, e)
                self._refused = stamp
                return cat
            self._catalog = new
            self.replaced += 1
        log.info("index file %s was replaced: answering from the new one", cat.path)
        self._on_replace(new)
        return new
