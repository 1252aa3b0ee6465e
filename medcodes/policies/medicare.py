"""Medicare coverage documents (LCDs, Articles, NCDs) as policy records: shared by the API client and the bulk reader.

Both sources carry the same fields (the MCD data dictionary): an article's code tables with their
group paragraphs, an LCD's CPT/HCPCS groups and text, an NCD's text. CPT descriptors that come with
them (AMA-licensed) are never stored: a CPT link keeps its code, its group's paragraph and the title.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import lxml.html
from lxml import etree

from .documents import read_html
from .extract import check_code, extract
from .linking import link
from .metadata import parse_date
from .records import Mention, PolicyRecord
from .sections import classify
from .store import text_hash
from .tokens import shapes

MCD_VIEW = "https://www.cms.gov/medicare-coverage-database/view"


def view_url(kind: str, doc_id: str, version: str | None) -> str:
    """The document's page on the Medicare Coverage Database."""
    key, ver = {"lcd": ("lcdid", "ver"), "article": ("articleid", "ver"), "ncd": ("ncdid", "ncdver")}[kind]
    return f"{MCD_VIEW}/{kind}.aspx?{key}={doc_id}" + (f"&{ver}={version}" if version else "")


def html_text(html: str | None) -> str:
    if not html or not str(html).strip():
        return ""
    try:
        return re.sub(r"\s+", " ", lxml.html.fromstring(str(html)).text_content()).strip()
    except (ValueError, etree.ParserError):
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(html))).strip()


def iso_date(value: Any) -> str | None:
    return parse_date(str(value)) if value else None


def code_mentions(rows: list[dict[str, Any]], groups: dict[Any, str], id_field: str, group_field: str,
                  default_section: str, title: str, checker: Any, allowed: frozenset[str]) -> list[Mention]:
    """Rows of one code table (code id, optional range, group number) as mentions, each with its group's words."""
    out = []
    for row in rows:
        raw = str(row.get(id_field) or "").strip().upper()
        rng = str(row.get("range") or "").strip().upper()
        if not raw:
            continue
        first, _, last = rng.partition("-") if "-" in rng else (raw, "", "")
        paragraph = groups.get(row.get(group_field), "")
        section = default_section if default_section != "coding" else (classify(paragraph) or "coding")
        for system, code, _ in shapes(first.strip()):
            if system not in allowed:
                continue
            hit = check_code(system, code, last.strip() or None, True, checker)
            if hit is None:
                continue
            snippet = f"{title}: {paragraph[:240]}" if paragraph else title
            out.append(Mention(hit.system, hit.code, hit.last, False, section, snippet, rng or raw, hit.validated))
            break
    return out


def group_paragraphs(rows: list[dict[str, Any]], field: str) -> dict[Any, str]:
    return {r.get(field): html_text(r.get("paragraph")) for r in rows}


PROCEDURES = frozenset({"cpt", "hcpcs"})
# An article's code tables: (part, code field, group field, what listing there says, systems it holds).
ARTICLE_PARTS: tuple[tuple[str, str, str, str, frozenset[str]], ...] = (
    ("hcpc_code", "hcpc_code_id", "hcpc_code_group", "coding", PROCEDURES),
    ("icd10_covered", "icd10_code_id", "icd10_covered_group", "covered", frozenset({"icd10cm"})),
    ("icd10_noncovered", "icd10_code_id", "icd10_noncovered_group", "not_covered", frozenset({"icd10cm"})),
    ("icd10_pcs_code", "icd10_pcs_code_id", "icd10_pcs_code_group", "coding", frozenset({"icd10pcs"})),
)


def table_mentions(part: Callable[[str], list[dict[str, Any]]], parts: tuple[tuple[str, str, str, str,
                   frozenset[str]], ...], title: str, checker: Any) -> tuple[list[Mention], list[str]]:
    """Mentions from a document's code tables (fetched or read by `part(name)`), and the group paragraphs."""
    mentions: list[Mention] = []
    paragraphs: list[str] = []
    for name, id_field, group_field, section, allowed in parts:
        groups = group_paragraphs(part(f"{name}_group"), group_field)
        paragraphs += [g for g in groups.values() if g]
        mentions += code_mentions(part(name), groups, id_field, group_field, section, title, checker, allowed)
    return mentions, paragraphs


LCD_PARTS = ARTICLE_PARTS[:1]
LCD_TEXT = (("Coverage Indications, Limitations, and/or Medical Necessity", "indication"),
            ("Coding Guidelines", "coding_guidelines"), ("Documentation Requirements", "doc_reqs"))
NCD_TEXT = (("Item/Service Description", "item_service_description"),
            ("Indications and Limitations of Coverage", "indications_limitations"), ("Other", "other_text"))


def sections_html(doc: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> str:
    """A document's text fields as one HTML page, each under its heading, for the extractor."""
    return "".join(f"<h2>{name}</h2>{doc.get(field) or ''}" for name, field in fields if doc.get(field))


def text_mentions(html: str, source: str, checker: Any) -> list[Mention]:
    return extract(read_html(html, source=source), checker) if html else []


def medicare_record(kind: str, display: str, version: str, title: str, listed: dict[str, Any] | None,
                    mentions: list[Mention], text: str, checker: Any, *, effective: str | None,
                    reviewed: str | None, url: str) -> PolicyRecord:
    """One Medicare document as a policy: payer "Medicare (contractor)", id medicare-<kind>-<display id>."""
    links, ranges = link(mentions, checker)
    contractor = str((listed or {}).get("contractor_name_type") or "").split("\n")[0].strip()
    payer = f"Medicare ({contractor})" if contractor else "Medicare"
    listed_url = (listed or {}).get("url")
    codes = sorted({(m.system, m.code, m.last or "", m.section) for m in mentions})
    return PolicyRecord(
        payer=payer, title=title, kind=kind, content_hash=text_hash(text + repr(codes)), links=tuple(links),
        ranges=tuple(ranges), policy_id=f"medicare-{kind}-{display.lower()}", number=display,
        url=str(listed_url or url), source=f"cms-coverage-api:{kind}:{display}", effective=effective,
        last_reviewed=reviewed, format="api", text=text,
        attributes={"document_type": kind.upper() if kind != "article" else "Article", "version": version,
                    **({"contractor": contractor} if contractor else {})})
