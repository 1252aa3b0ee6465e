"""Code mentions in policy documents: which codes a policy cites and what it says about each.

The rules, each a named function with its own tests:

- tokens.py: `candidates()` (code-shaped tokens and ranges), `shapes()` (telling or weak shape),
  `is_lookalike()` (dates, phones, doses, identifiers), `cue_before()` / `cue_after()`,
  `in_parentheses()`, `is_code_list()`.
- `context_systems()`: where a weak token (five digits, an undotted ICD-10-CM code, seven digits)
  counts as a code: under a heading, label or table header that speaks of CPT / HCPCS / ICD-10 codes,
  in a row whose first cell names the system, or in a list with a code whose shape is telling.
- sections.py: `classify()` covered / not_covered / investigational for a clause, label or heading;
  `section_for()` here picks the nearest one that says something (a row's status column, the clause,
  the label, the headings inside out), else "coding" in a coding context, else "mentioned".

Every token is then checked against the catalog (`CodeChecker`): a system the catalog holds must
hold the code; CPT (licensed) and HCPCS (an optional source), when the catalog holds none of their
codes, keep a code by its shape and context, marked unvalidated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from .. import systems
from .records import COVERAGE_SECTIONS, HISTORY, Block, Document, Mention
from .sections import (
    INVESTIGATIONAL,
    NOT_COVERED,
    classify,
    clause_at,
    excepted,
    is_billing_denial,
    is_coding,
    is_history_heading,
    is_history_table,
    is_removal,
    opposite,
    sentence_at,
    status_cell,
    without_parentheses,
)
from .tokens import (
    CODE_LED,
    Candidate,
    candidates,
    cue_after,
    cue_before,
    in_parentheses,
    is_code_list,
    is_lookalike,
    shapes,
)

EXTRACTOR_VERSION = "1"
SNIPPET_CHARS = 280


class CodeChecker(Protocol):
    def loaded(self, system: str) -> bool:
        """Whether the catalog holds codes of this system at all."""

    def resolve(self, system: str, code: str) -> str | None:
        """The canonical code if the catalog holds it."""


# -- context -------------------------------------------------------------------------------
_PCS_CUE = re.compile(r"\bicd-?10-?pcs\b|\bicd-?10 procedures?\b|\bpcs\b|\binpatient procedure", re.IGNORECASE)
_SYSTEM_CUES: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = (
    (re.compile(r"\bicd-?10(?:-?cm)?\b|\bicd\b|\bdiagnos[ie]s\b|\bdiagnosis codes?\b|\bdx\b", re.I),
     frozenset({"icd10cm"})),
    (re.compile(r"\bcpt\b|\bprocedure codes?\b|\bcategory (?:i|ii|iii)\b|\bpla\b", re.I), frozenset({"cpt", "hcpcs"})),
    (re.compile(r"\bhcpcs\b|\bj-?codes?\b|\bdrug codes?\b|\bsupply codes?\b", re.I), frozenset({"hcpcs", "cpt"})),
    (re.compile(r"\bcodes?\b|\bcoding\b|\bcode\(s\)", re.I), frozenset({"*"})),
)
_REFERENCES = re.compile(r"^\s*(?:[0-9IVX]+[.)]\s*)?(?:references?|bibliography|citations?|sources|works cited|"
                         r"literature(?: cited)?|evidence (?:table|review)|selected references)\b", re.I)
_CODE_CELL_REST = re.compile(r"[\s,;/&+*.\-\u2013\u2014]|\band\b|\bor\b|\bthrough\b|\bto\b", re.I)


def context_systems(texts: Iterable[str]) -> set[str]:
    """Systems the given headings / labels / table headers speak of; "*" for codes of any system."""
    out: set[str] = set()
    for text in texts:
        if not text:
            continue
        if _PCS_CUE.search(text):
            out.add("icd10pcs")
            text = _PCS_CUE.sub(" ", text)
        for pattern, found in _SYSTEM_CUES:
            if pattern.search(text):
                out |= found
    return out


# A label that only names a system ("CPT", "ICD-10 Diagnosis") sits under the label that says what is covered.
_SYSTEM_LABEL = re.compile(r"(?:cpt®?|hcpcs|icd-?10(?:-?cm|-?pcs)?|cpt/hcpcs)(?:\s+(?:diagnosis|procedure|procedures|"
                           r"diagnoses))?(?:\s+codes?)?|(?:diagnosis|procedure)\s+codes?", re.I)


# Medicare billing articles: "Group 2 Paragraph: <what the group is>" then "Group 2 Codes:" and its table.
_GROUP_PARAGRAPH = re.compile(r"^\s*group\s+(\w+)\s+paragraph\s*:?\s*", re.I)
_GROUP_CODES = re.compile(r"^\s*group\s+(\w+)\s+codes?\s*:?\s*$", re.I)


@dataclass
class _State:
    headings: list[tuple[int, str]] = field(default_factory=list)
    label: str | None = None
    sublabel: str | None = None
    group: tuple[str, str] | None = None  # (group number, what its paragraph says about the group's codes)
    history_level: int | None = None  # under a "Revision History" heading of this level

    def update(self, block: Block) -> None:
        if block.kind == "heading":
            while self.headings and self.headings[-1][0] >= block.level:
                self.headings.pop()
            self.headings.append((block.level, block.text))
            self.label = self.sublabel = None
            self.group = None
            if self.history_level is not None and block.level <= self.history_level:
                self.history_level = None
            if is_history_heading(block.text):
                self.history_level = block.level
        elif block.kind in ("para", "label") and _GROUP_PARAGRAPH.match(block.text):
            # The paragraph says what its group's codes are; the "Group N Codes:" table comes after it.
            m = _GROUP_PARAGRAPH.match(block.text)
            assert m is not None
            self.group = (m.group(1).lower(), block.text[m.end():].strip())
            self.label = self.sublabel = None
        elif block.kind == "para" and not CODE_LED.match(block.text) and not block.text[:1].islower():
            # A label heads the list or table under it; prose after that list is out of its reach
            # (a line starting in lower case is the end of a wrapped table cell, not prose).
            self.label = self.sublabel = None
        elif block.kind in ("label", "caption"):
            text = block.text.rstrip(":").strip()
            codes = _GROUP_CODES.match(text)
            if codes and self.group and self.group[0] == codes.group(1).lower() and classify(self.group[1]):
                self.label, self.sublabel = self.group[1], None
            # only inside a table: "CPT" / "ICD-10 Diagnosis" rows under a "When services are ..." label
            elif block.level == 1 and _SYSTEM_LABEL.fullmatch(text) and self.label and classify(self.label):
                self.sublabel = text
            else:
                self.label, self.sublabel = text, None

    def chain(self) -> list[str]:
        """Innermost first: the labels, then the headings from the nearest out."""
        inner = [t for t in (self.sublabel, self.label) if t]
        return inner + [t for _, t in reversed(self.headings)]

    @property
    def in_history(self) -> bool:
        return self.history_level is not None

    @property
    def in_references(self) -> bool:
        return any(_REFERENCES.match(t) and len(t) < 60 for _, t in self.headings) or bool(
            self.label and _REFERENCES.match(self.label) and len(self.label) < 60)


@dataclass(frozen=True, slots=True)
class Found:
    system: str
    code: str
    last: str | None
    strong: bool
    validated: bool
    seventh: str | None


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a block sits: its label/heading chain, whether under References, what the document is about."""

    chain: list[str]
    in_references: bool
    in_history: bool  # under a revision-history heading: what it names is the policy's past, not its coverage
    cpt_document: bool  # the document speaks of CPT codes somewhere: "(43290)" after a procedure is one
    icd_document: bool  # ... of ICD-10 codes: "multiple sclerosis (G35)"
    checker: CodeChecker


