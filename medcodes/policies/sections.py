"""What a policy says about the codes it cites: covered, not covered, investigational, in which clause."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from .tokens import CODE_AT


class Span(Protocol):
    """A code token's place in its text (tokens.Candidate)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=Span)

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



# -- exceptions ----------------------------------------------------------------------------
_EXCEPT = re.compile(r"\b(?:except(?:ing)?(?:\s+for)?|excluding|other\s+than|with\s+the\s+exception\s+of|but\s+not)\b",
                     re.I)
# Between the marker and the excepted code: nothing, or only what names the code ("except code K51.90").
_EXCEPT_GAP = re.compile(r"^[\s:,]*(?:(?:the\s+)?(?:codes?|code\(s\)|cpt|hcpcs|icd-?10(?:-?cm|-?pcs)?|diagnos[ie]s)"
                         r"[\s:,]*)*$", re.I)
# ... or a short name with the code in parentheses ("with the exception of juvenile arthritis (M08.3)"),
# but never a condition ("except when billed with L40.0").
_EXCEPT_NAMED = re.compile(r"^\s*[^.;:()]{1,60}\(\s*$")
_CONDITION = re.compile(r"\b(?:when|if|unless|where|while|billed|reported|submitted|during|after|before|until)\b",
                        re.I)
_LIST_JOIN = re.compile(r"^[\s,;/&]*(?:(?:and/or|and|or)\b)?[\s,;/&]*$", re.I)
_SENTENCE_BREAK = re.compile(r"[.;!?]\s|\n")


def excepted(text: str, cands: Sequence[S]) -> dict[S, tuple[int, int]]:
    """The codes an exception clause takes out of a list ("K50.- and K51.-, except K51.90"; "E08–E13,
    excluding E11.A"; "other than L40.4"; "with the exception of ... (M08.3)"), each with the span whose
    stance it reverses: the list code right before the clause, else the clause word itself."""
    out: dict[S, tuple[int, int]] = {}
    markers = list(_EXCEPT.finditer(text)) if cands else []
    if not markers:
        return out
    ordered = sorted(cands, key=lambda c: c.start)
    for m in markers:
        after = [c for c in ordered if c.start >= m.end()]
        if not after:
            continue
        gap = text[m.end():after[0].start]
        if not (_EXCEPT_GAP.match(gap) or (_EXCEPT_NAMED.match(gap) and not _CONDITION.search(gap))):
            continue
        run = [after[0]]
        for c in after[1:]:
            if not _LIST_JOIN.match(text[run[-1].end:c.start]):
                break
            run.append(c)
        before = [c for c in ordered if c.end <= m.start() and not _SENTENCE_BREAK.search(text[c.end:m.start()])]
        anchor = (before[-1].start, before[-1].end) if before else (m.start(), m.end())
        for c in run:
            out.setdefault(c, anchor)
    return out


def opposite(section: str) -> str:
    """What an excepted code gets when its list gets `section`: the other coverage call, or no stance."""
    return {"covered": "not_covered", "not_covered": "covered", "investigational": "covered"}.get(section, "mentioned")


# -- billing instructions ------------------------------------------------------------------
_DENY = re.compile(r"\b(?:denied|deny|denies|rejected|returned)\b", re.I)
_MISSING = re.compile(r"\b(?:without|missing|lacking|absent|omit\w*|not\s+includ\w*|no)\b[^.;]{0,50}?"
                      r"\b(?:ndc|national drug code|invoice|drug name|product name|dose|modifier|information|"
                      r"narrative|documentation of the drug)\b|\bmissing information\b", re.I)


def is_billing_denial(clause: str) -> bool:
    """"Claims for J3490 without an NDC will be denied": a denial for what the claim lacks, not for the service."""
    return bool(_MISSING.search(clause)) and classify(_DENY.sub(" ", clause)) != "not_covered"


# -- revision history ----------------------------------------------------------------------
_HISTORY_HEADING = re.compile(
    r"^\s*(?:[0-9IVX]+[.)]\s*)?(?:(?:(?:policy|document|guideline|article|coverage)\s+)?"
    r"(?:revision|policy|document|guideline|article|version|change|coverage)\s+history"
    r"(?:\s+information)?|history|summary\s+of\s+(?:changes|revisions)|change\s+log|revision\s+log|revisions?)\s*:?\s*$",
    re.I)
_DATE_CELL = re.compile(r"\b(?:date|effective|revised|month|year)\b", re.I)
_CHANGE_CELL = re.compile(r"\b(?:action|changes?|revisions?|explanation|summary|history)\b", re.I)
_CODE_CELL = re.compile(r"\bcodes?\b", re.I)
_HISTORY_HEADER = re.compile(r"revision history|summary of changes|policy history", re.I)
_REMOVED_WORD = re.compile(r"removed|deleted|retired", re.I)
_REMOVED = re.compile(r"\b(?:removed|deleted|retired)\b[^.;]{0,80}?\bfrom\s+(?:this|the)\s+(?:policy|article|"
                      r"guideline|lcd|list|document|code list)\b", re.I)


def is_history_heading(text: str) -> bool:
    """"Revision History Information", "Policy History", "DOCUMENT HISTORY", "Summary of Changes"."""
    return len(text) < 60 and bool(_HISTORY_HEADING.match(text))


@functools.lru_cache(maxsize=1024)
def is_history_table(header: tuple[str, ...]) -> bool:
    """A table of dated changes to the policy: "Revision History Date | ... | Explanation", "Date | Action"."""
    if not header:
        return False
    if _HISTORY_HEADER.search(" | ".join(header)):
        return True
    return (any(_DATE_CELL.search(h) for h in header) and any(_CHANGE_CELL.search(h) for h in header)
            and not any(_CODE_CELL.search(h) for h in header))


def is_removal(text: str, start: int, end: int) -> bool:
    """"0398T was removed from this policy": the code is the policy's history, not its coverage."""
    if not _REMOVED_WORD.search(text):
        return False
    lo, hi = clause_at(text, start, end)
    return bool(_REMOVED.search(text[lo:hi]))


_PARENS = re.compile(r"\([^()]*\)")


def without_parentheses(text: str) -> str:
    """The text with each parenthetical that names a code blanked out (same length, so offsets still hold):
    "(M84.3- stress fracture excluded)" speaks for M84.3-; "ICD-10-CM (covered):" still speaks for its list."""
    return _PARENS.sub(lambda m: " " * len(m.group()) if CODE_AT.search(m.group()) else m.group(), text)
