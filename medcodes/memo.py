"""Answers remembered per worker process and per index file: the last N results of a function of
(index file, key), least recently used out first.

The key holds the index file's identity (path, inode, mtime, size): a build renames a new file into
place, so nothing remembered for the old file is answered for the new one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

V = TypeVar("V")


def file_stamp(path: Path) -> tuple[str, int, int, int] | None:
    """What changes when a file is replaced or written; None when it is not there."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_ino, st.st_mtime_ns, st.st_size)


class Memo(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def peek(self, index: Path, key: Hashable) -> V | None:
        """The remembered answer, or None (nothing is made)."""
        return self._lookup((file_stamp(index), key))

    def get(self, index: Path, key: Hashable, make: Callable[[], V]) -> V:
        full = (file_stamp(index), key)  # one stat of the index file per request
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
