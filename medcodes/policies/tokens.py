"""Code-shaped tokens in policy text, and what around them says they are codes or something else.

- `candidates()`: tokens and ranges ("22200-22226", "M41.00 - M41.9", "E08.00–E13.9", "E11.-", Aetna's
  "S42.001+") with boundaries that keep dates, phone numbers, decimals, ZIP+4 and NDC numbers whole.
- `shapes()`: the systems a token could be a code of, and whether its shape alone is telling.
- `is_lookalike()`: what around a number makes it something else ("Policy No. 20345", "MN 55401",
  "50000 units", "$12500", "55121-1234").
- `cue_before()` / `cue_after()`: a code word next to it ("CPT 22612", "37718  CPT").
- `in_parentheses()` / `is_code_list()`: "(43290)" after a procedure; a line of nothing but codes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .. import systems

_TOK = r"[0-9A-Z][0-9A-Zx]{2,6}(?:\.[0-9A-Zx]{1,4})?"
# "E11.-", "E11.*", "S42.001+", "O24.4-": the code with everything under it (never the dash of a range)
_SUF = r"(?:\.-|\.\*|\*|\+|-(?=[\s,;.)\]]|$))"
_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z.\-/$#@_&=])(?P<a>{_TOK})(?P<asuf>{_SUF})?"
    rf"(?:(?P<sep>\s*[-\u2010\u2011\u2012\u2013\u2014]\s*|\s+(?:to|through|thru)\s+)"
    rf"(?P<b>{_TOK})(?P<bsuf>{_SUF})?)?(?![0-9A-Za-z@_])"
)


_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Candidate:
    start: int
    end: int
    a: str
    b: str | None
    subtree: bool
    wildcard: bool = False  # ".-" or ".*": only ICD-10-CM is written so, which makes the shape telling


@functools.lru_cache(maxsize=8192)
def candidates(text: str) -> tuple[Candidate, ...]:
    """Code-shaped tokens and ranges in reading order (not yet checked for anything)."""
    out = []
    # URLs and e-mail addresses hold path segments and numbers that are never codes
    masked = _URL.sub(lambda m: " " * len(m.group()), text)
    for m in _CANDIDATE.finditer(masked):
        a, b = m.group("a"), m.group("b")
        if b is not None and not (_shape_ok(a) and _shape_ok(b) and _same_kind(a, b)):
            # "55121-1234", "F18-FDG": not a range; the first token alone, with what follows it
            end = m.start("a") + len(a) + len(m.group("asuf") or "")
            out.append(Candidate(m.start("a"), end, a, None, bool(m.group("asuf")), _wild(m.group("asuf"))))
            continue
        out.append(Candidate(m.start("a"), m.end(), a, b, bool(m.group("asuf") or m.group("bsuf")),
                             _wild(m.group("asuf")) or _wild(m.group("bsuf"))))
    return tuple(c for c in out if _shape_ok(c.a))


def _wild(suffix: str | None) -> bool:
    return suffix in (".-", ".*")


def _shape_ok(token: str) -> bool:
    return bool(shapes(token))


def _same_kind(a: str, b: str) -> bool:
    return bool({s for s, _, _ in shapes(a)} & {s for s, _, _ in shapes(b)})


# -- shapes ------------------------------------------------------------------------------
_ICD_CM = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
_HCPCS = re.compile(r"[A-CEGHJ-MP-V][0-9]{4}")  # no D (dental CDT codes), F, I, N, O
_CPT = re.compile(r"[0-9]{4}[0-9AFMTU]")
_PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")


def shapes(token: str) -> list[tuple[str, str, bool]]:
    """(system, canonical code, telling shape) for each system the token could be a code of."""
    dotted = "." in token
    if dotted and token.index(".") != 3:
        return []
    if "x" in token and (not dotted or "x" in token[:4]):
        return []  # a lower-case x is only an ICD-10-CM placeholder after the dot ("S42.00xA")
    c = token.replace(".", "").upper()
    if not any(ch.isdigit() for ch in c):
        return []
    out: list[tuple[str, str, bool]] = []
    if _ICD_CM.fullmatch(c):
        out.append(("icd10cm", systems.normalize("icd10cm", c), dotted))
    if dotted:
        return out
    if _HCPCS.fullmatch(c):
        out.append(("hcpcs", c, True))
    if _CPT.fullmatch(c):
        out.append(("cpt", c, c[-1].isalpha()))
    if _PCS.fullmatch(c):
        out.append(("icd10pcs", c, any(ch.isalpha() for ch in c)))
    return out


# -- lookalikes ----------------------------------------------------------------------------
_STATES = ("AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY "
           "NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY").split()
_PRE_WORDS = (
    r"policy|pol|no|nos|number|num|page|pages|pp|p|vol|volume|issue|phone|tel|telephone|fax|call|zip|zip code|"
    r"postal code|zip codes|postal codes|suite|ste|box|pmid|pmcid|doi|nct|ref|reference|version|ver|v|rev|"
    r"revision|release|rel|form|"
    r"document|doc|id|contract|grant|case|claim|member|group|bulletin|transmittal|order|model|lot|serial|"
    r"catalog|item|account|acct|npi|tin|ndc|ext|extension|room|building|bldg|highway|route|fig|figure|"
    r"table|chapter|section|sect|article|lcd|ncd|cpb|mp|docket|appendix|attachment|exhibit|fy|cy|rate|ratio|"
    r"score|n|numbers|nos|agreement|vendor|tty|contracts|accounts|members?\s+id|ids|cr|change request|"
    r"pub|publication|tdl|jsm|ptan|ccn|oscar|ein|fein|ssa|bin|pcn"
)
_PRE_REJECT = re.compile(rf"(?:\b(?:{_PRE_WORDS})\.?\s*(?:#|no\.?|number|:)?\s*[:#=]?\s*(?:\|\s*)?$|[$€£#§]\s*$)",
                         re.IGNORECASE)
# "Eagan, MN 55121": a state after a place name, not "22612 OR 22614"
_PRE_STATE = re.compile(rf"[a-z],?\s+(?:{'|'.join(_STATES)})\s+$")
_POST_REJECT = re.compile(
    r"^(?:\s*(?:mg|mcg|µg|μg|ug|gm|grams?|kg|lbs?|ml|cc|units?|iu|meq|mmol|nmol|%|percent|patients?|"
    r"participants?|subjects?|members?|enrollees|people|persons|individuals|beneficiaries|lives|cases|"
    r"visits|claims|days?|weeks?|months?|years?|yrs?|hours?|hrs?|minutes?|mins?|seconds?|times|dollars|usd|"
    r"cells|copies|hz|mhz|mm|cm|km|miles?|feet|ft|inches|oz|kcal|calories|steps|tablets?|capsules?|doses?|"
    r"vials?|mmhg|mm hg|sq|square|residents|employees|providers|physicians|hospitals|respondents|women|men|"
    r"children|adults|infants|babies|births|deaths|procedures performed|pages|words|characters)\b"
    r"|-[0-9]{3,}|-[A-Za-z]{3,}|-[a-z]|:[0-9]|,[0-9]{3}\b|\.[0-9])",
    re.IGNORECASE,
)
_NOT_A_CODE_WORD = r"(?<!postal )(?<!zip )(?<!area )(?<!country )(?<!access )(?<!security )(?<!promo )(?<!reason )"
_CUE = re.compile(_NOT_A_CODE_WORD + r"(?:\b(?:cpt|hcpcs|icd-?10(?:-?(?:cm|pcs))?|icd|codes?|code\(s\)|diagnos[ie]s|dx|"
                  r"procedures? codes?|bill(?:ed|ing)?|report(?:ed|ing|s)?|submit(?:ted)?|modifier|category iii|"
                  r"units? of)\b[®™]?"
                  r"(?:[^.;!?]|\.(?=\S)){0,60}$)", re.IGNORECASE)
_CUE_NEAR = re.compile(_NOT_A_CODE_WORD + r"(?:\b(?:cpt|hcpcs|icd-?10(?:-?(?:cm|pcs))?|icd|codes?|code\(s\))[®™]?"
                       r"\s*(?:codes?|#|:)?\s*(?:\(\s*)?$)", re.IGNORECASE)


# "43120 Market Street": a street number (the street's name and kind capitalised, as addresses are written)
_STREET = re.compile(r"^\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'.]*\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|"
                     r"Boulevard|Blvd|Parkway|Pkwy|Lane|Ln|Way|Court|Ct|Place|Pl|Plaza|Circle|Cir|Highway|Hwy|"
                     r"Terrace|Trail|Square|Pike|Turnpike|Freeway|Expressway)\b")


def is_lookalike(text: str, start: int, end: int) -> bool:
    """Whether what surrounds text[start:end] shows it is a date, number, address, dose, identifier..."""
    pre, post = text[max(0, start - 40):start], text[end:end + 60]
    if _POST_REJECT.match(post) or (text[start:end].isdigit() and _STREET.match(post)):
        return True
    if _CUE_NEAR.search(pre):
        return False  # "CPT 55401", "code: 20345": the cue right before wins over any word further back
    return bool(_PRE_REJECT.search(pre) or _PRE_STATE.search(pre))


def cue_before(text: str, start: int) -> bool:
    """A code word earlier in the same clause: "CPT", "ICD-10 codes", "diagnosis", "billed with"."""
    return bool(_CUE.search(text[max(0, start - 90):start]))


_CUE_AFTER = re.compile(r"^[\w\s,]{0,40}?\(?\s*(?:cpt|hcpcs|codes?)\b", re.IGNORECASE)


def cue_after(text: str, end: int) -> bool:
    """A system named right after the code: "37718     CPT", "36465 is reviewed (CPT code)"."""
    return bool(_CUE_AFTER.match(text[end:end + 60]))


CODE_AT = re.compile(r"\W{0,3}(?:[A-Z][0-9][0-9A-Z](?:\.[0-9A-Zx]{1,4})?|[0-9]{4}[0-9AFMTU]|[A-Z][0-9]{4}|"
                      r"[0-9A-HJ-NP-Z]{7})\b")
CODE_LED = re.compile("^" + CODE_AT.pattern)

PAREN_REST = re.compile(r"[\s,;/&.\-\u2013]|\b(?:and|or|e\.?g|i\.?e|eg|ie|see)\b", re.I)


def in_parentheses(text: str, cand: Candidate) -> bool:
    """Whether the token stands in parentheses with nothing but other codes: "gastric balloon (43290)"."""
    open_ = text.rfind("(", 0, cand.start)
    close = text.find(")", cand.end)
    if open_ < 0 or close < 0 or ")" in text[open_:cand.start] or "(" in text[cand.end:close]:
        return False
    inside = text[open_ + 1:close]
    for c in reversed(candidates(inside)):
        inside = inside[:c.start] + inside[c.end:]
    return not PAREN_REST.sub("", inside)


_LIST_LABEL = re.compile(r"^[A-Za-z][\w /&()-]{0,40}:\s*")


def is_code_list(text: str) -> bool:
    """A line that is nothing but codes after a short label, with a range or two codes: "PET scans: 78811-78816"."""
    rest = _LIST_LABEL.sub("", text, count=1)
    found = candidates(rest)
    if not found or not (len(found) >= 2 or found[0].b):
        return False
    for c in reversed(found):
        rest = rest[:c.start] + rest[c.end:]
    return not PAREN_REST.sub("", rest)
