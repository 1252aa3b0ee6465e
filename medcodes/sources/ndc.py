"""National Drug Codes (system `ndc`): the FDA NDC Directory, and the CMS NDC-HCPCS crosswalk.

The FDA NDC Directory (`ndctext.zip`, public domain) holds two tab-delimited files with a header row:

- product.txt: PRODUCTID, PRODUCTNDC, PRODUCTTYPENAME, PROPRIETARYNAME, PROPRIETARYNAMESUFFIX,
  NONPROPRIETARYNAME, DOSAGEFORMNAME, ROUTENAME, STARTMARKETINGDATE, ENDMARKETINGDATE,
  MARKETINGCATEGORYNAME, APPLICATIONNUMBER, LABELERNAME, SUBSTANCENAME, ACTIVE_NUMERATOR_STRENGTH,
  ACTIVE_INGRED_UNIT, PHARM_CLASSES, DEASCHEDULE, NDC_EXCLUDE_FLAG, LISTING_RECORD_CERTIFIED_THROUGH
- package.txt: PRODUCTID, PRODUCTNDC, NDCPACKAGECODE, PACKAGEDESCRIPTION, STARTMARKETINGDATE,
  ENDMARKETINGDATE, NDC_EXCLUDE_FLAG, SAMPLE_PACKAGE

Codes: each package NDC, in the 11-digit 5-4-2 form claims use ("00002-1433-80"; the FDA's 10-digit
form is an attribute and a synonym), under its product NDC ("0002-1433"), under its labeler ("0002").
The zip, or either file on its own, is read; columns are found by name.

The CMS ASP NDC-HCPCS crosswalk (a CSV with a few lines of notes, then a header row `_2026_CODE,
Short Description, LABELER NAME, NDC2, Drug Name, HCPCS dosage, PKG SIZE, PKG QTY, BILLUNITS,
BILLUNITSPKG`; or the quarter's zip that holds it) yields one relation per row: the package NDC (NDC2,
11-digit 5-4-2) to the HCPCS Level II drug code it bills under, with the billing units per package.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..files import csv_rows
from ..model import Code, Record, Relation, Release
from ..systems import ndc_canonical, ndc_eleven
from .zipped import members

SYSTEM = "ndc"
_PRODUCT = re.compile(r"([0-9]{4,5})-([0-9]{3,4})")
_HCPCS = re.compile(r"[A-V][0-9]{4}")
_CROSSWALK_HEAD = re.compile(r"_?([0-9]{4})_CODE", re.IGNORECASE)
_DATED = re.compile(r"(20[0-9]{2})[-_]?([01][0-9])[-_]?([0-3][0-9])")


eleven = ndc_eleven  # the FDA's 10-digit form -> the 11-digit 5-4-2 code
dotted = ndc_canonical  # what a user typed -> the 11-digit 5-4-2 code


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    if path.suffix.lower() == ".zip":
        yield from _read_zip(path)
        return
    text = _text(path, path.read_bytes() if path.is_file() else b"")
    first = text.split("\n", 1)[0]
    if "PRODUCTNDC" in first and "NDCPACKAGECODE" in first:
        yield Release(SYSTEM, _release_name(path))
        yield from _packages(path, text, {})
    elif "PRODUCTNDC" in first:
        yield Release(SYSTEM, _release_name(path))
        yield from _products(path, text)[0]
    else:
        yield from _crosswalk(path, text)


def _text(path: Path, data: bytes) -> str:
    if not data:
        raise SourceError(path, "empty or unreadable file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # older directory files and the CMS CSVs


def _release_name(path: Path) -> str:
    m = _DATED.search(path.name)
    return f"FDA NDC Directory {m.group(1)}-{m.group(2)}-{m.group(3)}" if m else "FDA NDC Directory"


def _read_zip(path: Path) -> Iterator[Record]:
    found = dict(members(path, lambda m: m.lower().rsplit("/", 1)[-1] in ("product.txt", "package.txt")
                         or ("crosswalk" in m.lower() and m.lower().endswith(".csv")
                             and not re.search(r"awp|opps|prep|noc", m, re.IGNORECASE)),
                         "no product.txt/package.txt (FDA NDC Directory) nor NDC-HCPCS crosswalk CSV in the zip"))
    by_base = {name.lower().rsplit("/", 1)[-1]: name for name in found}
    if "product.txt" in by_base or "package.txt" in by_base:
        yield Release(SYSTEM, _release_name(path))
        titles: dict[str, str] = {}
        if "product.txt" in by_base:
            name = by_base["product.txt"]
            records, titles = _products(Path(f"{path}!{name}"), _text(path, found[name]))
            yield from records
        if "package.txt" in by_base:
            name = by_base["package.txt"]
            yield from _packages(Path(f"{path}!{name}"), _text(path, found[name]), titles)
        return
    for name, data in found.items():
        yield from _crosswalk(Path(f"{path}!{name}"), _text(path, data))


def _rows(path: Path, text: str, needed: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    lines = text.splitlines()
    header = [h.strip() for h in lines[0].split("\t")] if lines else []
    missing = [c for c in needed if c not in header]
    if missing:
        raise SourceError(path, f"not an FDA NDC Directory file: no {', '.join(missing)} column", 1)
    for no, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(header):
            raise SourceError(path, f"{len(cells)} tab-separated fields where the header has {len(header)}", no)
        yield no, {h: c.strip() for h, c in zip(header, cells, strict=True)}


def _products(path: Path, text: str) -> tuple[list[Record], dict[str, str]]:
    """Labeler and product nodes, and each product's title by PRODUCTID (for its packages)."""
    out: list[Record] = []
    titles: dict[str, str] = {}
    labelers: set[str] = set()
    for no, r in _rows(path, text, ("PRODUCTID", "PRODUCTNDC", "PROPRIETARYNAME", "LABELERNAME")):
        product = r["PRODUCTNDC"]
        m = _PRODUCT.fullmatch(product)
        if not m:
            raise SourceError(path, f"PRODUCTNDC {product[:20]!r} is not labeler-product (e.g. 0002-1433)", no)
        if m.group(1) not in labelers:
            labelers.add(m.group(1))
            out.append(Code(SYSTEM, m.group(1), r["LABELERNAME"] or f"Labeler {m.group(1)}", kind="section",
                            billable=False))
        title = product_title(r)
        titles[r["PRODUCTID"]] = title
        attributes = {key: r[col] for col, key in _PRODUCT_ATTRIBUTES.items() if r.get(col)}
        out.append(Code(SYSTEM, product, title, billable=False, parent=m.group(1), attributes=attributes))
    return out, titles


