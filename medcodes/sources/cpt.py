"""AMA CPT: the licensed descriptor files a user brings (never shipped here).

Two shapes of AMA data file are read, alone or from the zip that holds them:

- Plain descriptor files, one code a line after the AMA copyright notice:
  LONGULT.txt ("code<TAB>long descriptor"), MEDU.txt and SHORTU.txt
  ("code descriptor", upper case, 48 and 28 characters). Which descriptor a
  plain file holds comes from its name (LONG*, MED*, SHORT*); any other name is
  read as long descriptors.
- Delimited files with a header row (tab, comma or pipe): the CPT Link
  ConsumerDescriptor.txt / ClinicianDescriptor.txt ("Concept Id", "CPT Code",
  "Consumer Friendly Descriptor" / "Clinician Descriptor Id", "Clinician
  Descriptor") and CSV exports with "CPT Code" and Long/Medium/Short
  descriptor columns. Columns are found by their header names.

Only a file with long descriptors is the release's code list (billable=True);
medium, short, consumer and clinician files are supplements (billable=None),
so the builder's history does not read them as code lists.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..model import Code, Record, Release
from ..systems import normalize

SYSTEM = "cpt"

# 4 digits + a digit (Category I), F (II), T (III), U (PLA), A (vaccine), M (administrative MAAA).
CODE_RE = re.compile(r"[0-9]{4}[0-9AFMTU]")
# The copyright notice before the first code is about 10-20 lines; allow room.
MAX_HEADER_LINES = 100

_PLAIN_RE = re.compile(r"(?P<code>[0-9A-Z]{5})(?:\t| +)(?P<text>.*)")
# Zip members that must be descriptor files; any other .csv is read when its header names a code column.
_MEMBER_RE = re.compile(r"(?:^|/)(?:LONG[A-Z]*|MED[A-Z]*|SHORT[A-Z]*|[^/]*Consumer[^/]*|[^/]*Clinician[^/]*)"
                        r"\.(?:txt|csv|tsv)$", re.IGNORECASE)
_CSV_RE = re.compile(r"\.csv$", re.IGNORECASE)

# Normalised header name (lower case, letters only) -> field.
COLUMNS: dict[str, str] = {
    "cptcode": "code", "code": "code", "cpt": "code",
    "conceptid": "concept_id",
    "longdescriptor": "long", "longdescription": "long", "fulldescriptor": "long", "longdesc": "long",
    "descriptor": "long", "description": "long",
    "mediumdescriptor": "medium", "mediumdescription": "medium", "mediumdesc": "medium",
    "shortdescriptor": "short", "shortdescription": "short", "shortdesc": "short",
    "consumerfriendlydescriptor": "consumer", "consumerdescriptor": "consumer",
    "cliniciandescriptor": "clinician",
}
_DESCRIPTORS = ("long", "medium", "short", "consumer", "clinician")


def embedded_sources() -> list[Path]:
    # CPT is licensed by the AMA: nothing is bundled, users add their files with --source cpt=PATH.
    return []


def category_of(code: str) -> tuple[str | None, str | None]:
    """(CPT category, code type) from the code's last character."""
    last = code[-1]
    if last == "F":
        return "II", "Performance measurement"
    if last == "T":
        return "III", "Emerging technology"
    if last == "U":
        return "I", "Proprietary Laboratory Analyses (PLA)"
    if last == "A":
        return "I", "Vaccine administration"
    if last == "M":
        # Administrative MAAA codes sit outside the three categories.
        return None, "Administrative MAAA"
    return "I", None


@dataclass
class _Entry:
    long: str | None = None
    medium: str | None = None
    short: str | None = None
    consumer: str | None = None
    concept_id: str | None = None
    clinician: list[str] = field(default_factory=list)


@dataclass
class _Collected:
    entries: dict[str, _Entry] = field(default_factory=dict)
    kinds: set[str] = field(default_factory=set)
    preamble: list[str] = field(default_factory=list)  # header text, for the release year

    def entry(self, code: str) -> _Entry:
        return self.entries.setdefault(code, _Entry())

    def put(self, code: str, kind: str, text: str) -> None:
        if not text:
            return
        self.kinds.add(kind)
        e = self.entry(code)
        if kind == "clinician":
            if text not in e.clinician:
                e.clinician.append(text)
        else:
            setattr(e, kind, text)


# ---------------------------------------------------------------------------
# Bytes to text


