"""MS-DRG (system `msdrg`): CMS IPPS Final Rule Table 5.

Table 5 ("List of MS-DRGs, relative weighting factors, and geometric and arithmetic mean length
of stay") is published with each Final Rule as a tab-separated text file: one or two title lines
("TABLE 5. ... FY 2026 Final Rule"), a header row, then one DRG a row:

    MS-DRG | Post-Acute DRG | Special Pay DRG | MDC | TYPE | MS-DRG Title | Weights (before cap)
    | Weights (10% cap applied) | Geometric mean LOS | Arithmetic mean LOS

Columns are found by their header names (the FY2026 table has both weight columns, older tables
one). Each DRG becomes a code (billable: a DRG is what a claim groups to) under a node for its
major diagnostic category ("MDC 05", kind "mdc"; "MDC PRE" for the pre-MDC transplant and
tracheostomy DRGs); 998 and 999 (ungroupable, MDC "**") have no MDC. Attributes: mdc, mdc_title,
type (SURG/MED), weight (the weight used for payment: capped where the table caps it),
weight_uncapped, gmlos, amlos, post_acute, special_pay.

The grouper version follows the fiscal year: v43 is FY2026 (version = fiscal year - 1983).
The file is Windows-1252 (the title line holds a non-ASCII dash).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..files import package_file
from ..model import Code, Record, Release

SYSTEM = "msdrg"
_FY_RE = re.compile(r"FY\s*(20[0-9]{2})", re.IGNORECASE)

# Official MDC titles (MS-DRG Definitions Manual); "PRE" is the pre-MDC.
MDC_TITLES: dict[str, str] = {
    "PRE": "Pre-MDC",
    "01": "Diseases and Disorders of the Nervous System",
    "02": "Diseases and Disorders of the Eye",
    "03": "Diseases and Disorders of the Ear, Nose, Mouth and Throat",
    "04": "Diseases and Disorders of the Respiratory System",
    "05": "Diseases and Disorders of the Circulatory System",
    "06": "Diseases and Disorders of the Digestive System",
    "07": "Diseases and Disorders of the Hepatobiliary System and Pancreas",
    "08": "Diseases and Disorders of the Musculoskeletal System and Connective Tissue",
    "09": "Diseases and Disorders of the Skin, Subcutaneous Tissue and Breast",
    "10": "Endocrine, Nutritional and Metabolic Diseases and Disorders",
    "11": "Diseases and Disorders of the Kidney and Urinary Tract",
    "12": "Diseases and Disorders of the Male Reproductive System",
    "13": "Diseases and Disorders of the Female Reproductive System",
    "14": "Pregnancy, Childbirth and the Puerperium",
    "15": "Newborns and Other Neonates with Conditions Originating in the Perinatal Period",
    "16": "Diseases and Disorders of the Blood and Blood Forming Organs and Immunological Disorders",
    "17": "Myeloproliferative Diseases and Disorders and Poorly Differentiated Neoplasms",
    "18": "Infectious and Parasitic Diseases, Systemic or Unspecified Sites",
    "19": "Mental Diseases and Disorders",
    "20": "Alcohol/Drug Use and Alcohol/Drug Induced Organic Mental Disorders",
    "21": "Injuries, Poisonings and Toxic Effects of Drugs",
    "22": "Burns",
    "23": "Factors Influencing Health Status and Other Contacts with Health Services",
    "24": "Multiple Significant Trauma",
    "25": "Human Immunodeficiency Virus Infections",
}

# Header cell (lower case, letters only) -> field. Checked in order: the first key contained wins.
_HEADERS: tuple[tuple[str, str], ...] = (
    ("postacute", "post_acute"), ("specialpay", "special_pay"), ("title", "title"),
    ("beforecap", "weight_uncapped"), ("capapplied", "weight"), ("weight", "weight"),
    ("geometric", "gmlos"), ("arithmetic", "amlos"), ("mdc", "mdc"), ("type", "type"), ("msdrg", "drg"),
)


def embedded_sources() -> list[Path]:
    """Table 5 of the FY2026 Final Rule as the `drg` package ships it."""
    p = package_file("drg", "data", "cms", "drg_weights.txt")
    return [p] if p is not None else []


def grouper_version(fiscal_year: int) -> int:
    """MS-DRG v25 was FY2008; one version a year since."""
    return fiscal_year - 1983


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    try:
        text = path.read_bytes().decode("cp1252", errors="replace")
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None
    rows = [line.split("\t") for line in text.splitlines()]
    header_no, columns = _find_header(path, rows)
    fy_match = _FY_RE.search(" ".join(" ".join(r) for r in rows[:header_no]))
    fiscal_year = int(fy_match.group(1)) if fy_match else None
    name = (f"MS-DRG v{grouper_version(fiscal_year)} (FY{fiscal_year} Final Rule, Table 5)" if fiscal_year
            else "MS-DRG (Final Rule Table 5)")
    yield Release(SYSTEM, name, f"{fiscal_year - 1}-10-01" if fiscal_year else None)
    mdcs: set[str] = set()
    for no, row in enumerate(rows[header_no + 1:], header_no + 2):
        if not any(c.strip() for c in row):
            continue
        fields = _fields(path, no, row, columns)
        mdc = fields.get("mdc") or ""
        parent = f"MDC {mdc}" if mdc in MDC_TITLES else None
        if parent and parent not in mdcs:
            mdcs.add(parent)
            yield Code(SYSTEM, parent, MDC_TITLES[mdc], kind="mdc", attributes={"mdc": mdc})
        attributes = {k: v for k, v in fields.items() if k not in ("drg", "title") and v not in (None, "")}
        if parent:
            attributes["mdc_title"] = MDC_TITLES[mdc]
        yield Code(SYSTEM, fields["drg"], fields["title"], billable=True, parent=parent, attributes=attributes)


def _find_header(path: Path, rows: list[list[str]]) -> tuple[int, dict[str, int]]:
    for no, row in enumerate(rows[:20]):
        columns: dict[str, int] = {}
        for i, cell in enumerate(row):
            key = re.sub(r"[^a-z]", "", cell.lower())
            field = next((f for k, f in _HEADERS if k in key), None)
            if field and field not in columns:
                columns[field] = i
        if {"drg", "title"} <= columns.keys():
            return no, columns
    raise SourceError(path, "not an MS-DRG Table 5 file: no header row with 'MS-DRG' and 'MS-DRG Title'", 1)


def _fields(path: Path, no: int, row: list[str], columns: dict[str, int]) -> dict[str, Any]:
    def cell(name: str) -> str:
        i = columns.get(name)
        return row[i].strip().strip('"').strip() if i is not None and i < len(row) else ""

    drg = cell("drg")
    if not re.fullmatch(r"[0-9]{1,3}", drg) or not cell("title"):
        raise SourceError(path, f"not an MS-DRG row (3-digit DRG, title): {chr(9).join(row)[:60]!r}", no)
    out: dict[str, Any] = {"drg": drg.zfill(3), "title": cell("title")}
    mdc = cell("mdc").upper()
    out["mdc"] = mdc if mdc and mdc != "**" else None
    kind = cell("type").upper()
    out["type"] = kind if kind and kind != "**" else None
    for name in ("weight", "weight_uncapped", "gmlos", "amlos"):
        value = cell(name)
        if value in ("", "."):
            continue
        try:
            out[name] = float(value)
        except ValueError:
            raise SourceError(path, f"DRG {drg}: {name} {value!r} is not a number", no) from None
    for name in ("post_acute", "special_pay"):
        if cell(name):
            out[name] = cell(name).lower() == "yes"
    return out
