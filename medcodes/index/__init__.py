"""The SQLite index: one file, built atomically, opened read-only."""

from .build import BuildReport, build_from_records, build_index
from .catalog import Catalog

__all__ = ["BuildReport", "Catalog", "build_from_records", "build_index"]
