"""ICD-10-CM addenda: the CMS codes and order addenda, read as a release's changes (issue 7).

The fixtures are hand-made in the official layouts: an FY2026 that deletes
C50.019, turns code S06.1X7 into a header over a new S06.1X7A, adds
QA0.0101 (and its headers, in the order addenda) and revises E11.9.
"""

from __future__ import annotations

import gzip
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.model import Change, Release
from medcodes.sources import icd10cm

DATA = Path(__file__).resolve().parents[1] / "data" / "icd10cm"
CODES_ADDENDA = DATA / "icd10cm_codes_addenda_2026.txt"
ORDER_ADDENDA = DATA / "icd10cm_order_addenda_2026.txt"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FY2025_ZIP = "cms_icd10cm_fy2025_code_descriptions/2025-code-descriptions-tabular-order.zip"

FY2026 = Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01")
S06_1X7 = ("Traumatic cerebral edema with loss of consciousness of any duration with death due to brain injury "
           "prior to regaining consciousness")


def change(code: str, kind: str, old: str | None, new: str | None) -> Change:
    return Change("icd10cm", code, FY2026.name, kind, old, new, "addenda", FY2026.effective)


EXPECTED = [
    change("C50.019", "deleted", "Malignant neoplasm of nipple and areola, unspecified female breast", None),
    change("E11.9", "revised", "Type 2 diabetes mellitus without complication",
           "Type 2 diabetes mellitus without complications"),
    change("QA0.0101", "added", None, "SCN2A-related neurodevelopmental disorder"),
    change("S06.1X7", "deleted", S06_1X7, None),
    change("S06.1X7A", "added", None, S06_1X7 + ", initial encounter"),
]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def edited(path: Path, old: bytes, new: bytes) -> bytes:
    data = path.read_bytes()
    assert old in data
    return data.replace(old, new, 1)


def line_of(data: bytes, marker: bytes) -> int:
    return data[: data.index(marker)].count(b"\n") + 1


# --- reading -----------------------------------------------------------------


def test_codes_addenda_alone_is_the_release_and_its_changes() -> None:
    assert list(icd10cm.read(CODES_ADDENDA)) == [FY2026, *EXPECTED]


def test_order_addenda_gives_the_same_changes_of_valid_codes() -> None:
    # its header lines (QA0 ... QA0010 added, S06.1X7 added back as a header) are checked, then dropped
    assert list(icd10cm.read(ORDER_ADDENDA)) == [FY2026, *EXPECTED]


def test_gzipped_addenda_and_lf_line_ends(tmp_path: Path) -> None:
    path = write(tmp_path, "icd10cm_codes_addenda_2026.txt.gz",
                 gzip.compress(CODES_ADDENDA.read_bytes().replace(b"\r\n", b"\n"), mtime=0))
    assert list(icd10cm.read(path)) == [FY2026, *EXPECTED]


def test_a_list_without_its_summary_is_read(tmp_path: Path) -> None:
    data = CODES_ADDENDA.read_bytes()
    path = write(tmp_path, "icd10cm_codes_addenda_2026.txt", data[: data.index(b"\r\nCodes")])
    assert list(icd10cm.read(path)) == [FY2026, *EXPECTED]


def test_zip_of_addenda_only_gives_the_changes(tmp_path: Path) -> None:
    path = tmp_path / "2026-addenda.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(ORDER_ADDENDA, "icd10cm_order_addenda_2026.txt")
        zf.writestr("icd10cm_addenda_2026.pdf", b"%PDF-1.4")
    assert list(icd10cm.read(path)) == [FY2026, *EXPECTED]


