"""Family history codes (ICD-10-CM Z80-Z84) for the condition a relative had.

"FHx colon ca", "family history of MI": the family history categories name chapters and blocks
("malignant neoplasm of digestive organs", "ischemic heart disease and other diseases of the
circulatory system"), not the condition the note names, so the words do not meet. The condition is
found as a diagnosis first (results.py) and its code's block gives the family history code
(family.tsv): C18.9 -> Z80.0, I21.9 -> Z82.49.
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


def condition(text: str) -> str | None:
    """The condition of "family history of X" in a query as read (shorthand spelled out)."""
    m = _FAMILY.search(text)
    return m.group(1).strip() if m else None


def code_for(icd10cm: str) -> Rule | None:
    """The family history code for an ICD-10-CM code: the rule of the narrowest prefix or range that
    holds it."""
    compact = icd10cm.replace(".", "").upper()
    best: tuple[int, Rule] | None = None
    for rule in rules():
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
def rules() -> tuple[Rule, ...]:
    text = resources.files(__package__).joinpath("family.tsv").read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3:
            raise ValueError(f"family.tsv:{n}: want categories, code, title; got {line!r}")
        first, _, last = cols[0].partition("-")
        out.append(Rule(first.replace(".", ""), last, cols[1], cols[2]))
    return tuple(out)
