"""The embedded default: official files that PyPI packages install in site-packages.

Nothing is copied into this repository; each importer says which installed
files it reads (`embedded_sources()`), and the build reads them in place.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from . import IMPORTERS

# Order matters: a later source enriches codes an earlier one created.
DEFAULT_ORDER: tuple[str, ...] = ("icd10cm", "icd10pcs", "icd9cm", "gems", "msdrg")


def default_sources() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for name in DEFAULT_ORDER:
        module = importlib.import_module(f"{__package__}.{IMPORTERS[name]}")
        finder = getattr(module, "embedded_sources", None)
        if finder is not None:
            out.extend((name, Path(p)) for p in finder())
    return out