def decode(label: str, data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SourceError(label, "bad encoding: broken UTF-16") from None
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise SourceError(label, "bad encoding: NUL bytes (UTF-16 without a byte-order mark, or binary?)", line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(label, f"bad encoding: byte {data[exc.start]:#04x} is neither UTF-8 nor "
                                 "Windows-1252", line) from None


# ---------------------------------------------------------------------------
# One file


def _kind_from_name(name: str) -> str:
    stem = Path(name).name.upper()
    for prefix, kind in (("LONG", "long"), ("MED", "medium"), ("SHORT", "short")):
        if stem.startswith(prefix):
            return kind
    return "long"


def _header_columns(line: str) -> tuple[str, dict[str, int]] | None:
    """(delimiter, field -> column index) when `line` is a header row naming a code column."""
    for delimiter in ("\t", "|", ","):
        if delimiter not in line:
            continue
        names = [re.sub(r"[^a-z]", "", n.lower()) for n in next(csv.reader([line], delimiter=delimiter))]
        found = {COLUMNS[n]: i for i, n in reversed(list(enumerate(names))) if n in COLUMNS}
        if "code" in found and any(k in found for k in _DESCRIPTORS):
            return delimiter, found
    return None


def _check_code(label: str, number: int, code: str) -> str:
    code = code.strip().upper()
    if not CODE_RE.fullmatch(code):
        raise SourceError(label, f"not a CPT code: {code!r} (4 digits and a digit, F, T, U, A or M)", number)
    return normalize(SYSTEM, code)


def _read_plain(label: str, lines: list[str], start: int, kind: str, out: _Collected) -> None:
    for number, line in enumerate(lines[start:], start + 1):
        if not line.strip():
            continue
        m = _PLAIN_RE.fullmatch(line.rstrip())
        if not m or not m.group("text").strip():
            raise SourceError(label, "expected a CPT code, a tab or space, and a descriptor", number)
        out.put(_check_code(label, number, m.group("code")), kind, m.group("text").strip())


def _read_delimited(label: str, text: str, start: int, delimiter: str, columns: dict[str, int],
                    out: _Collected) -> None:
    body = io.StringIO(text, newline="")
    for _ in range(start + 1):  # the preamble and the header row
        body.readline()
    # The AMA tab files hold bare inch marks ("); only real CSV uses quoting.
    if delimiter == "\t":
        reader = csv.reader(body, delimiter=delimiter, quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(body, delimiter=delimiter)
    width = max(columns.values()) + 1
    for row in reader:
        number = start + 1 + reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < width:
            raise SourceError(label, f"row has {len(row)} columns, the header names {width}", number)
        code = _check_code(label, number, row[columns["code"]])
        for kind in _DESCRIPTORS:
            if kind in columns:
                out.put(code, kind, " ".join(row[columns[kind]].split()))
        if "concept_id" in columns and row[columns["concept_id"]].strip():
            out.entry(code).concept_id = row[columns["concept_id"]].strip()


def read_file(label: str, name: str, data: bytes, out: _Collected, required: bool = True) -> bool:
    """Parse one descriptor file (plain or delimited) into `out`.

    A file that is neither raises SourceError, or returns False when it is not
    `required` (other CSV files in a CPT Link zip).
    """
    text = decode(label, data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise SourceError(label, "empty file")
    for index, line in enumerate(lines[:MAX_HEADER_LINES]):
        if not line.strip():
            continue
        if header := _header_columns(line):
            out.preamble.extend(lines[:index])
            try:
                _read_delimited(label, text, index, header[0], header[1], out)
            except csv.Error as exc:
                raise SourceError(label, f"unreadable delimited file: {exc}") from None
            return True
        m = _PLAIN_RE.fullmatch(line.rstrip())
        if m and CODE_RE.fullmatch(m.group("code")):
            out.preamble.extend(lines[:index])
            _read_plain(label, lines, index, _kind_from_name(name), out)
            return True
    if not required:
        return False
    raise SourceError(label, f"no CPT codes or descriptor header in the first {MAX_HEADER_LINES} lines: "
                             "not an AMA CPT data file")


# ---------------------------------------------------------------------------
# The file or zip the user gave


def _inputs(path: Path) -> Iterator[tuple[str, str, bytes, bool]]:
    """(label for errors, file name, bytes, required) for each candidate descriptor file in `path`."""
    if not path.is_file():
        raise SourceError(path, "no such file")
    if not zipfile.is_zipfile(path):
        yield str(path), path.name, path.read_bytes(), True
        return
    try:
        with zipfile.ZipFile(path) as zf:
            members = sorted(n for n in zf.namelist() if _MEMBER_RE.search(n) or _CSV_RE.search(n))
            for member in members:
                yield f"{path}!{member}", member, zf.read(member), bool(_MEMBER_RE.search(member))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(path, f"damaged zip: {exc}") from None


def release_of(names: list[str], preamble: list[str]) -> Release:
    """CPT is released yearly, effective January 1: the year comes from a file name or the notice."""
    for name in names:
        if m := re.search(r"(?<![0-9])(20[0-9]{2})(?![0-9])", Path(name).name):
            return Release(SYSTEM, f"CPT {m.group(1)}", f"{m.group(1)}-01-01")
    for line in preamble:
        if m := re.search(r"\bCPT\W{0,3}(20[0-9]{2})\b", line):
            return Release(SYSTEM, f"CPT {m.group(1)}", f"{m.group(1)}-01-01")
    return Release(SYSTEM, "CPT (AMA data files, year not stated)", None)


def _code(code: str, e: _Entry, is_code_list: bool) -> Code:
    category, code_type = category_of(code)
    attrs: dict[str, Any] = {"category": category} if category else {}
    if code_type:
        attrs["code_type"] = code_type
    if e.medium:
        attrs["medium_descriptor"] = e.medium
    if e.consumer:
        attrs["consumer_descriptor"] = e.consumer
    if e.concept_id:
        attrs["concept_id"] = e.concept_id
    synonyms = tuple(s for s in [e.consumer, *e.clinician] if s and s != e.long)
    return Code(SYSTEM, code, e.long or "", kind="code", billable=True if is_code_list else None,
                short_title=e.short, synonyms=synonyms, attributes=attrs)


def read(path: Path) -> Iterator[Record]:
    """Yield the CPT Release, then one Code per code with every descriptor the file(s) give."""
    path = Path(path)
    out = _Collected()
    names = []
    for label, name, data, required in _inputs(path):
        if read_file(label, name, data, out, required):
            names.append(name)
    if not names:
        raise SourceError(path, "zip holds no CPT descriptor file (LONGULT.txt, MEDU.txt, SHORTU.txt, "
                                "ConsumerDescriptor.txt, ClinicianDescriptor.txt or a .csv with a CPT Code column)")
    yield release_of([*names, path.name], out.preamble)
    is_code_list = "long" in out.kinds
    for code in sorted(out.entries):
        yield _code(code, out.entries[code], is_code_list)
