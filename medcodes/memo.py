"""Answers remembered per worker process and per index file: the last N results of a function of
(index file, key), least recently used out first.

The key holds the index file's identity (path, inode, mtime, size): a build renames a new file into
place, so nothing remembered for the old file is answered for the new one. Given a Catalog, the
identity is that of the file the Catalog opened, so an answer made from the old file while a new one
is renamed into place is never kept as the new file's.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

V = TypeVar("V")

Stamp = tuple[str, int, int, int]


class Opened(Protocol):
    """An open index (a Catalog): the identity of the file it reads."""

    @property
    def stamp(self) -> Stamp | None: ...


_ALL: weakref.WeakSet[Memo[Any]] = weakref.WeakSet()


def file_stamp(path: Path) -> Stamp | None:
    """What changes when a file is replaced or written; None when it is not there."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


def _identity(index: Path | Opened) -> Stamp | None:
    return index.stamp if not isinstance(index, Path) else file_stamp(index)


def forget_all() -> None:
    """Drop every remembered answer of this process (a new index file is being served)."""
    for m in list(_ALL):
        m.clear()


class Memo(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0
        _ALL.add(self)

    def peek(self, index: Path | Opened, key: Hashable) -> V | None:
        """The remembered answer, or None (nothing is made)."""
        return self._lookup((_identity(index), key))

    def get(self, index: Path | Opened, key: Hashable, make: Callable[[], V]) -> V:
        full = (_identity(index), key)  # at most one stat of the index file per request
        value = self._lookup(full)
        if value is not None:
            return value
        value = make()  # outside the lock: two threads may both make one, and the answers are equal
        with self._lock:
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def _lookup(self, full: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(full)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(full)
            self.hits += 1
            return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