_CPT_WORD = re.compile(r"\bCPT(?![a-z])|\b(?i:codes?)\b")
_ICD_WORD = re.compile(r"\bICD-?10|\b[A-TV-Z][0-9][0-9A-Z]\.[0-9A-Z]|\b(?i:diagnosis codes?)\b")


def extract(doc: Document, checker: CodeChecker) -> list[Mention]:
    """Every code mention of the document, in reading order, each with its section and snippet."""
    state = _State()
    out: list[Mention] = []
    cpt_document = bool(_CPT_WORD.search(doc.text))
    icd_document = bool(_ICD_WORD.search(doc.text))
    pending: list[int] = []  # mentions in a heading wait for what its section says first
    for block in doc.blocks:
        state.update(block)
        where = _Where(state.chain(), state.in_references, state.in_history, cpt_document, icd_document, checker)
        if block.kind == "heading":
            pending = []
        found = list(block_mentions(block, where))
        if block.kind == "heading":
            pending = [i for i in range(len(out), len(out) + len(found)) if found[i - len(out)].section
                       not in COVERAGE_SECTIONS]
        elif pending and block.kind in ("label", "para", "item") and not where.in_history:
            said = classify(block.text)
            if said:
                for i in pending:
                    out[i] = replace(out[i], section=said)
                pending = []
        out.extend(found)
    return out