_PRODUCT_ATTRIBUTES = {
    "PRODUCTTYPENAME": "product_type", "NONPROPRIETARYNAME": "nonproprietary_name", "DOSAGEFORMNAME": "dosage_form",
    "ROUTENAME": "route", "SUBSTANCENAME": "substances", "ACTIVE_NUMERATOR_STRENGTH": "strength",
    "ACTIVE_INGRED_UNIT": "strength_unit", "LABELERNAME": "labeler", "MARKETINGCATEGORYNAME": "marketing_category",
    "APPLICATIONNUMBER": "application_number", "PHARM_CLASSES": "pharm_classes", "DEASCHEDULE": "dea_schedule",
    "STARTMARKETINGDATE": "marketing_start", "ENDMARKETINGDATE": "marketing_end",
}


def product_title(r: dict[str, str]) -> str:
    """"Trulicity (dulaglutide) 0.75 mg/.5mL, injection, solution": name, generic name, strength, form."""
    name = " ".join(p for p in (r.get("PROPRIETARYNAME", ""), r.get("PROPRIETARYNAMESUFFIX", "")) if p)
    generic = r.get("NONPROPRIETARYNAME", "")
    strength = " ".join(p for p in (r.get("ACTIVE_NUMERATOR_STRENGTH", ""), r.get("ACTIVE_INGRED_UNIT", "")) if p)
    title = name or generic
    if generic and generic.lower() != name.lower() and name:
        title += f" ({generic})"
    if strength:
        title += f" {strength}"
    if r.get("DOSAGEFORMNAME"):
        title += f", {r['DOSAGEFORMNAME'].lower()}"
    return title or r.get("PRODUCTNDC", "")


