"""The last answers of the search and suggestion endpoints, per worker process.

Both are pure functions of the index file and the request's parameters, and people ask the same
things again and again (the popular queries, every keystroke of a common word, a results page and
its way back), so a repeat is answered from memory. The key holds the index file's identity
(path, inode, size, mtime): a rebuild renames a new file into place and nothing old is answered
for it. The first asking of each query costs what it always did: bench/serve.py measures both.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path

from ..index.extras import file_stamp


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, index: Path, key: Hashable, make: Callable[[], bytes]) -> bytes:
        full = (file_stamp(index), key)
        with self._lock:
            body = self._items.get(full)
            if body is not None:
                self._items.move_to_end(full)
                self.hits += 1
                return body
            self.misses += 1
        body = make()  # outside the lock: two threads may both make one, and the answers are equal
        with self._lock:
            self._items[full] = body
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


SEARCHES = Memo(4096)  # a results page is ~5 KB of JSON: ~20 MB at most
SUGGESTIONS = Memo(8192)  # ~2 KB each