def block_mentions(block: Block, where: _Where) -> Iterator[Mention]:
    text, chain = block.text, where.chain
    found = [(c, _interpret(c, text, block, where)) for c in candidates(text)]
    found = _propagate(text, found, block, where)
    history = where.in_history or (block.kind == "row" and is_history_table(block.header))
    exceptions = excepted(text, [c for c, h in found if h is not None]) | _exception_column(block, found)
    for cand, hit in found:
        if hit is None:
            continue
        if history or is_removal(text, cand.start, cand.end):
            section = HISTORY
        elif cand in exceptions:
            # "K50.- and K51.-, except K51.90": the excepted code gets the opposite of what the list gets
            section = opposite(section_for(block, chain, *exceptions[cand]))
        else:
            section = section_for(block, chain, cand.start, cand.end)
        # "*" or "+" widens an ICD-10-CM code; after a CPT, HCPCS or PCS code it is a footnote mark
        yield Mention(hit.system, hit.code, hit.last, cand.subtree and hit.system == "icd10cm", section,
                      snippet(block, chain, cand, hit.system), text[cand.start:cand.end], hit.validated, hit.seventh)


def _interpret(cand: Candidate, text: str, block: Block, where: _Where, *,
               run_has_strong: frozenset[str] = frozenset()) -> Found | None:
    """The one reading of a candidate that survives the shape, lookalike, context and catalog checks."""
    if is_lookalike(text, cand.start, cand.end):
        return None
    local_cue = cue_before(text, cand.start) or cue_after(text, cand.end) or (
        where.in_history and bool(_HISTORY_CUE.search(text[max(0, cand.start - 40):cand.start])))
    if where.in_references and not local_cue:
        return None
    if _in_identifier_column(block, cand):
        return None
    ctx = _block_context(block, where.chain)
    readings = []
    for system, code, strong in shapes(cand.a):
        strong = strong or (cand.wildcard and system == "icd10cm")
        hit = check_code(system, code, cand.b, strong, where.checker)
        if hit is None:
            continue
        in_ctx = system in ctx or "*" in ctx or system in run_has_strong
        cited = ((system == "cpt" and where.cpt_document) or (system == "icd10cm" and where.icd_document)) \
            and in_parentheses(text, cand)
        if not hit.strong and not (local_cue or cited or (in_ctx and _plausible_position(block, cand))):
            continue
        readings.append((in_ctx and system in ctx, hit.validated, hit.strong, _PREFERENCE[system], hit))
    if not readings:
        return None
    readings.sort(key=lambda r: (not r[0], not r[1], not r[2], r[3]))
    return readings[0][4]


_PREFERENCE = {"icd10cm": 0, "hcpcs": 1, "icd10pcs": 2, "cpt": 3}
# Codes that share a list: procedures with procedures, diagnoses with diagnoses.
_FAMILY = {"cpt": frozenset({"cpt", "hcpcs"}), "hcpcs": frozenset({"cpt", "hcpcs"}),
           "icd10cm": frozenset({"icd10cm"}), "icd10pcs": frozenset({"icd10pcs"})}


