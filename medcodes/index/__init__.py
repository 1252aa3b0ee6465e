"""The SQLite index: one file, built atomically, opened read-only.

Build an index to serve with medcodes.app.build, which adds the search tables; `build.build_index`
here writes the index's own tables only.
"""

from .build import BuildReport
from .catalog import Catalog

__all__ = ["BuildReport", "Catalog"]
