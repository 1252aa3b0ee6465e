"""The vendored data layer: compact files derived from public-domain official files.

Some official code files are on no PyPI package (HCPCS Level II, ICD-10-PCS FY2026, the ICD-10-CM
index and tables, the Place of Service codes). The repository carries a small derived file for
each, made from the official file by `medcodes data derive SOURCE=PATH` (derive.py), never a copy
of it: the records the importer reads from it, in the format codec.py describes. Each has a
provenance record (provenance.py) that `medcodes sources` shows and the build checks: a derived
file whose SHA-256 is not the one recorded is refused, naming the file, and the index that was
serving stays.

The default build reads them after the site-packages files (medcodes.sources.embedded); a newer
official file given to `medcodes build --source` or fetched by `medcodes update` is read after them
and wins, as any newer release does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..files import file_sha256
from ..model import Record
from . import codec
from .provenance import Provenance, load, record_of

DATA_DIR = Path(__file__).resolve().parent

__all__ = ["DATA_DIR", "Provenance", "is_derived", "layer", "layer_files", "read", "verify"]


def layer(directory: Path = DATA_DIR) -> list[Provenance]:
    """The provenance records of the vendored files, in build order."""
    return load(directory)


def layer_files(source: str, directory: Path = DATA_DIR) -> list[Path]:
    """The derived files of one importer (`hcpcs`, `icd10pcs`...), in build order."""
    return [directory / p.file for p in load(directory) if p.source == source]


def is_derived(path: Path) -> bool:
    return codec.read_header(Path(path)) is not None


def verify(path: Path) -> Provenance:
    """The file's provenance record, after checking the file's bytes against it."""
    path = Path(path)
    rec = record_of(path)
    digest = file_sha256(path)
    if digest != rec.sha256:
        raise SourceError(path, f"derived file does not match its provenance: SHA-256 {digest}, provenance says "
                                f"{rec.sha256}; re-derive it (`medcodes data derive {rec.source}=PATH-TO-"
                                f"{rec.official.file}`) or restore it")
    return rec


def read(path: Path, source: str, expanders: dict[str, codec.Expander]) -> Iterator[Record]:
    """The records of a derived file, after checking it against its provenance and its importer.
    `expanders`: what turns a compact record back into the importer's records (sources.expanders())."""
    path = Path(path)
    rec = verify(path)
    head = codec.read_header(path) or {}
    if rec.source != source or head.get("source") != source:
        raise SourceError(path, f"a derived {head.get('source') or rec.source} file, given as {source}")
    yield from codec.records(path, expanders)