def check_code(system: str, code: str, last_raw: str | None, strong: bool,
               checker: CodeChecker) -> Found | None:
    loaded = checker.loaded(system)
    if not loaded:
        # CPT (licensed) and HCPCS (an optional source) may stand without the catalog, by shape and context;
        # only a CPT shape that no other text has ("0275T") is telling on its own.
        if system not in ("cpt", "hcpcs"):
            return None
        strong = strong and system == "cpt"
        last = None
        if last_raw is not None:
            last_c = [c for s, c, _ in shapes(last_raw) if s == system]
            if not last_c:
                return None
            last = last_c[0]
        return Found(system, code, last, strong, False, None)
    first = resolve_endpoint(checker, system, code)
    if first is None:
        return None
    last = None
    seventh = None
    if last_raw is not None:
        last_c = [c for s, c, _ in shapes(last_raw) if s == system]
        last = resolve_endpoint(checker, system, last_c[0]) if last_c else None
        if last is None:
            return None
        seventh = _shared_seventh(system, code, last_c[0])
    # A code the catalog holds is telling even when its shape is not, unless it is all digits.
    telling = strong or (system in ("hcpcs", "icd10pcs") and not code.isdigit())
    return Found(system, first, last, telling, True, seventh)


def resolve_endpoint(checker: CodeChecker, system: str, code: str) -> str | None:
    """The code, or for ICD-10-CM the nearest code above it ("S42.00XA" -> "S42.00") when the
    written code has placeholders or a 7th character the catalog does not hold as such."""
    found = checker.resolve(system, code)
    if found or system != "icd10cm":
        return found
    compact = systems.compact(code)
    if "X" not in compact[3:] and not (len(compact) == 7 and compact[-1].isalpha()):
        return None  # "A57178" is not A57: only placeholders and 7th characters are trimmed
    while len(compact) > 3:
        compact = compact[:-1]
        if compact.endswith("X"):
            continue
        found = checker.resolve(system, compact)
        if found:
            return found
    return None


def _shared_seventh(system: str, first: str, last: str) -> str | None:
    a, b = systems.compact(first), systems.compact(last)
    if system == "icd10cm" and len(a) == len(b) == 7 and a[-1] == b[-1] and a[-1].isalpha():
        return a[-1]
    return None


def _block_context(block: Block, chain: list[str]) -> set[str]:
    texts = list(chain[:3]) + list(block.header)
    if block.kind == "row" and block.cells and not candidates(block.cells[0]):
        texts.append(block.cells[0])  # "CPT | 22612 | ...", "ICD-10 Diagnosis | M41.00-M41.9 | ..."
    return context_systems(texts)


# "Removed 72149 (...)" in a revision history: the verb says a code follows.
_HISTORY_CUE = re.compile(r"\b(?:removed|deleted|added|replaced|revised)\b[^.;]{0,30}$", re.I)
# A table column or row label that holds numbers which are not codes: "Contract Number | 05102".
_IDENTIFIER_LABEL = re.compile(r"\b(?:contract|zip|postal|phone|fax|telephone|tin|npi|account|jurisdiction|box|"
                               r"address|suite|agreement|license|tax id|(?:group|member|plan|policy|provider|vendor)"
                               r"\s+(?:number|no\.?|id|#))\b", re.I)
_CODE_LABEL = re.compile(r"\bcodes?\b|\bcpt\b|\bhcpcs\b|\bicd", re.I)


_EXCEPTION_HEADER = re.compile(r"\bexcept|\bexclu", re.I)


def _exception_column(block: Block, found: list[tuple[Candidate, Found | None]]) -> dict[Candidate, tuple[int, int]]:
    """"Codes | Exceptions" tables: the codes in the exceptions column are taken out of the row's codes."""
    if block.kind != "row" or not any(_EXCEPTION_HEADER.search(h) for h in block.header):
        return {}
    cells = [(c, _cell_at(block, c.start)) for c, h in found if h is not None]
    listed = [c for c, i in cells if i is not None and i < len(block.header)
              and not _EXCEPTION_HEADER.search(block.header[i])]
    if not listed:
        return {}
    anchor = (listed[0].start, listed[0].end)
    return {c: anchor for c, i in cells if i is not None and i < len(block.header)
            and _EXCEPTION_HEADER.search(block.header[i])}


