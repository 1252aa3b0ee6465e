"""What a policy says about the codes it cites: covered, not covered, investigational, in which clause."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .tokens import CODE_AT

INVESTIGATIONAL = re.compile(r"\b(?:investigational|experimental|unproven|not proven|e/i|eiu)\b", re.I)
NOT_COVERED = re.compile(
    r"\bnot\s+(?:be\s+|been\s+|considered\s+|deemed\s+|currently\s+|generally\s+|always\s+|separately\s+|"
    r"otherwise\s+|routinely\s+)*"
    r"(?:medically\s+necessary|medically\s+reasonable|reasonable\s+and\s+necessary|covered|a\s+covered|eligible|"
    r"reimbursable|payable|supported|approved|cover(?:ed)?\b)"
    r"|\bnon-?covered\b|\bnon-?medically necessary\b|\b(?:do|does|did|will|shall|would|may)\s+not\s+(?:support|meet)\b"
    r"|\bdon't support\b"
    r"|\bexclu(?:ded|sions?)\b|\bnmn\b|\bdenied\b|\bnever\s+covered\b",
    re.I,
)
COVERED = re.compile(
    r"\bcovered\b|\bmedically necessary\b|\bsupports?\s+(?:the\s+)?medical\s+necessity\b|\breasonable and necessary\b"
    r"|\beligible\b|\bindications?\b|\bproven\b|\bsupports?\s+coverage\b|\bmeets? (?:the )?(?:criteria|definition)"
    r"|\breimbursable\b|\bpayable\b|\b(?:shall|will|may|does|do)\s+(?:also\s+)?cover\b|\bapproved\b",
    re.I,
)
_CODING = re.compile(r"\bcodes?\b|\bcoding\b|\bcode\(s\)|\bcpt\b|\bhcpcs\b|\bicd-?10\b|\bbill(?:ing|ed)\b"
                     r"|\bmodifiers?\b", re.I)
_STATUS_HEADER = re.compile(r"coverage|covered|status|determination|medically necessary|indicator|policy", re.I)
_YES = re.compile(r"^\s*(?:yes|y|approved|payable|allowed|mn)\s*$", re.I)
_NO = re.compile(r"^\s*(?:no|n|denied)\s*$", re.I)


def classify(text: str) -> str | None:
    """covered / not_covered / investigational, or None when the text says neither.

    Investigational wins over "not medically necessary" (payers write "experimental,
    investigational and not medically necessary"), which wins over "covered".
    """
    if INVESTIGATIONAL.search(text):
        return "investigational"
    if NOT_COVERED.search(text):
        return "not_covered"
    if COVERED.search(text):
        return "covered"
    return None


def is_coding(text: str) -> bool:
    return bool(_CODING.search(text))


def status_cell(header: Sequence[str], cells: Sequence[str]) -> str | None:
    """The class a row's status column gives ("Covered", "E/I", "No"), if its table has one."""
    for i, h in enumerate(header):
        if i >= len(cells) or not _STATUS_HEADER.search(h) or "description" in h.lower():
            continue
        found = classify(cells[i])
        if found:
            return found
        if _YES.match(cells[i]):
            return "covered"
        if _NO.match(cells[i]):
            return "not_covered"
    return None


# Sentence ends, semicolons, and a dash between words ("covered — except ..."), never the dash of a range.
_CLAUSE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])|;\s+|\s+[\u2013\u2014]\s+(?=[A-Za-z][a-z])")


def clause_at(text: str, start: int, end: int) -> tuple[int, int]:
    """The clause (sentence, or part of one between semicolons) holding text[start:end].

    A semicolon inside a list of codes ("M54.10 through M54.18; M48.061; M51.16") ends no clause.
    """
    lo, hi = 0, len(text)
    for m in _CLAUSE_END.finditer(text):
        if m.group().startswith(";") and CODE_AT.match(text, m.end()):
            continue
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


def sentence_at(text: str, start: int, end: int) -> tuple[int, int]:
    lo, hi = 0, len(text)
    for m in re.finditer(r"(?<=[.!?])\s+(?=[A-Z(\"“])", text):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


# -- the walk over blocks -------------------------------------------------------------------
