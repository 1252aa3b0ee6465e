"""What a policy document says about itself: title, payer, policy number, effective and review dates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlparse

from .records import Block, Document

HEAD_BLOCKS = 80  # metadata sits in the first part of a document (or its last lines, for a PDF footer)

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE = (rf"(?:\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}-\d{{1,2}}-\d{{4}}|"
        rf"{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{4}})")
_SEP = r"\s*(?:date|on)?\s*[:|\-–]?\s*(?:\|\s*)?"
_EFFECTIVE = re.compile(rf"(?<!original )(?<!originally )\b(?:policy\s+|current\s+|revised\s+)?effective"
                        rf"(?:\s+date)?(?:\s+of\s+(?:changes?|policy|this\s+\w+))?{_SEP}(?:date\s*[:|]?\s*)?({DATE})",
                        re.I)
_ORIGINAL = re.compile(rf"\boriginal(?:ly)?\s+effective(?:\s+date)?{_SEP}({DATE})", re.I)
_REVIEWED = re.compile(rf"(?<!next )\b(?:date\s+of\s+)?(?:last\s+)?(?:reviewed|review|revised|revision(?:\s+history)?|"
                       rf"updated|approved|approval|amended)(?:\s+date)?(?:\s+on)?{_SEP}({DATE})", re.I)
_NUMBER = re.compile(
    r"\b(?:medical\s+|clinical\s+|payment\s+|coverage\s+)?(?:policy|document|reference|cpb|guideline|bulletin|"
    r"article|lcd|ncd|criteria)"
    r"\s*(?:number|no\.?|#|id|code)\s*[:#.]?\s*(?:\|\s*)?([A-Z0-9][A-Z0-9._/\-]{0,24}[A-Z0-9])", re.I)
_NUMBER_SHORT = re.compile(r"\b(?:medical\s+)?policy\s*:\s*([A-Z]{1,6}[-. ]?[0-9][0-9A-Z.\-]{0,20})")
_NUMBER_NAMED = re.compile(r"\b(?i:medical|clinical|payment|reimbursement|drug)\s+(?i:policy)\s+"
                           r"([A-Z]{1,6}-?[0-9][0-9A-Z.\-]{0,20})\b")
# "Pathway code: ONC-CRC-2025", "Notice number: NTC-7", "Program Document: RAD-PC-2025", "Bulletin 25-031"
_NUMBER_LABELLED = re.compile(r"\b(?i:pathway|notice|program|guideline|bulletin|criteria|document|policy)\s*"
                              r"(?i:code|number|no\.?|id|#)?\s*[:#]?\s+([A-Z0-9]+(?:[-.][A-Z0-9]+)+)\b")
_NUMBER_MEDICARE = re.compile(r"\b(?:LCD|Article|LCA)\s*(?:ID)?\s*:?\s*([LA][0-9]{5})\b")
_NUMBER_LINE = re.compile(r"^(?:number|no\.?)\s*[:|#]\s*(?:\|\s*)?([A-Z0-9][A-Z0-9._/\-]{0,24}[A-Z0-9])", re.I)
_PAYER_LABEL = re.compile(r"^(?:payer|health plan|insurer|plan name|issued by|published by|contractor name|"
                          r"contractor)\s*[:|]\s*(?:\|\s*)?"
                          r"([A-Z][\w&.,'’ -]{2,80}?)\s*(?:$|\||\n)", re.I)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?,?\s*)?([A-Z][\w&.,'’ -]{2,70}?)"
                        r"(?:[.,;]?\s+all rights|\.\s|\s*$|\s+\|)", re.I)
_PLAN_LINE = re.compile(r"^(.{3,70}?)\s*[-–—:|·]?\s+(?:commercial\s+)?(?:medical|clinical|payment|coverage|"
                        r"reimbursement|pharmacy|provider)\s+(?:policy|policies|guidelines?|bulletin|coverage policy|"
                        r"notice|update)\b", re.I)
# Words a plan's name carries: the first short line of a text document that has one is likely the payer.
_PAYER_WORDS = re.compile(r"\b(?:health|healthcare|care|blue|cross|shield|insurance|mutual|medicaid|medicare|plan|"
                          r"partners|assurance|life|benefits?)\b", re.I)
_META_PAYER = ("publisher", "dc.publisher", "og:site_name", "author", "application-name", "dc.creator", "copyright")
_TITLE_LABEL = re.compile(r"^(?:policy\s+)?(?:title|subject|policy name)\s*[:|]\s*(?:\|\s*)?(.{3,200})$", re.I)
_TITLE_POLICY = re.compile(r"^(?:medical|clinical|coverage|reimbursement|payment)\s+policy\s*:\s*"
                           r"([A-Za-z][^:|]{2,150}\s[^:|]{2,150})$", re.I)
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,60}$")


def parse_date(text: str) -> str | None:
    """ISO date from "01/15/2024", "1/15/24", "2024-01-15", "January 15, 2024", "15 Jan 2024", "Jan 2024"."""
    t = text.strip().lower().replace(",", " ")
    try:
        if m := re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2,4})", t):
            month, day, year = int(m[1]), int(m[2]), int(m[3])
            year += 2000 if year < 100 else 0
            return date(year, month, day).isoformat()
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", t):
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{1,2})\s+(\d{4})", t):
            return date(int(m[3]), _MONTHS[m[1]], int(m[2])).isoformat()
        if m := re.fullmatch(r"(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{4})", t):
            return date(int(m[3]), _MONTHS[m[2]], int(m[1])).isoformat()
        if m := re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{4})", t):
            return date(int(m[2]), _MONTHS[m[1]], 1).isoformat()
    except (ValueError, KeyError):
        return None
    return None


def _head(doc: Document) -> list[str]:
    blocks = doc.blocks
    picked = list(blocks[:HEAD_BLOCKS]) + list(blocks[-10:] if len(blocks) > HEAD_BLOCKS else [])
    return [b.text for b in picked]


def effective_date(doc: Document) -> str | None:
    return _first_date(_head(doc), _EFFECTIVE) or _first_date(_head(doc), _ORIGINAL)


def review_date(doc: Document) -> str | None:
    return _first_date(_head(doc), _REVIEWED)


def _first_date(lines: list[str], pattern: re.Pattern[str]) -> str | None:
    for line in lines:
        for m in pattern.finditer(line):
            found = parse_date(m.group(1))
            if found:
                return found
    return None


def policy_number(doc: Document) -> str | None:
    for line in _head(doc):
        m = (_NUMBER.search(line) or _NUMBER_SHORT.search(line) or _NUMBER_LINE.search(line)
             or _NUMBER_NAMED.search(line) or _NUMBER_MEDICARE.search(line) or _NUMBER_LABELLED.search(line))
        if m and any(ch.isdigit() for ch in m.group(1)):
            return m.group(1).strip(".-")
    return None


def title(doc: Document) -> str | None:
    for b in doc.blocks[:HEAD_BLOCKS]:
        m = _TITLE_LABEL.match(b.text) or _TITLE_POLICY.match(b.text)
        if m:
            return m.group(1).strip()
    for b in doc.blocks[:HEAD_BLOCKS]:
        if b.kind == "heading" and b.level == 1:
            return b.text
    for key in ("og:title", "dc.title", "title"):
        if doc.meta.get(key):
            return _TITLE_SUFFIX.sub("", doc.meta[key]).strip() or doc.meta[key]
    for b in doc.blocks[:HEAD_BLOCKS]:
        if b.kind == "heading" and not _PLAN_LINE.match(b.text):
            return b.text
    first = next((b.text for b in doc.blocks if b.text.strip()), None)
    return first[:150] if first else None


def payer(doc: Document) -> str | None:
    for key in _META_PAYER:
        if doc.meta.get(key):
            return doc.meta[key]
    head = _head(doc)
    for line in head[:40]:
        m = _PAYER_LABEL.search(line)
        if m and _is_name(m.group(1)):
            return _clean_name(m.group(1))
    named = title(doc)
    # a letterhead: the plan's name on the first lines (not the title: "Home Health Services Coverage")
    found = _plan_name([b for b in doc.blocks[:3] if b.text != named], max_words=8)
    if found:
        return found
    for line in head[:40]:
        m = _PLAN_LINE.search(line)
        if m and _is_name(m.group(1)):
            return _clean_name(m.group(1))
    for line in reversed(head):
        m = _COPYRIGHT.search(line)
        if m:
            return _clean_name(m.group(1))
    return _plan_name(doc.blocks[:5], max_words=10) or domain_name(doc.url)


def _plan_name(blocks: Sequence[Block], max_words: int) -> str | None:
    for b in blocks:
        name = re.split(r"\s+[-–—|·]\s+", b.text)[0]
        if (len(name) < 60 and len(name.split()) <= max_words and _PAYER_WORDS.search(name)
                and not any(ch.isdigit() for ch in name) and ":" not in name):
            return _clean_name(_strip_kind(_title_case(name) if name.isupper() else name))
    return None


def _title_case(name: str) -> str:
    """"STATE OF RIVERBEND DEPARTMENT OF HEALTH" -> "State of Riverbend Department of Health"; "DME" stays."""
    words = []
    for i, w in enumerate(name.split()):
        low = w.lower()
        if i and low in ("of", "and", "the", "for", "on", "in"):
            words.append(low)
        elif len(w) <= 3 and w.isalpha() and low not in ("of", "and", "the", "for"):
            words.append(w)
        else:
            words.append(w.capitalize())
    return " ".join(words)


def domain_name(url: str | None) -> str | None:
    """The host a document came from, as a payer name of last resort ("www.acme-health.com" -> acme-health.com)."""
    if not url:
        return None
    host = (urlparse(url).hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    if not host or host.replace(".", "").isdigit() or host in ("localhost",):
        return host or None
    return host


_KIND_WORDS = {"pharmacy", "medical", "benefit", "drug", "policy", "policies", "clinical", "commercial", "and", "&",
               "coverage", "reimbursement", "provider", "manual", "bulletin", "guideline", "guidelines"}


def _strip_kind(name: str) -> str:
    """"Summit Healthcare Pharmacy and Medical Benefit Drug Policy" -> "Summit Healthcare"."""
    words = name.split()
    while len(words) > 1 and words[-1].lower() in _KIND_WORDS:
        words.pop()
    return " ".join(words)


def _is_name(text: str) -> bool:
    """"Granite State Health Plan", not "Effective April 1, 2025, the Spinal Injections"."""
    words = _clean_name(text).split()
    return (0 < len(words) <= 8 and not any(ch.isdigit() for ch in text)
            and all(w[0].isupper() or w.lower() in ("and", "of", "&", "the", "for") for w in words))


def _clean_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip(" .,;:-–—|·*_")