def _packages(path: Path, text: str, titles: dict[str, str]) -> Iterator[Record]:
    for no, r in _rows(path, text, ("PRODUCTID", "PRODUCTNDC", "NDCPACKAGECODE", "PACKAGEDESCRIPTION")):
        ndc10 = r["NDCPACKAGECODE"]
        code = eleven(ndc10)
        if code is None or not ndc10.startswith(r["PRODUCTNDC"] + "-"):
            raise SourceError(path, f"NDCPACKAGECODE {ndc10[:20]!r} is not a 10-digit NDC of product"
                                    f" {r['PRODUCTNDC'][:20]!r}", no)
        product = titles.get(r["PRODUCTID"])
        title = f"{product}: {r['PACKAGEDESCRIPTION']}" if product else r["PACKAGEDESCRIPTION"]
        attributes = {"ndc10": ndc10, "package": r["PACKAGEDESCRIPTION"]}
        for col, key in (("STARTMARKETINGDATE", "marketing_start"), ("ENDMARKETINGDATE", "marketing_end"),
                         ("SAMPLE_PACKAGE", "sample_package")):
            if r.get(col):
                attributes[key] = r[col]
        yield Code(SYSTEM, code, title, billable=True, parent=r["PRODUCTNDC"], synonyms=(ndc10,),
                   attributes=attributes)


def _crosswalk(path: Path, text: str) -> Iterator[Record]:
    rows = list(csv_rows(path, text))
    head = next((i for i, r in enumerate(rows[:30]) if r and _CROSSWALK_HEAD.fullmatch(r[0].strip())), None)
    if head is None:
        raise SourceError(path, "not an FDA NDC Directory file (no PRODUCTNDC header) nor a CMS NDC-HCPCS"
                                " crosswalk (no '_YYYY_CODE' header row in the first 30 lines)", 1)
    cols = {c.strip().upper(): i for i, c in enumerate(rows[head])}
    if "NDC2" not in cols:
        raise SourceError(path, "NDC-HCPCS crosswalk header has no NDC2 column", head + 1)
    year = _CROSSWALK_HEAD.fullmatch(rows[head][0].strip()).group(1)  # type: ignore[union-attr]
    release = f"CMS ASP NDC-HCPCS crosswalk {year}"
    yield Release(SYSTEM, release)
    for no, row in enumerate(rows[head + 1:], head + 2):
        if not any(c.strip() for c in row):
            continue
        hcpcs, ndc = row[0].strip().upper(), row[cols["NDC2"]].strip() if len(row) > cols["NDC2"] else ""
        code = dotted(re.sub(r"\s", "", ndc))
        if not _HCPCS.fullmatch(hcpcs) or not re.fullmatch(r"[0-9]{5}-[0-9]{4}-[0-9]{2}", code):
            raise SourceError(path, f"not a HCPCS code and an 11-digit NDC: {hcpcs[:10]!r}, {ndc[:20]!r}", no)
        attributes = {"source": release}
        for col, key in (("HCPCS DOSAGE", "hcpcs_dosage"), ("PKG SIZE", "package_size"), ("PKG QTY", "package_qty"),
                         ("BILLUNITS", "bill_units"), ("BILLUNITSPKG", "bill_units_per_package"),
                         ("DRUG NAME", "drug_name")):
            if col in cols and cols[col] < len(row) and row[cols[col]].strip():
                attributes[key] = row[cols[col]].strip()
        yield Relation("ndc-hcpcs", SYSTEM, code, "hcpcs", hcpcs, attributes)
