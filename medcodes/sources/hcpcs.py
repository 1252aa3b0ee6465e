"""CMS HCPCS Level II: the quarterly alpha-numeric file (ANWEB), codes and modifiers.

Reads the 320-character fixed-width "ANWEB" text file, either straight from
the official CMS zip (member `HCPC*ANWEB*.txt`) or as the extracted .txt.
The layout is CMS's own record layout (`HCPC2025_recordlayout.txt`, in the
2025 zip); the column numbers below are copied from it, 1-based inclusive.

- RIC 3 / 4: first line / continuation lines of a procedure (code) record
- RIC 7 / 8: first line / continuation lines of a modifier record
  Continuation lines carry only more long-description text (columns 12-91).

The file lists codes CMS has terminated too (with their termination date),
so `billable` here means "valid for submission on the release's effective
date": not terminated before it. It says nothing about Medicare coverage or
payment; that is the coverage code (`coverage`) and the pricing indicators.

Processing notes (`proc_notes*.txt`, in the zip or beside the .txt) map the
4-digit note number of column 253-256 to text; they become Notes.

The action code (column 293) and its effective date are the release's
official changes (issue 7): A (add) and R (re-activate) yield a `Change`
"added", D (discontinue) "deleted", C and B (long description) and S
(short description) "revised", each after its code. The file does not
give the text a C replaced: the index builder takes it from an earlier
loaded release. N, F, P and T touch no title and stay attributes only.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from ..errors import SourceError
from ..files import decoded_lines
from ..model import Change, Code, Note, Record, Release
from ..systems import normalize

SYSTEM = "hcpcs"
MOD_SYSTEM = "hcpcs-mod"

# The record layout counts 320 columns, but 294-320 are filler: a line that
# ends after the action code (column 293) holds every field.
RECORD_WIDTH = 320
MIN_FIRST_LINE = 293
# A header (the 2020 file opens with a disclaimer) may precede the records.
MAX_HEADER_LINES = 50

_MEMBER_RE = re.compile(r"(?:^|/)HCPC[^/]*ANWEB[^/]*\.txt$", re.IGNORECASE)
_NOTES_RE = re.compile(r"(?:^|/)proc_notes[^/]*\.txt$", re.IGNORECASE)
# Columns 1-11: code (or 3 blanks + modifier), sequence number, record id.
_PREFIX_RE = re.compile(r"(?:[A-Z][0-9]{4}|   [0-9A-Z]{2})[0-9]{5}[3478]")
_NOTE_START_RE = re.compile(r"^\s*([0-9]{4})--(.*)$")

_MONTHS = {"JAN": (1, "January", 1), "APR": (4, "April", 2), "JUL": (7, "July", 3), "OCT": (10, "October", 4)}
_MONTH_RE = re.compile(r"(?<![A-Z])(JAN|APR|JUL|OCT)(?:UARY|IL|Y|OBER)?(?![A-Z])", re.IGNORECASE)


# ---------------------------------------------------------------------------
# Code tables from the record layout (labels lightly cleaned of typos)

PRICING = {
    "00": "Service not separately priced by Part B (e.g. services not covered, bundled, used by Part A only)",
    "11": "Price established using national RVUs",
    "12": "Price established using national anesthesia base units",
    "13": "Price established by carriers (e.g. not otherwise classified, individual determination, "
          "carrier discretion)",
    "21": "Clinical lab fee schedule: price subject to national limitation amount",
    "22": "Clinical lab fee schedule: price established by carriers (e.g. gap-fills, carrier established panels)",
    "31": "DMEPOS: frequently serviced DME (price subject to floors and ceilings)",
    "32": "DMEPOS: inexpensive and routinely purchased DME (price subject to floors and ceilings)",
    "33": "DMEPOS: oxygen and oxygen equipment (price subject to floors and ceilings)",
    "34": "DMEPOS: DME supplies (price subject to floors and ceilings)",
    "35": "DMEPOS: surgical dressings (price subject to floors and ceilings)",
    "36": "DMEPOS: capped rental DME (price subject to floors and ceilings)",
    "37": "DMEPOS: ostomy, tracheostomy and urological supplies (price subject to floors and ceilings)",
    "38": "DMEPOS: orthotics, prosthetics, prosthetic devices and vision services "
          "(price subject to floors and ceilings)",
    "39": "DMEPOS: parenteral and enteral nutrition",
    "40": "DMEPOS: lymphedema compression treatment items",
    "45": "DMEPOS: customized DME items",
    "46": "DMEPOS: carrier priced (e.g. not otherwise classified, individual determination, carrier discretion, "
          "gap-filled amounts)",
    "51": "Drugs",
    "52": "Reasonable charge",
    "53": "Statute",
    "54": "Vaccinations",
    "55": "Splints and casts",
    "56": "IOLs inserted in a physician's office",
    "57": "Other carrier priced",
    "99": "Value not established",
}

MULTIPLE_PRICING = {
    "9": "Not applicable: not priced separately by Part B (pricing indicator 00) or value not established (99)",
    "A": "Not applicable: priced under one methodology",
    "B": "Professional component priced using RVUs; technical component and global service priced by carriers",
    "C": "Physician interpretation of clinical lab service priced under the physician fee schedule using RVUs; "
         "lab service paid under the clinical lab fee schedule",
    "D": "Physician service priced under the physician fee schedule; clinical psychologist service under the "
         "clinical psychologist fee schedule (not applicable as of 1998-01-01)",
    "E": "Physician, clinical psychologist and clinical social worker services each priced under their own "
         "fee schedule (not applicable as of 1998-01-01)",
    "F": "Physician service priced by carriers; clinical psychologist and clinical social worker services "
         "under their own fee schedules (not applicable as of 1998-01-01)",
    "G": "Clinical lab service priced under reasonable charge when submitted with blood products, otherwise "
         "under the clinical lab fee schedule",
}

LAB_CERTIFICATION = {
    "010": "Histocompatibility testing",
    "100": "Microbiology", "110": "Bacteriology", "115": "Mycobacteriology", "120": "Mycology",
    "130": "Parasitology", "140": "Virology", "150": "Other microbiology",
    "200": "Diagnostic immunology", "210": "Syphilis serology", "220": "General immunology",
    "300": "Chemistry", "310": "Routine chemistry", "320": "Urinalysis", "330": "Endocrinology",
    "340": "Toxicology", "350": "Other chemistry",
    "400": "Hematology",
    "500": "Immunohematology", "510": "ABO group and Rh type", "520": "Antibody detection (transfusion)",
    "530": "Antibody detection (nontransfusion)", "540": "Antibody identification",
    "550": "Compatibility testing", "560": "Other immunohematology",
    "600": "Pathology", "610": "Histopathology", "620": "Oral pathology", "630": "Cytology",
    "800": "Radiobioassay",
    "900": "Clinical cytogenetics",
}

COVERAGE = {
    "C": "Carrier judgment",
    "D": "Special coverage instructions apply",
    "I": "Not payable by Medicare",
    "M": "Non-covered by Medicare",
    "S": "Non-covered by Medicare statute",
}

MOG_PAYMENT_POLICY = {
    "1": "ASC covered procedure",
    "2": "Bundled service/no separate payment",
    "3": "Excluded from ASC list",
    "4": "Invalid code/90 day grace period",
    "6": "Separate payment when furnished in an ASC",
    "7": "ASC restricted coverage procedure",
    "9": "ASC payment not applicable",
}

ACTION = {
    "A": "Add procedure or modifier code",
    "B": "Change in both administrative data field and long description",
    "C": "Change in long description",
    "D": "Discontinue procedure or modifier code",
    "F": "Change in administrative data field",
    "N": "No maintenance for this code",
    "P": "Payment change (MOG, pricing indicator codes, anesthesia base units, ASC)",
    "R": "Re-activate discontinued/deleted procedure or modifier code",
    "S": "Change in short description",
    "T": "Miscellaneous change (BETOS, type of service)",
}

# Action codes that change what a code's history records, and how.
ACTION_CHANGES = {"A": "added", "R": "added", "B": "revised", "C": "revised", "S": "revised", "D": "deleted"}
ACTION_SOURCE = "hcpcs action code"

TYPE_OF_SERVICE = {
    "0": "Whole blood only (whole blood or packed red cells before 01/96)",
    "1": "Medical care", "2": "Surgery", "3": "Consultation", "4": "Diagnostic radiology",
    "5": "Diagnostic laboratory", "6": "Therapeutic radiology", "7": "Anesthesia", "8": "Assistant at surgery",
    "9": "Other medical items or services",
    "A": "Used durable medical equipment (DME)",
    "B": "High risk screening mammography (obsolete 1/1/98)",
    "C": "Low risk screening mammography (obsolete 1/1/98)",
    "D": "Ambulance", "E": "Enteral/parenteral nutrients/supplies",
    "F": "Ambulatory surgical center (facility usage for surgical services)",
    "G": "Immunosuppressive drugs", "H": "Hospice services (discontinued 01/95)",
    "I": "Purchase of DME (installment basis) (discontinued 04/95)", "J": "Diabetic shoes",
    "K": "Hearing items and services", "L": "ESRD supplies", "M": "Monthly capitation payment for dialysis",
    "N": "Kidney donor", "P": "Lump sum purchase of DME, prosthetics, orthotics", "Q": "Vision items or services",
    "R": "Rental of DME", "S": "Surgical dressings or other medical supplies",
    "T": "Outpatient mental health limitation (psychological therapy before 1998)",
    "U": "Occupational therapy", "V": "Pneumococcal/flu vaccine", "W": "Physical therapy",
    "Y": "Second opinion on elective surgery (obsolete 1/97)", "Z": "Third opinion on elective surgery (obsolete 1/97)",
}

BETOS = {
    "D1A": "Medical/surgical supplies", "D1B": "Hospital beds", "D1C": "Oxygen and supplies", "D1D": "Wheelchairs",
    "D1E": "Other DME", "D1F": "Prosthetic/Orthotic devices", "D1G": "Drugs Administered through DME",
    "I1A": "Standard imaging - chest", "I1B": "Standard imaging - musculoskeletal",
    "I1C": "Standard imaging - breast", "I1D": "Standard imaging - contrast gastrointestinal",
    "I1E": "Standard imaging - nuclear medicine", "I1F": "Standard imaging - other",
    "I2A": "Advanced imaging - CAT/CT/CTA: brain/head/neck", "I2B": "Advanced imaging - CAT/CT/CTA: other",
    "I2C": "Advanced imaging - MRI/MRA: brain/head/neck", "I2D": "Advanced imaging - MRI/MRA: other",
    "I3A": "Echography/ultrasonography - eye", "I3B": "Echography/ultrasonography - abdomen/pelvis",
    "I3C": "Echography/ultrasonography - heart", "I3D": "Echography/ultrasonography - carotid arteries",
    "I3E": "Echography/ultrasonography - prostate, transrectal", "I3F": "Echography/ultrasonography - other",
    "I4A": "Imaging/procedure - heart including cardiac catheterization", "I4B": "Imaging/procedure - other",
    "M1A": "Office visits - new", "M1B": "Office visits - established", "M2A": "Hospital visit - initial",
    "M2B": "Hospital visit - subsequent", "M2C": "Hospital visit - critical care", "M3": "Emergency room visit",
    "M4A": "Home visit", "M4B": "Nursing home visit", "M5A": "Specialist - pathology",
    "M5B": "Specialist - psychiatry", "M5C": "Specialist - ophthalmology", "M5D": "Specialist - other",
    "M6": "Consultations",
    "O1A": "Ambulance", "O1B": "Chiropractic", "O1C": "Enteral and parenteral", "O1D": "Chemotherapy",
    "O1E": "Other drugs", "O1F": "Hearing and speech services", "O1G": "Immunizations/Vaccinations",
    # The layout prints "01L" (digit zero); the data uses the letter O like its neighbours.
    "O1L": "Lymphedema Compression Treatment Items",
    "P0": "Anesthesia",
    "P1A": "Major procedure - breast", "P1B": "Major procedure - colectomy", "P1C": "Major procedure - cholecystectomy",
    "P1D": "Major procedure - TURP", "P1E": "Major procedure - hysterectomy",
    "P1F": "Major procedure - explor/decompr/excisdisc", "P1G": "Major procedure - other",
    "P2A": "Major procedure, cardiovascular - CABG", "P2B": "Major procedure, cardiovascular - Aneurysm repair",
    "P2C": "Major procedure, cardiovascular - Thromboendarterectomy",
    "P2D": "Major procedure, cardiovascular - Coronary angioplasty (PTCA)",
    "P2E": "Major procedure, cardiovascular - Pacemaker insertion", "P2F": "Major procedure, cardiovascular - Other",
    "P3A": "Major procedure, orthopedic - Hip fracture repair", "P3B": "Major procedure, orthopedic - Hip replacement",
    "P3C": "Major procedure, orthopedic - Knee replacement", "P3D": "Major procedure, orthopedic - other",
    "P4A": "Eye procedure - corneal transplant", "P4B": "Eye procedure - cataract removal/lens insertion",
    "P4C": "Eye procedure - retinal detachment", "P4D": "Eye procedure - treatment of retinal lesions",
    "P4E": "Eye procedure - other",
    "P5A": "Ambulatory procedures - skin", "P5B": "Ambulatory procedures - musculoskeletal",
    "P5C": "Ambulatory procedures - inguinal hernia repair", "P5D": "Ambulatory procedures - lithotripsy",
    "P5E": "Ambulatory procedures - other",
    "P6A": "Minor procedures - skin", "P6B": "Minor procedures - musculoskeletal",
    "P6C": "Minor procedures - other (Medicare fee schedule)",
    "P6D": "Minor procedures - other (Non-Medicare fee schedule)",
    "P7A": "Oncology - radiation therapy", "P7B": "Oncology - other",
    "P8A": "Endoscopy - arthroscopy", "P8B": "Endoscopy - upper gastrointestinal", "P8C": "Endoscopy - sigmoidoscopy",
    "P8D": "Endoscopy - colonoscopy", "P8E": "Endoscopy - cystoscopy", "P8F": "Endoscopy - bronchoscopy",
    "P8G": "Endoscopy - laparoscopic cholecystectomy", "P8H": "Endoscopy - laryngoscopy", "P8I": "Endoscopy - other",
    "P9A": "Dialysis services (Medicare fee schedule)", "P9B": "Dialysis services (Non-Medicare fee schedule)",
    "T1A": "Lab tests - routine venipuncture (Non-Medicare fee schedule)",
    "T1B": "Lab tests - automated general profiles", "T1C": "Lab tests - urinalysis", "T1D": "Lab tests - blood counts",
    "T1E": "Lab tests - glucose", "T1F": "Lab tests - bacterial cultures",
    "T1G": "Lab tests - other (Medicare fee schedule)", "T1H": "Lab tests - other (Non-Medicare fee schedule)",
    "T2A": "Other tests - electrocardiograms", "T2B": "Other tests - cardiovascular stress tests",
    "T2C": "Other tests - EKG monitoring", "T2D": "Other tests - other",
    "Y1": "Other - Medicare fee schedule", "Y2": "Other - Non-Medicare fee schedule",
    "Z1": "Local codes", "Z2": "Undefined codes",
}

# HCPCS Level II sections: (first code, last code, title). Bounds are fixed
# ranges, not the first/last code of one release, so a section keeps its id
# (e.g. "A0021-A0999") from release to release.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("A0021", "A0999", "Transportation Services Including Ambulance"),
    ("A2001", "A2999", "Matrix for Wound Management (Placental, Equine, Synthetic)"),
    ("A4000", "A8999", "Medical and Surgical Supplies"),
    ("A9000", "A9999", "Administrative, Miscellaneous and Investigational"),
    ("B4000", "B9999", "Enteral and Parenteral Therapy"),
    ("C1000", "C9999", "Outpatient PPS (Temporary Codes for the Hospital Outpatient Prospective Payment System)"),
    ("E0100", "E9999", "Durable Medical Equipment"),
    ("G0000", "G9999", "Procedures/Professional Services (Temporary)"),
    ("H0001", "H9999", "Alcohol and Drug Abuse Treatment Services"),
    ("J0100", "J8499", "Drugs Administered Other Than Oral Method"),
    ("J8500", "J9999", "Chemotherapy Drugs"),
    ("K0000", "K9999", "Temporary Codes (DME MACs)"),
    ("L0100", "L4999", "Orthotic Procedures and Services"),
    ("L5000", "L9999", "Prosthetic Procedures"),
    ("M0000", "M0999", "Medical Services"),
    ("M1000", "M9999", "Quality Measures"),
    ("P0000", "P9999", "Pathology and Laboratory Services"),
    ("Q0000", "Q9999", "Temporary Codes"),
    ("R0000", "R9999", "Diagnostic Radiology Services"),
    ("S0000", "S9999", "Temporary National Codes (Non-Medicare)"),
    ("T1000", "T9999", "National T Codes Established for State Medicaid Agencies"),
    ("U0000", "U9999", "Coronavirus Diagnostic Panel"),
    ("V2000", "V2999", "Vision Services"),
    ("V5000", "V5299", "Hearing Services"),
    ("V5300", "V5399", "Speech-Language Pathology Services"),
)


def section_of(code: str) -> tuple[str, str] | None:
    """(range id, title) of the HCPCS section holding `code`, or None if no section does.

    Codes are compared as strings: same letter, four digits, so string order is code order.
    """
    for first, last, title in SECTIONS:
        if first <= code <= last:
            return f"{first}-{last}", title
    return None


def embedded_sources() -> list[Path]:
    """The January 2025 file as the data layer carries it (no PyPI package ships the CMS file)."""
    from ..data import layer_files

    return layer_files(SYSTEM)


# ---------------------------------------------------------------------------
# Where the data is: a CMS zip or a bare .txt (with its notes beside it)


@dataclass(frozen=True)
class _Source:
    path: Path  # what the user gave
    member: str | None  # the ANWEB member when `path` is a zip
    notes_member: str | None = None  # proc_notes member in the zip
    notes_file: Path | None = None  # proc_notes file beside a bare .txt

    @property
    def label(self) -> str:
        """The name errors point at: the zip member reads as zip!member."""
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def file_name(self) -> str:
        return Path(self.member).name if self.member else self.path.name


def _locate(path: Path) -> _Source:
    if not path.is_file():
        raise SourceError(path, "no such file")
    if not zipfile.is_zipfile(path):
        notes = sorted(p for p in path.parent.iterdir() if _NOTES_RE.search(p.name) and p.is_file())
        # Only an unambiguous neighbour is used: two notes files could be from different years.
        return _Source(path, None, notes_file=notes[0] if len(notes) == 1 else None)
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(path, f"unreadable zip: {exc}") from None
    members = sorted(n for n in names if _MEMBER_RE.search(n))
    if not members:
        raise SourceError(path, "zip holds no HCPCS ANWEB file (HCPC*ANWEB*.txt): not a CMS HCPCS Level II zip")
    note_members = sorted(n for n in names if _NOTES_RE.search(n))
    return _Source(path, members[0], notes_member=note_members[0] if note_members else None)


@contextmanager
def _open(src: _Source, member: str | None, file: Path | None) -> Iterator[IO[bytes]]:
    """The member of the zip, or the plain file."""
    if member is None:
        assert file is not None
        with open(file, "rb") as f:
            yield f
        return
    with zipfile.ZipFile(src.path) as zf, zf.open(member) as f:
        yield f


def _read_lines(label: str, src: _Source, member: str | None, file: Path | None) -> Iterator[tuple[int, str]]:
    try:
        with _open(src, member, file) as stream:
            yield from decoded_lines(label, stream)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(label, f"damaged zip: {exc}") from None


def _lines(src: _Source) -> Iterator[tuple[int, str]]:
    return _read_lines(src.label, src, src.member, None if src.member else src.path)


# ---------------------------------------------------------------------------
# Records: a first line plus its continuation lines


@dataclass
class _Raw:
    number: int  # line number of the first line
    line: str  # the first line (RIC 3 or 7)
    more: list[str] = field(default_factory=list)  # long-description text of continuation lines

    @property
    def is_modifier(self) -> bool:
        return self.line[10] == "7"

    @property
    def key(self) -> str:
        return self.line[3:5] if self.is_modifier else self.line[0:5]


def _check_prefix(label: str, number: int, line: str) -> None:
    ric = line[10]
    if ric in "34" and not re.fullmatch(r"[A-Z][0-9]{4}", line[0:5]):
        raise SourceError(label, f"procedure record (id {ric}) with a code that is not a HCPCS code: "
                                 f"{line[0:5]!r}", number)
    if ric in "78" and line[0:3] != "   ":
        raise SourceError(label, f"modifier record (id {ric}) with a procedure code: {line[0:5]!r}", number)


def _raw_records(label: str, lines: Iterable[tuple[int, str]]) -> Iterator[_Raw]:
    current: _Raw | None = None
    started = False
    for number, line in lines:
        if not line.strip() or line.strip() == "\x1a":
            continue
        if not _PREFIX_RE.match(line):
            if started:
                raise SourceError(label, "not a HCPCS record: columns 1-11 must hold the code, a 5-digit "
                                         "sequence number and record id 3, 4, 7 or 8", number)
            if number > MAX_HEADER_LINES:
                break
            continue  # header text before the first record (the 2020 disclaimer)
        started = True
        _check_prefix(label, number, line)
        if line[10] in "37":
            if len(line) < MIN_FIRST_LINE:
                raise SourceError(label, f"truncated record: {len(line)} characters, the layout needs "
                                         f"{MIN_FIRST_LINE} (records are {RECORD_WIDTH} wide)", number)
            if current is not None:
                yield current
            current = _Raw(number, line)
            continue
        expected = "3" if line[10] == "4" else "7"
        if current is None or current.line[10] != expected or current.line[0:5] != line[0:5]:
            raise SourceError(label, f"continuation line for {line[0:5].strip()!r} without its first line", number)
        current.more.append(line[11:91].strip())
    if current is not None:
        yield current
    elif not started:
        raise SourceError(label, f"no HCPCS records in the first {MAX_HEADER_LINES} lines: not a CMS "
                                 "HCPCS ANWEB file (or an empty one)")


# ---------------------------------------------------------------------------
# Fields


def _col(line: str, first: int, last: int) -> str:
    """Columns first..last (1-based, inclusive, as in the record layout), stripped."""
    return line[first - 1:last].strip()


def _repeat(line: str, first: int, width: int, times: int) -> list[str]:
    """An OCCURS field: `times` slots of `width` columns from `first`; blank slots dropped."""
    values = (_col(line, first + i * width, first + (i + 1) * width - 1) for i in range(times))
    return [v for v in values if v]


def _date(label: str, number: int | None, name: str, raw: str) -> str | None:
    if not raw:
        return None
    try:
        if not raw.isdigit() or len(raw) != 8:
            raise ValueError
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:])).isoformat()
    except ValueError:
        raise SourceError(label, f"{name} is not a YYYYMMDD date: {raw!r}", number) from None


def _coded(attrs: dict[str, Any], name: str, value: str, table: dict[str, str]) -> None:
    if value:
        attrs[name] = value
        attrs[f"{name}_label"] = table.get(value)


def _coded_list(attrs: dict[str, Any], name: str, values: list[str], table: dict[str, str]) -> None:
    if values:
        attrs[name] = values
        attrs[f"{name}_labels"] = [table.get(v) for v in values]


def _attributes(label: str, raw: _Raw) -> dict[str, Any]:
    """Every layout field but the structural ones (sequence number, record id, filler)."""
    line, n = raw.line, raw.number
    attrs: dict[str, Any] = {}
    _coded_list(attrs, "pricing_indicators", _repeat(line, 120, 2, 4), PRICING)
    _coded(attrs, "multiple_pricing_indicator", _col(line, 128, 128), MULTIPLE_PRICING)
    if cim := _repeat(line, 129, 6, 3):
        attrs["coverage_issues_manual_refs"] = cim
    if mcm := _repeat(line, 147, 8, 3):
        attrs["carriers_manual_refs"] = mcm
    if statute := _col(line, 171, 180):
        attrs["statute"] = statute
    _coded_list(attrs, "lab_certifications", _repeat(line, 181, 3, 8), LAB_CERTIFICATION)
    if xrefs := _repeat(line, 205, 5, 5):
        attrs["cross_references"] = [normalize(SYSTEM, x) for x in xrefs]
    _coded(attrs, "coverage", _col(line, 230, 230), COVERAGE)
    if asc := _col(line, 231, 232):
        attrs["asc_payment_group"] = asc
    dates = {"asc_payment_group_effective": (233, 240), "mog_effective": (245, 252), "added": (269, 276),
             "action_effective": (277, 284), "terminated": (285, 292)}
    for name, (first, last) in dates.items():
        if value := _date(label, n, name, _col(line, first, last)):
            attrs[name] = value
    if mog := _col(line, 241, 243):
        attrs["mog_payment_group"] = mog
    _coded(attrs, "mog_payment_policy_indicator", _col(line, 244, 244), MOG_PAYMENT_POLICY)
    if note := _col(line, 253, 256):
        attrs["processing_note"] = note
    _coded(attrs, "betos", _col(line, 257, 259), BETOS)
    _coded_list(attrs, "types_of_service", _repeat(line, 261, 1, 5), TYPE_OF_SERVICE)
    if units := _col(line, 266, 268):
        if not units.isdigit():
            raise SourceError(label, f"anesthesia base units is not a number: {units!r}", n)
        attrs["anesthesia_base_units"] = int(units)
    _coded(attrs, "action_code", _col(line, 293, 293), ACTION)
    return attrs


def is_valid_on(attrs: dict[str, Any], effective: str | None) -> bool:
    """Whether a code may be submitted on `effective` (ISO date): not terminated before it.

    The termination date is the last day a code may be used; a discontinued
    (action D) code without one is taken as no longer valid.
    """
    terminated = attrs.get("terminated")
    if terminated is None:
        return attrs.get("action_code") != "D"
    return effective is None or terminated >= effective


def change_of(code: Code, release: str, effective: str | None) -> Change | None:
    """The official change a code's action code records in `release`, or None (N, F, P, T).

    It took effect on the action effective date; a discontinued code without
    one on the day after its termination date (the last day it was valid).
    """
    action = code.attributes.get("action_code")
    kind = ACTION_CHANGES.get(action or "")
    if kind is None:
        return None
    terminated = code.attributes.get("terminated")
    after = (date.fromisoformat(terminated) + timedelta(days=1)).isoformat() if terminated else None
    when = code.attributes.get("action_effective") or (after if kind == "deleted" else None) or effective
    old, new = (code.title, None) if kind == "deleted" else (None, code.title)
    return Change(code.system, code.code, release, kind, old, new, f"{ACTION_SOURCE} {action}", when)


def _long_title(raw: _Raw) -> str:
    # Continuation lines split the long description at column 91 on word boundaries.
    return " ".join(part for part in [_col(raw.line, 12, 91), *raw.more] if part)


def _code(label: str, raw: _Raw, effective: str | None, notes: dict[str, str]) -> Code:
    attrs = _attributes(label, raw)
    note_text = notes.get(attrs.get("processing_note", ""))
    found = (Note("note", f"Processing note {attrs['processing_note']}: {note_text}"),) if note_text else ()
    if raw.is_modifier:
        return Code(MOD_SYSTEM, normalize(MOD_SYSTEM, raw.key), _long_title(raw), kind="modifier",
                    billable=is_valid_on(attrs, effective), parent=None,
                    short_title=_col(raw.line, 92, 119) or None, notes=found, attributes=attrs)
    section = section_of(raw.key)
    return Code(SYSTEM, normalize(SYSTEM, raw.key), _long_title(raw), kind="code",
                billable=is_valid_on(attrs, effective), parent=section[0] if section else None,
                short_title=_col(raw.line, 92, 119) or None, notes=found, attributes=attrs)


# ---------------------------------------------------------------------------
# Processing notes


def parse_notes(lines: Iterable[tuple[int, str]]) -> dict[str, str]:
    """Note number ("0088") -> text, from the `proc_notes` file.

    Each note starts "NNNN--text" and continues on the following lines; the
    file frames its text with a right-hand column of asterisks.
    """
    notes: dict[str, list[str]] = {}
    current: list[str] | None = None
    for _number, line in lines:
        text = line.expandtabs().rstrip().rstrip("*").strip()
        if m := _NOTE_START_RE.match(text):
            current = notes.setdefault(m.group(1), [])
            text = m.group(2).strip()
        if current is not None and text:
            current.append(text)
    return {number: " ".join(" ".join(parts).split()) for number, parts in notes.items()}


def _notes(src: _Source) -> dict[str, str]:
    if src.notes_member is None and src.notes_file is None:
        return {}
    label = f"{src.path}!{src.notes_member}" if src.notes_member else str(src.notes_file)
    return parse_notes(_read_lines(label, src, src.notes_member, src.notes_file))


# ---------------------------------------------------------------------------
# Release


def release_from_names(*names: str) -> tuple[str, str] | None:
    """(name, ISO effective date) from file names such as HCPC2025_JAN_ANWEB_12172024.txt.

    The first name that carries a year wins; a month (JAN/APR/JUL/OCT) may come
    from a later name (the zip's), and the annual file with no month is the
    January release.
    """
    year = month = None
    for name in names:
        stem = Path(name).name
        m = re.search(r"HCPC(20[0-9]{2})", stem, re.IGNORECASE) or re.search(r"(?<![0-9])(20[0-9]{2})(?![0-9])",
                                                                                 stem)
        if year is None and m:
            year = m.group(1)
        if month is None and (mm := _MONTH_RE.search(stem)):
            month = mm.group(1).upper()
    if year is None:
        return None
    number, word, quarter = _MONTHS[month or "JAN"]
    return f"HCPCS Level II {year} {word} (Q{quarter})", f"{year}-{number:02d}-01"


def _release_from_data(src: _Source) -> tuple[str, str | None]:
    """Fallback for renamed files: the latest action effective date is the release date."""
    latest = max((r.line[276:284] for r in _raw_records(src.label, _lines(src)) if r.line[276:284].isdigit()),
                 default=None)
    if latest is None:
        return "HCPCS Level II (undated release)", None
    effective = _date(src.label, None, "action effective date", latest)
    for number, word, quarter in _MONTHS.values():
        if latest[4:8] == f"{number:02d}01":
            return f"HCPCS Level II {latest[:4]} {word} (Q{quarter})", effective
    return f"HCPCS Level II (effective {effective})", effective


# ---------------------------------------------------------------------------


def read(path: Path) -> Iterator[Record]:
    """Yield Releases for hcpcs and hcpcs-mod, then sections, codes and modifiers."""
    src = _locate(Path(path))
    names = [src.file_name, src.path.name] if src.member else [src.file_name]
    found = release_from_names(*names)
    name, effective = found if found else _release_from_data(src)
    notes = _notes(src)
    yield Release(SYSTEM, name, effective)
    yield Release(MOD_SYSTEM, name, effective)
    sections_done: set[str] = set()
    for raw in _raw_records(src.label, _lines(src)):
        code = _code(src.label, raw, effective, notes)
        if code.parent and code.parent not in sections_done:
            sections_done.add(code.parent)
            first, _, _last = code.parent.partition("-")
            section = section_of(first)
            assert section is not None
            yield Code(SYSTEM, code.parent, section[1], kind="section", billable=False)
        yield code
        if change := change_of(code, name, effective):
            yield change
