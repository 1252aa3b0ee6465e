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
MAX_RANGES = 8  # each range is a count and a page of codes; more is not a question anyone asks

_FILTER = re.compile(r"(?<!\S)(system|billable)\s*:\s*(\S*)", re.IGNORECASE)
# Two code-shaped ends joined by a hyphen or an en dash: "E08-E13", "M25.50 - M25.579".
_RANGE = re.compile(r"(?<![\w.])([A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?)\s*[-\u2013]\s*"
                    r"([A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?)(?![\w.])")
_CODE = re.compile(r"[A-Za-z0-9]{1,7}(?:\.[A-Za-z0-9]{0,4})?")
_WORD = re.compile(r"[^\W_]+")
POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")
CONTRACTION = re.compile(r"(?<=\w)n['\u2019]t\b", re.IGNORECASE)  # "can't" is "cant", as the lexicon says it
# Units that make the number before them a dose, not a code
DOSE_UNITS = frozenset("mg mcg g gm gram grams kg ml cc l liter liters litre unit units iu meq mmol".split())
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
    systems: tuple[str, ...] = ()  # the systems in which both ends are code-shaped


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


class _Accents(dict[int, str | None]):
    """str.translate table that drops combining marks: each code point is looked up once (a
    generator over every character of every descriptor with a dash or an accent cost more than
    the rest of folding). Bounded: odd Unicode in queries must not grow it without end."""

    def __missing__(self, point: int) -> str | None:
        kept = None if unicodedata.combining(chr(point)) else chr(point)
        if len(self) < 8192:
            self[point] = kept
        return kept


_ACCENTS = _Accents()


def fold(text: str) -> str:
    """Lower case without accents: "Ménière" -> "meniere" (how words are matched everywhere)."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_ACCENTS).lower()


def words(text: str) -> list[str]:
    """The word tokens of `text`, folded: letters and digits only ("athlete's" -> "athlete")."""
    return _WORD.findall(POSSESSIVE.sub("", CONTRACTION.sub("nt", fold(text))))


def parse(text: str) -> Query:
    """Parse a query. Raises BadRequest only for a filter that cannot mean anything."""
    if not isinstance(text, str):
        raise BadRequest("the query must be text")
    truncated = len(text) > MAX_CHARS
    text = _clean(text[:MAX_CHARS])
    rest, wanted, billable = _filters(text)
    rest, codes = _numbered(rest)
    rest, ranges = _ranges(rest)
    out_words: list[str] = []
    all_words: list[str] = [c.compact.lower() for c in codes]
    seen: set[str] = {c.compact for c in codes}
    tokens = [t.strip("()[]{}<>\"'`") for t in re.split(r"[\s,;]+", rest)]
    for i, token in enumerate(tokens):
        dose = token.replace(".", "").isdigit() and i + 1 < len(tokens) and tokens[i + 1].lower() in DOSE_UNITS
        if _is_code_like(token) and not dose:  # "ceftriaxone 250 mg": 250 is no MS-DRG
            c = systems.compact(token)
            if c not in seen:  # "E11.9 e119 E11.9" is one code
                seen.add(c)
                codes.append(CodeTerm(token.upper(), c))
            all_words.append(c.lower())
        else:
            out_words.extend(words(token))
            all_words.extend(words(token))
    n = len(out_words) + len(codes) + len(ranges)
    if n > MAX_TOKENS or len(ranges) > MAX_RANGES:
        truncated = True
        out_words = out_words[:MAX_TOKENS]
        codes = codes[:MAX_TOKENS]
        all_words = all_words[:MAX_TOKENS]
        ranges = ranges[:MAX_RANGES]
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


# LOINC numbers ("2160-0") and NDCs ("0002-1433-80", "00002143380"): hyphenated or long digit runs that
# no other system's codes look like, taken out before ranges ("0002-1433" is no range) and matched in
# their canonical form (every NDC form is one 5-4-2 code).
_NUMBERED = re.compile(r"(?<![\w.-])([0-9]{3,7}-[0-9]|[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}|[0-9]{11})(?![\w.-])")


# Identifiers handed out in no meaningful order: a range of them says nothing ("001-999" is no RxNorm range).
_UNORDERED = frozenset({"loinc", "ndc", "rxnorm"})


def _numbered(text: str) -> tuple[str, list[CodeTerm]]:
    found: list[CodeTerm] = []

    def keep(m: re.Match[str]) -> str:
        typed = m.group(1)
        system = "loinc" if systems.looks_like("loinc", typed) else "ndc"
        term = CodeTerm(typed, systems.compact(systems.normalize(system, typed)))
        if term not in found:
            found.append(term)
        return " "

    return _NUMBERED.sub(keep, text), found


def _ranges(text: str) -> tuple[str, list[Range]]:
    found: dict[tuple[str, str], Range] = {}

    def keep(m: re.Match[str]) -> str:
        a, b = (_range_end(m.group(i)) for i in (1, 2))
        shaped = range_systems(m.group(1), m.group(2))
        if not shaped:  # "a-z", "covid-19", "t2-t4": not two codes of one system
            return m.group(0)
        if (a, b) not in found:  # a range typed 50 times is one range
            found[(a, b)] = Range(a, b, f"{m.group(1).upper()}-{m.group(2).upper()}", shaped)
        return " "

    return _RANGE.sub(keep, text), list(found.values())


def _range_end(typed: str) -> str:
    c = systems.compact(typed)
    return c.zfill(3) if c.isdigit() and len(c) < 3 else c  # MS-DRGs are written "1" as well as "001"


def range_systems(first: str, last: str) -> tuple[str, ...]:
    """The systems in which both typed ends have the shape of one of its codes: "E08-E13" ICD-10-CM,
    "001-999" ICD-9-CM and MS-DRG, "A0021-A0999" HCPCS and ICD-10-CM (the searcher keeps the
    system whose codes they are). Ends are at least three characters, except a DRG number up to a
    three-digit one ("1-999"; "stage 3-4" is words)."""
    if max(len(first), len(last)) < 3:
        return ()
    return tuple(s for s in systems.SYSTEMS if s not in _UNORDERED and _fits(s, first) and _fits(s, last))


def _fits(system: str, typed: str) -> bool:
    c = _range_end(typed) if system == "msdrg" else systems.compact(typed)
    info = systems.SYSTEMS[system]
    if len(c) < 3 or not info.pattern.fullmatch(c):
        return False
    if "." in typed:  # the dot where this system writes it: "00.1" is ICD-9 Vol. 3, "250.0" ICD-9-CM
        return info.dotted(c) == typed.strip().upper()
    # Undotted digits are ICD-9-CM diagnoses or DRGs; ICD-9 procedures are written with their dot.
    return system != "icd9pcs"


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
