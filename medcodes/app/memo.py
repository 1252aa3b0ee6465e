"""The last answers of search, the search page and suggestions, per worker process (medcodes.memo).

Both are pure functions of the index file and the request's parameters, and people ask the same
things again and again (the popular queries, every keystroke of a common word, a results page and
its way back), so a repeat is answered from memory. The first asking of each query costs what it
always did: bench/serve.py measures both.
"""

from __future__ import annotations

from typing import Any

from ..memo import Memo

__all__ = ["Memo", "RESULTS", "SEARCHES", "SUGGESTIONS"]

SEARCHES: Memo[bytes] = Memo(4096)  # a results page is ~5 KB of JSON: ~20 MB at most
# the search page's results as the dicts its template reads (read-only: one dict may serve many
# requests); 20 results are ~19 KB of Python objects: ~20 MB at most
RESULTS: Memo[dict[str, Any]] = Memo(1024)
SUGGESTIONS: Memo[bytes] = Memo(8192)  # ~2 KB each
