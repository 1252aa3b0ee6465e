"""medcodes: search and reference for medical code systems.

`medcodes.search(q, systems=None, billable=None, limit=10, offset=0)` searches the default
index (MEDCODES_DB); nothing is imported until it is first used.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "search":  # the package medcodes.search is itself callable
        return importlib.import_module(".search", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