# --- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(("source", "old", "new", "marker", "message"), [
    (CODES_ADDENDA, b"Add:         QA00101 ", b"Add:QA00101 ", b"Add:QA00101", "not an addenda line"),
    (CODES_ADDENDA, b"Add:         QA00101 ", b"Add:         QA00101\r\n", b"Add:         QA00101",
     "not an addenda line"),  # a code without its title
    (CODES_ADDENDA, b"Add:         QA00101 ", b"Add:         Q-00101 ", b"Q-00101", "not an addenda line"),
    (CODES_ADDENDA, b"Add:         QA00101 ", b"Added:       QA00101 ", b"Added:", "not an addenda line"),
    (CODES_ADDENDA, b"Revise to:   E119    ", b"Add:         E119    ", b"Revise from:",
     "'Revise from' for E11.9 without its 'Revise to'"),
    (CODES_ADDENDA, b"Revise from: E119    ", b"Add:         E118    ", b"Revise to:",
     "'Revise to' for E11.9 without its 'Revise from'"),
    (CODES_ADDENDA, b"      2 additions", b"      3 additions", b"      3 additions",
     "the summary counts 3 codes added but the file lists 2"),
    (CODES_ADDENDA, b"     21 codes in", b"     21 codes, see", b"     21 codes, see", "not an addenda line"),
    (ORDER_ADDENDA, b"disorder                    SCN2A-related neurodevelopmental disorder", b"disorder",
     b"Add:         1 QA00101", "short title \\(60 columns\\)"),  # the long title is missing
    (ORDER_ADDENDA, b"      5 additions", b"      4 additions", b"      4 additions",
     "the summary counts 4 headers added but the file lists 5"),
])
def test_bad_lines_name_the_file_and_line(tmp_path: Path, source: Path, old: bytes, new: bytes, marker: bytes,
                                          message: str) -> None:
    data = edited(source, old, new)
    path = write(tmp_path, source.name, data)
    with pytest.raises(SourceError, match=message) as exc:
        list(icd10cm.read(path))
    assert exc.value.path == str(path) and exc.value.line == line_of(data, marker)


def test_revise_from_on_the_last_line(tmp_path: Path) -> None:
    data = b"Add:         E119    Type 2\r\nRevise from: E119    X\r\n"
    path = write(tmp_path, "icd10cm_codes_addenda_2026.txt", data)
    with pytest.raises(SourceError, match="without its 'Revise to'") as exc:
        list(icd10cm.read(path))
    assert exc.value.line == 2


def test_bad_encoding_in_addenda(tmp_path: Path) -> None:
    path = write(tmp_path, "icd10cm_codes_addenda_2026.txt", b"Add:         E119    Type 2\r\nAdd: \x00\r\n")
    with pytest.raises(SourceError, match="NUL bytes") as exc:
        list(icd10cm.read(path))
    assert exc.value.line == 2


def test_bad_addenda_in_a_zip_names_the_member(tmp_path: Path) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("icd10cm_codes_addenda_2026.txt", "Add:         E119    Type 2\r\nDelete:\r\n")
    with pytest.raises(SourceError, match="not an addenda line") as exc:
        list(icd10cm.read(path))
    assert exc.value.path.endswith("icd10cm_codes_addenda_2026.txt") and exc.value.line == 2


# --- real data -------------------------------------------------------------------


def real(name: str) -> Path:
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def action_lines(zip_path: Path, member: str) -> Counter[str]:
    """Add/Delete/Revise lines of an addenda member, counted without the importer."""
    with zipfile.ZipFile(zip_path) as zf:
        text = zf.read(member).decode("ascii")
    return Counter(line.split(":")[0] for line in text.splitlines()
                   if line.startswith(("Add:", "Delete:", "Revise from:")))


@pytest.mark.realdata
def test_real_fy2025_zip_addenda_are_its_changes() -> None:
    path = real(FY2025_ZIP)
    lines = action_lines(path, "icd10cm_codes_addenda_2025.txt")
    assert lines == {"Add": 252, "Delete": 36, "Revise from": 13}
    changes = [r for r in icd10cm.read(path) if isinstance(r, Change)]
    assert Counter(c.change for c in changes) == {"added": lines["Add"], "deleted": lines["Delete"],
                                                   "revised": lines["Revise from"]}
    assert {(c.release, c.effective, c.source) for c in changes} == {("ICD-10-CM FY2025", "2024-10-01", "addenda")}
    first = changes[0]
    assert (first.code, first.change, first.old_title, first.new_title) == (
        "A77.41", "revised", "Ehrlichiosis chafeensis [E. chafeensis]", "Ehrlichiosis chaffeensis [E. chaffeensis]")


@pytest.mark.realdata
def test_real_fy2025_order_addenda_says_the_same_for_codes(tmp_path: Path) -> None:
    path = real(FY2025_ZIP)
    with zipfile.ZipFile(path) as zf:
        for member in ("icd10cm_codes_addenda_2025.txt", "icd10cm_order_addenda_2025.txt"):
            write(tmp_path, member, zf.read(member))
    by_codes = list(icd10cm.read(tmp_path / "icd10cm_codes_addenda_2025.txt"))
    by_order = list(icd10cm.read(tmp_path / "icd10cm_order_addenda_2025.txt"))
    assert by_codes == by_order and len(by_codes) == 1 + 252 + 36 + 13
