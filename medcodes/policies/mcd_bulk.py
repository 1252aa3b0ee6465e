"""The Medicare Coverage Database bulk download: the same LCD / Article / NCD data as the Coverage API, as CSVs.

CMS publishes each export (current_article.zip, current_lcd.zip, ncd.zip...) as a zip holding a zip
of CSV files whose columns are the API's field names: article.csv, article_x_hcpc_code.csv,
article_x_icd10_covered.csv, lcd.csv, lcd_x_hcpc_code.csv, ncd_trkg.csv and their *_group tables.
This module reads any of those zips (nested zips included, within size limits), a folder they were
unpacked into, or a single report CSV of the API's document list (document_display_id, title, url),
and yields one policy record per document.
"""

from __future__ import annotations

import csv
import re
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..errors import SourceError
from .medicare import (
    ARTICLE_PARTS,
    LCD_PARTS,
    LCD_TEXT,
    html_text,
    iso_date,
    medicare_record,
    sections_html,
    table_mentions,
    text_mentions,
    view_url,
)
from .records import PolicyRecord

MAX_MEMBER_BYTES = 4 * 1024**3  # one CSV of the largest export is a few hundred MB
MAX_NESTING = 3


@contextmanager
def csv_files(path: Path) -> Iterator[dict[str, Path]]:
    """basename (lower case) -> CSV file, from a zip (nested zips unpacked), a folder or one CSV."""
    if path.is_dir():
        yield {p.name.lower(): p for p in sorted(path.rglob("*.csv"))}
        return
    if path.suffix.lower() == ".csv":
        yield {path.name.lower(): path}
        return
    with tempfile.TemporaryDirectory(prefix="medcodes-mcd-") as tmp:
        found: dict[str, Path] = {}
        _unpack(path, Path(tmp), found, 0)
        yield found


def _unpack(path: Path, into: Path, found: dict[str, Path], depth: int) -> None:
    if depth > MAX_NESTING:
        raise SourceError(path, f"zips nested more than {MAX_NESTING} deep")
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = Path(info.filename).name
                if info.is_dir() or not name or name.startswith("."):
                    continue
                if info.file_size > MAX_MEMBER_BYTES:
                    raise SourceError(path, f"member {info.filename} is {info.file_size / 1e9:.1f} GB, over the limit")
                if name.lower().endswith((".csv", ".zip")):
                    target = into / f"{depth}-{len(found)}-{name}"
                    with z.open(info) as src, target.open("wb") as dst:
                        _copy_capped(src, dst, path, info.filename)
                    if name.lower().endswith(".zip"):
                        _unpack(target, into, found, depth + 1)
                    else:
                        found.setdefault(name.lower(), target)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise SourceError(path, f"not a readable zip: {e}") from None


def _copy_capped(src: IO[bytes], dst: IO[bytes], path: Path, member: str) -> None:
    total = 0
    while chunk := src.read(1 << 20):
        total += len(chunk)
        if total > MAX_MEMBER_BYTES:  # a member that inflates past what its header said
            raise SourceError(path, f"member {member} inflates past {MAX_MEMBER_BYTES / 1e9:.0f} GB")
        dst.write(chunk)


def rows(path: Path) -> Iterator[dict[str, str]]:
    """Rows of one MCD CSV, keys lower-cased (NCD exports write NCD_id, the API writes ncd_id)."""
    csv.field_size_limit(50_000_000)
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.DictReader(f)
        try:
            for row in reader:
                yield {(k or "").strip().lower(): (v or "") for k, v in row.items()}
        except csv.Error as e:
            raise SourceError(path, f"not a readable CSV: {e}", reader.line_num) from None


def read(path: Path, checker: Any) -> Iterator[PolicyRecord]:
    """Every document of an MCD export as a policy record (the newest version of each)."""
    with csv_files(path) as files:
        if not files:
            raise SourceError(path, "no CSV files in it")
        produced = False
        if "article.csv" in files:
            produced = True
            yield from _articles(files, checker)
        if "lcd.csv" in files:
            produced = True
            yield from _lcds(files, checker)
        if "ncd_trkg.csv" in files:
            produced = True
            yield from _ncds(files["ncd_trkg.csv"], checker)
        for file in files.values():
            head = next(rows(file), None)
            if head is not None and {"document_display_id", "document_type", "title"} <= head.keys():
                produced = True
                yield from _report(file, checker)
        if not produced:
            raise SourceError(path, "no MCD tables in it (article.csv, lcd.csv, ncd_trkg.csv or a report CSV)")


def _latest(file: Path, id_field: str, version_field: str) -> dict[str, dict[str, str]]:
    latest: dict[str, dict[str, str]] = {}
    for row in rows(file):
        key = row.get(id_field, "").strip()
        if key and _int(row.get(version_field)) >= _int(latest.get(key, {}).get(version_field)):
            latest[key] = row
    return latest


def _int(value: Any) -> int:
    return int(value) if str(value or "").strip().isdigit() else -1


def _by_doc(files: dict[str, Path], name: str, id_field: str, version_field: str) -> dict[tuple[str, str], list[Any]]:
    out: dict[tuple[str, str], list[Any]] = defaultdict(list)
    if name in files:
        for row in rows(files[name]):
            out[(row.get(id_field, "").strip(), row.get(version_field, "").strip())].append(row)
    return out


