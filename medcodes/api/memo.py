"""The last answers of the search and suggestion endpoints, per worker process (medcodes.memo).

Both are pure functions of the index file and the request's parameters, and people ask the same
things again and again (the popular queries, every keystroke of a common word, a results page and
its way back), so a repeat is answered from memory. The first asking of each query costs what it
always did: bench/serve.py measures both.
"""

from __future__ import annotations

from ..memo import Memo

__all__ = ["Memo", "SEARCHES", "SUGGESTIONS"]

SEARCHES: Memo[bytes] = Memo(4096)  # a results page is ~5 KB of JSON: ~20 MB at most
SUGGESTIONS: Memo[bytes] = Memo(8192)  # ~2 KB each
