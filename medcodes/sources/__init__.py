"""Importers: one module per code system, each a generator of records.

Contract for every importer module:

    def read(path: Path) -> Iterator[Record]

- `path` is one official file (or the official zip that holds it). The
  module sniffs which of its formats the file is and raises SourceError
  naming the file (and line or record) when it is none of them.
- It yields `Release` (once per system the file feeds) and then `Code`,
  `Term`, `Relation` and `Change` (official addenda, action codes) records.
  It never touches the database.
- Nothing is read at import time.

`IMPORTERS` maps the names users give to `medcodes build --source NAME=PATH`
to the importer modules. `reader(name)` also reads the derived files of the
vendored data layer (medcodes.data) that importer's files were derived into.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import data
from ..data.codec import Expander
from ..errors import MedcodesError
from ..model import Record

# source name -> module under medcodes.sources
IMPORTERS: dict[str, str] = {
    "icd10cm": "icd10cm",
    "icd10pcs": "icd10pcs",
    "hcpcs": "hcpcs",
    "cpt": "cpt",
    "icd9cm": "icd9cm",
    "icd9pcs": "icd9cm",
    "gems": "gems",
    "msdrg": "msdrg",
    "pos": "pos",
    "loinc": "loinc",
    "ndc": "ndc",  # the FDA NDC Directory and the CMS NDC-HCPCS crosswalk
    "rxnorm": "rxnorm",
}


def reader(name: str) -> Callable[[Path], Iterator[Record]]:
    try:
        module_name = IMPORTERS[name]
    except KeyError:
        raise MedcodesError(
            f"unknown source {name!r}; known: {', '.join(sorted(IMPORTERS))}"
        ) from None
    module = importlib.import_module(f"{__name__}.{module_name}")
    official: Callable[[Path], Iterator[Record]] = module.read

    def read(path: Path) -> Iterator[Record]:
        # A file of the data layer (medcodes.data) is read back from its derived form, after its hash check.
        return data.read(path, name, expanders()) if data.is_derived(path) else official(path)

    return read


def expanders() -> dict[str, Expander]:
    """What turns each compact record kind of the data layer back into importer records."""
    from .icd10pcs.tables import expand_table

    return {"icd10pcs-tables": expand_table}