def _in_identifier_column(block: Block, cand: Candidate) -> bool:
    """Whether the token sits in a table cell whose column header (or row label) names an identifier."""
    if block.kind != "row" or not cand.a.isdigit():
        return False
    i = _cell_at(block, cand.start)
    if i is None:
        return False
    labels = [block.header[i]] if i < len(block.header) else []
    if not block.header and i > 0 and not candidates(block.cells[0]):
        labels.append(block.cells[0])  # "<th>Contract Number</th><td>04412</td>"
    return any(_IDENTIFIER_LABEL.search(t) and not _CODE_LABEL.search(t) for t in labels)


def _cell_at(block: Block, pos: int) -> int | None:
    offset = 0
    for i, cell in enumerate(block.cells):
        if not cell:
            continue
        idx = block.text.find(cell, offset)
        if idx < 0:
            continue
        if idx <= pos < idx + len(cell):
            return i
        offset = idx + len(cell)
    return None


def _plausible_position(block: Block, cand: Candidate) -> bool:
    """In a table, a weak token counts only in a code cell, not inside a description."""
    if block.kind != "row":
        return True
    offset = 0
    for cell in block.cells:
        if not cell:
            continue
        idx = block.text.find(cell, offset)
        if idx <= cand.start < idx + len(cell):
            return _is_code_cell(cell)
        offset = idx + len(cell) if idx >= 0 else offset
    return False


def _is_code_cell(cell: str) -> bool:
    found = candidates(cell)
    if not found:
        return False
    if found[0].start <= 2:
        return True
    rest = cell
    for c in reversed(found):
        rest = rest[:c.start] + rest[c.end:]
    return len(_CODE_CELL_REST.sub("", rest)) <= 4


def _propagate(text: str, found: list[tuple[Candidate, Found | None]], block: Block,
               where: _Where) -> list[tuple[Candidate, Found | None]]:
    """A weak token in a list with a telling code of the same family ("0275T, 22612") is a code too; so is
    every token of a list of three or more codes, or of two with a range ("CT scans: 70450-70498, 71250-71275"),
    unless the list opens with a lookalike ("ZIP codes 55401, 55402, 55403")."""
    out = list(found)
    for run in _runs(text, [c for c, _ in found]):
        strong = frozenset(s for c, h in out if c in run and h is not None and h.strong for s in _FAMILY[h.system])
        first = min(run, key=lambda c: c.start)
        if is_lookalike(text, first.start, first.end):
            # "group numbers 40012 and 40013": what the first number is, the ones listed with it are too
            out = [(c, None if c in run and h is not None and not h.strong else h) for c, h in out]
            continue
        listed = len(run) >= 3 or any(c.b for c in run) or is_code_list(text)
        if listed and not is_lookalike(text, first.start, first.end):
            strong |= {s for c in run for system, _, _ in shapes(c.a) for s in _FAMILY[system]}
        if not strong:
            continue
        for i, (cand, hit) in enumerate(out):
            if cand in run and hit is None:
                again = _interpret(cand, text, block, where, run_has_strong=strong)
                out[i] = (cand, again)
    return out


_LIST_GAP = re.compile(r"^[\s,;/&]*(?:(?:and/or|and|or)\b)?[\s,;/&]*$", re.I)


def _runs(text: str, cands: list[Candidate]) -> list[set[Candidate]]:
    runs: list[set[Candidate]] = []
    if len(cands) == 1 and cands[0].b and is_code_list(text):
        return [set(cands)]  # a line holding one range and nothing else is a list of its own
    current: set[Candidate] = set()
    prev: Candidate | None = None
    for c in cands:
        if prev is not None and _LIST_GAP.match(text[prev.end:c.start]):
            current.add(c)
        else:
            if len(current) > 1:
                runs.append(current)
            current = {c}
        prev = c
    if len(current) > 1:
        runs.append(current)
    return runs


_POINTER = re.compile(r"^\W*(?:see|refer to|use|report|bill)\b", re.I)


