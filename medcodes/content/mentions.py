"""Codes written inside text: in official notes ("gestational diabetes (O24.4-)") and in generated text.

Two different needs, two functions. Notes are written by coders for coders, so every code-shaped
token in them is a code (`codes_in_note`). Generated prose also says "vitamin B12" and "T12
vertebra", so `code_mentions` only takes tokens that can hardly be anything but a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ICD10 = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?"

# In a note: a code or a range, optionally ending with "-" ("O24.4-", "E10.-": "and the codes below").
_NOTE_CODE = re.compile(rf"(?<![A-Za-z0-9.])({_ICD10})(-?)(?:\s*-\s*({_ICD10}))?(?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class NoteCode:
    """A code named in a note; `last` is set for a range ("E08-E13")."""

    first: str
    last: str | None = None


def codes_in_note(text: str) -> list[NoteCode]:
    """ICD-10-CM codes and ranges a note names, in the order written."""
    out: list[NoteCode] = []
    for m in _NOTE_CODE.finditer(text):
        first, last = m.group(1).rstrip("."), m.group(3)
        item = NoteCode(first, last.rstrip(".") if last else None)
        if item not in out:
            out.append(item)
    return out


# Generated text: only forms that can hardly be prose.
_STRONG = (
    re.compile(r"(?<![\w.])([A-Z][0-9][0-9A-Z]\.[0-9A-Z]{1,4})(?![\w])"),  # ICD-10-CM with a dot: E11.9
    re.compile(r"(?<![\w.])([VE][0-9]{2,3}\.[0-9]{1,2})(?![\w.])"),  # ICD-9-CM V and E codes: V45.81
    re.compile(r"(?<!\w)([A-CEGHJ-MP-V][0-9]{4})(?!\w)"),  # HCPCS Level II: J1100
    re.compile(r"(?<!\w)((?=[0-9A-HJ-NP-Z]*[0-9][0-9A-HJ-NP-Z]*[0-9])(?=[0-9A-HJ-NP-Z]*[A-HJ-NP-Z])"
               r"[0-9BCDFGHX][0-9A-HJ-NP-Z]{6})(?!\w)"),  # ICD-10-PCS: 0SG00A1
    re.compile(r"\((" + _ICD10 + r")-?\)"),  # a bare category in parentheses: (E11)
)
_AFTER_KEYWORD = re.compile(
    r"\b(?:[Cc]odes?|[Cc]ategory|ICD-10-CM|ICD-10-PCS|ICD-10|ICD-9-CM|ICD-9|HCPCS|CPT|MS-DRG|DRG)\s+"
    r"([A-Z0-9][A-Z0-9.]{1,7}[A-Z0-9])(?![\w])"
)


def code_mentions(text: str) -> list[str]:
    """Tokens of `text` that name a code, as written (without a trailing "-")."""
    found: list[str] = []
    for pattern in _STRONG:
        for m in pattern.finditer(text):
            found.append(m.group(1))
    # Numeric ICD-9-CM codes only where the text says "code": 101.5 is a temperature.
    found += [m.group(1) for m in _AFTER_KEYWORD.finditer(text) if any(c.isdigit() for c in m.group(1))]
    return list(dict.fromkeys(t.rstrip(".-") for t in found))
