"""Query understanding: split what a user typed into codes, code ranges, filters and words.

Nothing here touches the index: the parser only decides what each token *could* be. Whether
"b12" is a code or a word is settled by the searcher, which looks the code candidates up and
keeps the ones that miss as words. Every word that leaves this module is a run of letters and
digits, so no user text can ever be FTS5 syntax (STYLE.md principle 4).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .. import systems
from ..errors import BadRequest

MAX_CHARS = 512  # a longer query is cut here: no code list or sentence needs more
MAX_TOKENS = 24  # words and codes kept from the query, in order

_FILTER = re.compile(r"(?<!\S)(system|billable)\s*:\s*(\S*)", re.IGNORECASE)
# Two code-shaped ends joined by a hyphen or an en dash: "E08-E13", "M25.50 - M25.579".
_RANGE = re.compile(r"(?<![\w.])([A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?)\s*[-\u2013]\s*"
                    r"([A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?)(?![\w.])")
_CODE = re.compile(r"[A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?")
_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")
_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off"}


@dataclass(frozen=True, slots=True)
class CodeTerm:
    """A token that may be a code or a code prefix: `raw` as typed, `compact` as matched."""

    raw: str
    compact: str


@dataclass(frozen=True, slots=True)
class Range:
    first: str  # compact
    last: str  # compact
    raw: str


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    words: tuple[str, ...] = ()  # lower-case, accents removed, in query order
    codes: tuple[CodeTerm, ...] = ()  # code candidates, in query order
    ranges: tuple[Range, ...] = ()
    systems: tuple[str, ...] = ()  # from `system:` filters
    billable: bool | None = None  # from a `billable:` filter
    partial: bool = False  # the last word may be unfinished (no trailing space): match it as a prefix
    truncated: bool = False
    all_words: tuple[str, ...] = field(default=())  # words with the code candidates as words, in query order

    @property
    def empty(self) -> bool:
        return not (self.words or self.codes or self.ranges)

    def as_dict(self) -> dict[str, object]:
        return {"words": list(self.words), "codes": [c.raw for c in self.codes],
                "ranges": [r.raw for r in self.ranges], "systems": list(self.systems),
                "billable": self.billable, "truncated": self.truncated}


def fold(text: str) -> str:
    """Lower case without accents: "Ménière" -> "meniere" (how words are matched everywhere)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(text: str) -> list[str]:
    """The word tokens of `text`, folded: letters and digits only ("athlete's" -> "athlete")."""
    return _WORD.findall(_POSSESSIVE.sub("", fold(text)))


def parse(text: str) -> Query:
    """Parse a query. Raises BadRequest only for a filter that cannot mean anything."""
    if not isinstance(text, str):
        raise BadRequest("the query must be text")
    truncated = len(text) > MAX_CHARS
    text = _clean(text[:MAX_CHARS])
    rest, wanted, billable = _filters(text)
    rest, ranges = _ranges(rest)
    codes: list[CodeTerm] = []
    out_words: list[str] = []
    all_words: list[str] = []
    for token in re.split(r"[\s,;]+", rest):
        token = token.strip("()[]{}<>\"'`")
        if _is_code_like(token):
            codes.append(CodeTerm(token.upper(), systems.compact(token)))
            all_words.append(systems.compact(token).lower())
        else:
            out_words.extend(words(token))
            all_words.extend(words(token))
    n = len(out_words) + len(codes) + len(ranges)
    if n > MAX_TOKENS:
        truncated = True
        out_words = out_words[:MAX_TOKENS]
        codes = codes[:MAX_TOKENS]
        all_words = all_words[:MAX_TOKENS]
    return Query(text=text.strip(), words=tuple(out_words), codes=tuple(codes), ranges=tuple(ranges),
                 systems=tuple(wanted), billable=billable, partial=bool(text) and not text[-1].isspace(),
                 truncated=truncated, all_words=tuple(all_words))


def _clean(text: str) -> str:
    # Control characters (and NUL) become spaces; nothing else is removed here.
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)


def _filters(text: str) -> tuple[str, list[str], bool | None]:
    wanted: list[str] = []
    billable: bool | None = None
    for m in _FILTER.finditer(text):
        key, value = m.group(1).lower(), m.group(2).strip(",;").lower()
        if key == "system":
            wanted.extend(system_id(v) for v in value.split(",") if v)
        elif value:
            billable = parse_bool(value)
    return _FILTER.sub(" ", text), list(dict.fromkeys(wanted)), billable


def system_id(value: str) -> str:
    """A system id from what a user may type: "hcpcs", "ICD-10-CM", "icd10_pcs", "drg"."""
    key = re.sub(r"[^a-z0-9]", "", value.lower())
    aliases = {"drg": "msdrg", "modifier": "hcpcsmod", "modifiers": "hcpcsmod", "hcpcsii": "hcpcs",
               "hcpcslevelii": "hcpcs", "icd10": "icd10cm", "icd9": "icd9cm"}
    key = aliases.get(key, key)
    for sid, info in systems.SYSTEMS.items():
        if key in (re.sub(r"[^a-z0-9]", "", sid), re.sub(r"[^a-z0-9]", "", info.name.lower())):
            return sid
    raise BadRequest(f"unknown code system {value[:40]!r}; known: {', '.join(systems.SYSTEMS)}")


def parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise BadRequest(f"billable: wants yes or no, got {value[:20]!r}")


def _ranges(text: str) -> tuple[str, list[Range]]:
    found: list[Range] = []

    def keep(m: re.Match[str]) -> str:
        a, b = systems.compact(m.group(1)), systems.compact(m.group(2))
        if min(len(a), len(b)) >= 3 and _is_code_like(a) and _is_code_like(b) and a[0].isdigit() == b[0].isdigit() \
                and a != b:
            found.append(Range(a, b, f"{m.group(1).upper()}-{m.group(2).upper()}"))
            return " "
        return m.group(0)

    return _RANGE.sub(keep, text), found


def _is_code_like(token: str) -> bool:
    """Whether a token has the shape of a code or a code prefix of some system.

    A digit is required (words like "back" or "knee" are never codes); letter-only codes
    such as HCPCS modifiers are found by the searcher's exact lookup of the words instead.
    """
    if not _CODE.fullmatch(token):
        return False
    c = systems.compact(token)
    if len(c) == 2:  # "S7": a chapter-sized prefix of ICD codes
        return c[0].isalpha() and c[1].isdigit()
    return 3 <= len(c) <= 7 and any(ch.isdigit() for ch in c) and (
        c[0].isdigit() or c[1:2].isdigit() or c[2:3].isdigit())
