"""Family history codes (ICD-10-CM Z80-Z84) for the condition a relative had, pregnancy codes (O98-O9A)
for a condition in a pregnancy, and personal history codes (Z85) for a cancer had: each by the chapter
block or category of the condition's own code.

"FHx colon ca", "family history of MI": the family history categories name chapters and blocks
("malignant neoplasm of digestive organs", "ischemic heart disease and other diseases of the
circulatory system"), not the condition the note names, so the words do not meet. The condition is
found as a diagnosis first (results.py) and its code's block gives the family history code
(family.tsv): C18.9 -> Z80.0, I21.9 -> Z82.49. "asthma while pregnant": J45.909 -> O99.51
(pregnancy.tsv). "h/o sigmoid ca": C18.7 -> Z85.038 (cancer_history.tsv).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

_FAMILY = re.compile(r"\bfamily history of\s+(.+?)(?=\s(?:on|with|and|due to)\s|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Rule:
    first: str  # compact ICD-10-CM code or category
    last: str  # last category of a range; "" for a code prefix
    code: str
    title: str


FAMILY = "family.tsv"
PREGNANCY = "pregnancy.tsv"
CANCER_HISTORY = "cancer_history.tsv"
# "X while pregnant", "X during pregnancy", "pregnant with X": a condition the pregnancy has; not one the
# pregnancy titles name themselves ("pregnancy test", "pregnancy induced hypertension")
_IN_PREGNANCY = re.compile(r"^(?:(.+?)\s+(?:while|when|during|in)\s+(?:i\s+was\s+|im\s+|i\s+am\s+)?"
                           r"(?:pregnant|pregnancy)"
                           r"|(?:pregnant|pregnancy)\s+(?:with|and|complicated by)\s+(.+?))\s*$", re.IGNORECASE)


def condition(text: str) -> str | None:
    """The condition of "family history of X" in a query as read (shorthand spelled out)."""
    m = _FAMILY.search(text)
    return m.group(1).strip() if m else None


def in_pregnancy(text: str) -> str | None:
    """The condition of "X while pregnant" / "pregnant with X", where a query says no more than that."""
    m = _IN_PREGNANCY.match(text.strip())
    return (m.group(1) or m.group(2)).strip() if m else None


def code_for(icd10cm: str, table: str = FAMILY) -> Rule | None:
    """The family history (or pregnancy) code for an ICD-10-CM code: the rule of the narrowest prefix or
    range that holds it."""
    compact = icd10cm.replace(".", "").upper()
    best: tuple[int, Rule] | None = None
    for rule in rules(table):
        if rule.last:
            held = rule.first <= compact[:3] <= rule.last
            width = 1000 - _span(rule.first, rule.last)  # a narrower range is more specific
        else:
            held = compact.startswith(rule.first)
            width = 1000 + len(rule.first)
        if held and (best is None or width > best[0]):
            best = width, rule
    return best[1] if best else None


def _span(first: str, last: str) -> int:
    if first[0] != last[0]:
        return 999
    return int(last[1:3]) - int(first[1:3])


@functools.cache
def rules(table: str = FAMILY) -> tuple[Rule, ...]:
    text = resources.files(__package__).joinpath(table).read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3:
            raise ValueError(f"{table}:{n}: want categories, code, title; got {line!r}")
        first, _, last = cols[0].partition("-")
        out.append(Rule(first.replace(".", ""), last, cols[1], cols[2]))
    return tuple(out)