def _contractors(files: dict[str, Path], link_table: str, id_field: str) -> dict[str, str]:
    if "contractor.csv" not in files or link_table not in files:
        return {}
    names = {r.get("contractor_id", ""): r.get("contractor_bus_name", "") for r in rows(files["contractor.csv"])}
    out: dict[str, str] = {}
    for r in rows(files[link_table]):
        name = names.get(r.get("contractor_id", ""), "")
        if name:
            out.setdefault(r.get(id_field, "").strip(), name)
    return out


def _part(tables: dict[str, dict[tuple[str, str], list[Any]]],
          key: tuple[str, str]) -> Callable[[str], list[dict[str, Any]]]:
    """One document's rows of each table, as the API client fetches them."""
    return lambda name: tables[name].get(key, [])


def _articles(files: dict[str, Path], checker: Any) -> Iterator[PolicyRecord]:
    docs = _latest(files["article.csv"], "article_id", "article_version")
    names = [n for part in ARTICLE_PARTS for n in (part[0], f"{part[0]}_group")]
    tables = {n: _by_doc(files, f"article_x_{n}.csv", "article_id", "article_version") for n in names}
    contractors = _contractors(files, "article_x_contractor.csv", "article_id")
    for aid, doc in docs.items():
        key = (aid, doc.get("article_version", "").strip())
        title = doc.get("title") or f"Article A{aid}"
        mentions, paragraphs = table_mentions(_part(tables, key), ARTICLE_PARTS, title, checker)
        text = "\n".join([title, html_text(doc.get("description")), *paragraphs])
        yield medicare_record("article", doc.get("display_id") or f"A{aid}", key[1], title,
                              {"contractor_name_type": contractors.get(aid, "")}, mentions, text, checker,
                              effective=iso_date(doc.get("article_eff_date")),
                              reviewed=iso_date(doc.get("last_updated")), url=view_url("article", aid, key[1]))


def _lcds(files: dict[str, Path], checker: Any) -> Iterator[PolicyRecord]:
    docs = _latest(files["lcd.csv"], "lcd_id", "lcd_version")
    tables = {n: _by_doc(files, f"lcd_x_{n}.csv", "lcd_id", "lcd_version") for n in ("hcpc_code", "hcpc_code_group")}
    contractors = _contractors(files, "lcd_x_contractor.csv", "lcd_id")
    for lid, doc in docs.items():
        key = (lid, doc.get("lcd_version", "").strip())
        title = doc.get("title") or f"LCD L{lid}"
        mentions, paragraphs = table_mentions(_part(tables, key), LCD_PARTS, title, checker)
        html = sections_html(doc, LCD_TEXT)
        mentions += text_mentions(html, f"LCD L{lid}", checker)
        display = doc.get("display_id") or lid
        yield medicare_record("lcd", f"L{display}" if display.isdigit() else display, key[1], title,
                              {"contractor_name_type": contractors.get(lid, "")}, mentions,
                              "\n".join([title, html_text(html), *paragraphs]), checker,
                              effective=iso_date(doc.get("rev_eff_date") or doc.get("orig_det_eff_date")),
                              reviewed=iso_date(doc.get("last_reviewed_on") or doc.get("last_updated")),
                              url=view_url("lcd", lid, key[1]))


# The NCD export names its columns in its own way (NCD_id, itm_srvc_desc...): mapped onto the API's names.
NCD_BULK_TEXT = (("Item/Service Description", "itm_srvc_desc"), ("Indications and Limitations of Coverage",
                 "indctn_lmtn"), ("Other", "othr_txt"))


def _ncds(file: Path, checker: Any) -> Iterator[PolicyRecord]:
    for nid, doc in _latest(file, "ncd_id", "ncd_vrsn_num").items():
        display = doc.get("ncd_mnl_sect") or nid
        title = doc.get("ncd_mnl_sect_title") or f"NCD {display}"
        html = sections_html(doc, NCD_BULK_TEXT)
        ver = doc.get("ncd_vrsn_num", "")
        yield medicare_record("ncd", display, ver, title, None, text_mentions(html, f"NCD {display}", checker),
                              "\n".join([title, html_text(html)]), checker, effective=iso_date(doc.get("ncd_efctv_dt")),
                              reviewed=None, url=view_url("ncd", nid, ver))


def _report(file: Path, checker: Any) -> Iterator[PolicyRecord]:
    """The API's document list as CSV: policies with their title and link, and no codes (the list has none)."""
    for row in rows(file):
        display = row.get("document_display_id", "").strip()
        kind = {"lcd": "lcd", "article": "article", "ncd": "ncd"}.get(row.get("document_type", "").strip().lower())
        if not display or kind is None:
            continue
        title = row.get("title", "").strip() or display
        version = row.get("document_version", "")
        yield medicare_record(kind, display, version, title, row, [], title, checker,
                              effective=iso_date(row.get("effective_date")), reviewed=iso_date(row.get("updated_on")),
                              url=row.get("url") or view_url(kind, re.sub(r"\D", "", display), version))