def section_for(block: Block, chain: list[str], start: int, end: int) -> str:
    """What the policy says about the code at block.text[start:end]: the nearest statement wins."""
    if block.kind == "row":
        status = status_cell(block.header, block.cells)
        if status:
            return status
        # A description may say "covered" in passing; only a denial or E/I in the row is a statement.
        rest = " ".join(c for c in block.cells if not _is_code_cell(c))
        if len(rest) < 400 and (NOT_COVERED.search(rest) or INVESTIGATIONAL.search(rest)):
            return classify(rest) or "coding"
    else:
        lo, hi = clause_at(block.text, start, end)
        found = _clause_class(block.text, lo, hi, start, end)
        if found == "not_covered" and is_billing_denial(block.text[lo:hi]):
            # "claims for J3490 without an NDC will be denied": a billing instruction, not a coverage call
            found = None
        elif found == "not_covered":
            # "... are not eligible for X; these are considered investigational": the sentence's stronger word
            slo, shi = sentence_at(block.text, start, end)
            found = classify(block.text[slo:shi]) or found
        if found is None and _POINTER.match(block.text[lo:hi]):
            # "Revision is covered when ...; see code 43848": the pointer takes the sentence's word
            slo, shi = sentence_at(block.text, start, end)
            found = classify(block.text[slo:shi])
        if found:
            return found
    for text in chain:
        found = classify(text)
        if found:
            return found
    code_led = block.kind in ("row", "item") and start <= 3
    if any(is_coding(t) for t in [*chain, *block.header]) or (code_led and is_coding(block.text)):
        return "coding"
    if block.kind != "row":
        lo, hi = clause_at(block.text, start, end)
        if is_coding(block.text[lo:hi]) or is_code_list(block.text):  # "codes ... must be billed with modifier GP"
            return "coding"
    return "mentioned"


def _clause_class(text: str, lo: int, hi: int, start: int, end: int) -> str | None:
    """What a clause says about the code at text[start:end]: a parenthetical holding the code speaks for it
    first ("(M84.3- stress fracture excluded)"); any other parenthetical that names a code speaks for
    nothing outside it."""
    clause = text[lo:hi]
    found = classify(clause)
    if found is None or "(" not in clause:
        return found
    open_ = text.rfind("(", lo, start)
    if open_ >= 0 and ")" not in text[open_:start]:
        close = text.find(")", end, hi)
        if close >= 0:
            inner = classify(text[open_ + 1:close])
            if inner:
                return inner
    stripped = without_parentheses(clause)
    return found if stripped == clause else classify(stripped)


# -- snippets ------------------------------------------------------------------------------
_WS = re.compile(r"\s+")


def snippet(block: Block, chain: list[str], cand: Candidate, system: str) -> str:
    """The words around a mention; for a CPT code in a table or a code list, never its descriptor."""
    label = chain[0] if chain else ""
    text = block.text
    code_led = block.kind in ("item", "row") and cand.start <= 2
    if block.kind == "row" or code_led:
        if system == "cpt":
            body = text[cand.start:cand.end]
        else:
            body = text
        return _trim(f"{label}: {body}" if label else body, 0, 0)
    lo, hi = sentence_at(text, cand.start, cand.end)
    return _trim(text[lo:hi], cand.start - lo, cand.end - lo)


def _trim(text: str, start: int, end: int) -> str:
    text = _WS.sub(" ", text).strip()
    if len(text) <= SNIPPET_CHARS:
        return text
    centre = (start + end) // 2
    lo = max(0, min(centre - SNIPPET_CHARS // 2, len(text) - SNIPPET_CHARS))
    cut = text[lo:lo + SNIPPET_CHARS]
    return ("…" if lo > 0 else "") + cut.strip() + ("…" if lo + SNIPPET_CHARS < len(text) else "")


# -- summaries -----------------------------------------------------------------------------
SECTION_RANK = {"not_covered": 0, "investigational": 0, "covered": 0, "coding": 1, "mentioned": 2, HISTORY: 3}


def primary(mentions: Sequence[Mention]) -> Mention:
    """The mention that says most about a code: the first coverage statement, else the first mention."""
    return min(enumerate(mentions), key=lambda im: (SECTION_RANK[im[1].section], im[0]))[1]
