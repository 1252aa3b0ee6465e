"""Lexical retrieval and ranking: FTS5 expressions from query groups, re-scoring, highlighting.

FTS5 (BM25 with field weights) finds and orders candidates; the top few hundred are then
re-scored here with what BM25 cannot see: whether the descriptor itself says everything the
user asked for, how much else it says, whether the code is valid for submission, deleted,
or a grouping node.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

import numpy as np

from ..fts import phrase
from .acts import LESION
from .lexicon import SIDES, Group
from .lexicon import STOPWORDS as lexicon_stopwords
from .query import POSSESSIVE, fold

# bm25() weights, in indexer.COLUMNS order: title, short, terms, notes.
WEIGHTS = (10.0, 4.0, 6.0, 1.5)
STOPWORDS = lexicon_stopwords
# Qualifiers that make a descriptor no more specific than the query.
GENERIC = frozenset("unspecified without complication complications nos not elsewhere classified"
                    " mellitus site part right left bilateral unilateral approach open percutaneous external via"
                    " natural artificial opening initial subsequent encounter sequela closed routine healing"
                    " delayed care level essential personal pure"
                    " accidental".split())  # the intent coded when none is documented (guidelines I.C.19-20)
# "Other (specified) ...": a residual category for kinds named nowhere else, not the general code.
RESIDUAL = frozenset({"other", "specified"})
# The code of a family for when nothing more is said ("Acute myocardial infarction, unspecified").
PLAIN = frozenset({"unspecified", "nos"})
# Words whose value follows ("Type 2 diabetes mellitus"): never the head of a descriptor.
_SCALES = frozenset({"type", "stage", "grade", "degree", "class"})
GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "mdc"})
LEGACY_SYSTEMS = frozenset({"icd9cm", "icd9pcs"})
LEGACY_PENALTY = 0.20  # ICD-9, retired since 2015: after any current code that says what was asked
# Payment groups, not what a disease or procedure word names: after the codes, unless asked for.
GROUPER_SYSTEMS = frozenset({"msdrg"})
# ICD-10-CM 7th characters: the initial encounter first, then later encounters, the sequela last.
SEVENTH = {"A": 0.02, "B": 0.03, "C": 0.03, "S": 0.06}
SEVENTH_OTHER = 0.05
_TOKEN = re.compile(r"[^\W_]+")
_SPLIT = re.compile(r"([^\W_]+)")  # _TOKEN, kept by re.split


def content(words: Iterable[str]) -> tuple[str, ...]:
    """The words that carry meaning; all of them if every word is a stop word."""
    ws = tuple(words)
    kept = tuple(w for w in ws if w not in STOPWORDS)
    return kept or ws


def fts_expression(groups: Sequence[Group], prefix_last: bool, need: int | None = None) -> str:
    """An FTS5 MATCH string: every group (or any `need` of them) must match.

    Words are letters and digits only and each is double-quoted, so nothing a user typed can
    act as FTS syntax.
    """
    parts = [_group_expr(g, prefix_last and i == len(groups) - 1) for i, g in enumerate(groups)]
    if need is None or need >= len(parts):
        return " AND ".join(parts)
    if need <= 1:
        return " OR ".join(parts)
    from itertools import combinations

    return " OR ".join("(" + " AND ".join(c) + ")" for c in combinations(parts, need))


def _group_expr(group: Group, prefix: bool) -> str:
    alts = []
    for alt in group.alternatives:
        ws = content(alt)
        terms = [phrase(w) for w in ws]
        if prefix and alt is group.alternatives[0] and terms:
            terms[-1] += "*"
        alts.append(terms[0] if len(terms) == 1 else "(" + " AND ".join(terms) + ")")
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


# Words that begin with a query word and are not a form of it: "heart catheter test" is no testes',
# "ear tube" no tuberculosis, "hearing" no heart
OTHER_WORDS = {"test": ("testes", "testis", "testic", "testo"), "tube": ("tubercul", "tuberos", "tuberc"),
               "hear": ("heart",), "face": ("facet",)}


def word_match(q: str, t: str, prefix: bool = False) -> bool:
    """Whether query word `q` matches text word `t`: equal, an inflection, or (typing) a prefix."""
    if q == t:
        return True
    if t.startswith(q) and (prefix or len(q) >= 4):
        others = OTHER_WORDS.get(q)
        return others is None or not t.startswith(others)
    shorter = min(len(q), len(t))
    if shorter >= 5:
        common = 0
        for a, b in zip(q, t, strict=False):
            if a != b:
                break
            common += 1
        # "nerve", "nervous"; not "stone", "stomach" (a shared "sto" is no inflection)
        return common >= max(shorter - 2, 4)
    return False


_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


_WITH = re.compile(r"\bwith ([^,]*)")
_WITHOUT = re.compile(r"\bwithout ([^,]*?)(?= with |,|$)")
# what a "without" clause says is not there, up to where it says where ("Laceration without foreign body
# of left index finger without damage to nail": the foreign body, the damage to the nail)
_ABSENT = re.compile(r"\bwithout (?:mention of )?([^,]*?)(?= with | of | in | at | due | without |,|$)")
# what the code says it does not know ("..., not specified as recurrent"): the default, asked by saying nothing
_UNSAID = re.compile(r"\b(not specified as [^,]*)")


class Parts(NamedTuple):
    """What the re-scoring reads in a descriptor: its distinct words, each with a flag byte that
    says what it costs when the query did not ask for it (the kind, and whether it is in the
    core), and whether it is in the head (before the last comma, so not a 7th character's
    ", sequela"). Plain strings, bytes and a bool: tens of thousands of them are cached or
    rebuilt from stored arrays (stored_parts.py), and they give the garbage collector nothing
    to scan."""

    words: tuple[str, ...]
    flags: bytes  # per word: kind (_FREE, _EXTRA, _GENERIC or _RESIDUAL) | CORE | IN_HEAD | ABSENT
    head: str  # the first word that says something: "Fracture" of "Unspecified fracture of ..."
    plain: bool  # says "unspecified" (or NOS) of the thing itself, not of what a "with" clause adds


_FREE, _EXTRA, _GENERIC, _RESIDUAL = 0, 1, 2, 3  # the kind: the low two bits of a Parts flag
KIND = 3
CORE = 4  # an _EXTRA word of the core (before the first comma or "with") costs 1, after it 0.6
IN_HEAD = 8
ABSENT = 16  # said only in a "without ..." clause: what the code is not
NEGATIONS = frozenset({"without", "no"})


@functools.lru_cache(maxsize=100_000)
def title_parts(text: str) -> Parts:
    folded = _unpossess(fold(text))  # "Parkinson's disease": parkinson, disease (as query words are)
    words = _TOKEN.findall(folded)
    bag = frozenset(words)
    none: frozenset[str] = frozenset()
    # the regular expressions only where their clause can be (most descriptors have none)
    optional = frozenset(_TOKEN.findall(" ".join(_PARENS.findall(folded)))) if "(" in folded or "[" in folded \
        else none
    has_with = " with " in folded
    head_part, _, _ = folded.partition(",")
    # the core: before the first comma or "with" ("Fusion of Cervical Vertebral Joint")
    core = frozenset(_TOKEN.findall(head_part.split(" with ", 1)[0])) if has_with or "," in folded else bag
    qualifiers = absent = none  # words only in "with ..." clauses; only in "without ..." clauses
    if has_with:
        qualifiers = frozenset(_TOKEN.findall(" ".join(_WITH.findall(folded)))) - \
            frozenset(_TOKEN.findall(_WITH.sub(" ", folded)))
    not_there = none  # words only in what a "without" clause says is not there
    if "without " in folded:
        absent = frozenset(_TOKEN.findall(" ".join(_WITHOUT.findall(folded)))) - \
            frozenset(_TOKEN.findall(_WITHOUT.sub(" ", folded)))
        not_there = frozenset(_TOKEN.findall(" ".join(_ABSENT.findall(folded)))) - \
            frozenset(_TOKEN.findall(_ABSENT.sub(" ", folded)))
    head_words = frozenset(_TOKEN.findall(folded.rsplit(",", 1)[0])) if "," in folded else bag
    unsaid = frozenset(_TOKEN.findall(" ".join(_UNSAID.findall(folded)))) if "not specified as" in folded else none
    head = next((t for t in words if t not in _CLASS and t not in optional and not t.isdigit()), "")
    # "Acute myocardial infarction, unspecified" is the plain code; "... with neuropathy, unspecified" is not
    plain = bool(PLAIN & core) or (not has_with and bool(PLAIN & bag))
    distinct = tuple(dict.fromkeys(words))
    flags = bytearray()
    for t in distinct:
        kind = _CLASS.get(t, _EXTRA)
        in_core = t in core
        if kind == _SCALE:
            kind = _EXTRA
        if t in unsaid:
            kind = _FREE
        elif kind == _EXTRA and (t in optional or t in absent or t.isdigit()):
            kind = _GENERIC
        if kind == _GENERIC and t in qualifiers and t not in absent:
            kind, in_core = _EXTRA, False  # "with unspecified complications" is a specialisation all the same
        flags.append(kind | (CORE if in_core else 0) | (IN_HEAD if t in head_words else 0)
                     | (ABSENT if t in not_there or t == "without" else 0))
    return Parts(distinct, bytes(flags), head, plain)


# What a word is wherever it appears; _SCALE words are never the head ("Type 2 ...") but cost like others.
_SCALE = 4
_CLASS = {**{w: _SCALE for w in _SCALES}, **{w: _GENERIC for w in GENERIC}, **{w: _RESIDUAL for w in RESIDUAL},
          **{w: _FREE for w in STOPWORDS}}


def _matching(w: str, ordered: Sequence[str], prefix: bool) -> list[int]:
    """Positions of the words of sorted `ordered` that `w` matches. Every match shares w's first
    three letters (or all of a shorter w), so only that slice of the list is tried."""
    start = w[:3]
    i = bisect.bisect_left(ordered, start)
    out = []
    while i < len(ordered) and ordered[i].startswith(start):
        if word_match(w, ordered[i], prefix):
            out.append(i)
        i += 1
    return out


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(_unpossess(fold(text)))


def _unpossess(folded: str) -> str:
    return POSSESSIVE.sub("", folded) if "'" in folded or "\u2019" in folded else folded


def covers(alt: Sequence[str], tokens: Iterable[str], prefix: bool = False) -> bool:
    return all(any(word_match(w, t, prefix) for t in tokens) for w in content(alt))


@dataclass(slots=True)
class Candidate:
    id: int
    system: str
    code: str
    kind: str
    billable: int | None
    deleted: bool
    bm25: float  # the FTS5 score, larger is better
    score: float = 0.0
    semantic: float | None = None
    coverage: float = 0.0  # the share of the query's groups the descriptor says


class TitleWords(NamedTuple):
    """The Parts of a list of candidates as flat arrays, one entry per distinct word of each
    descriptor, so that one query's re-scoring is a few array operations, not a loop per word."""

    strings: list[str]  # the distinct words of all the descriptors, sorted
    word: np.ndarray  # per entry: its word, a position in `strings`
    flags: np.ndarray  # per entry: Parts flags (uint8)
    lengths: np.ndarray  # per candidate: how many entries are its (they follow each other)
    head: np.ndarray  # per candidate: its head word, a position in `strings`
    plain: np.ndarray  # per candidate: Parts.plain


def sorted_words(strings: list[str], word: np.ndarray, head: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`strings` sorted, with the positions in `word` and `head` moved along."""
    order = sorted(range(len(strings)), key=strings.__getitem__)
    moved = np.empty(len(order), dtype=np.int64)
    moved[order] = np.arange(len(order))
    return [strings[i] for i in order], moved[word], moved[head]


def title_words(parts: Sequence[Parts]) -> TitleWords:
    """TitleWords from Parts (computed ones, or an index without stored parts)."""
    position: dict[str, int] = {}
    word = [position.setdefault(t, len(position)) for p in parts for t in p.words]
    head = [position.setdefault(p.head, len(position)) for p in parts]
    strings, sorted_word, sorted_head = sorted_words(list(position), np.array(word, dtype=np.int64),
                                                     np.array(head, dtype=np.int64))
    return TitleWords(strings, sorted_word, np.frombuffer(b"".join(p.flags for p in parts), dtype=np.uint8),
                      np.array([len(p.words) for p in parts], dtype=np.int64), sorted_head,
                      np.array([p.plain for p in parts], dtype=bool))


def rescore(cands: list[Candidate], titles: TitleWords, groups: Sequence[Group], prefix_last: bool,
            asked: frozenset[str] = frozenset(), rarity: Sequence[float] = (), denied: Sequence[Group] = (),
            sided_families: frozenset[str] | None = None) -> None:
    """Score each candidate in place from its BM25 score and what its descriptor covers.

    Coverage (does the descriptor itself say everything asked?) dominates; descriptors that
    add other specific words ("... with diabetic cataract") lose a little per word, so the
    general code comes before its specialisations; qualifiers such as "unspecified" or
    "without complications" cost nothing, and the unspecified code of a family comes before
    the residual "other" one. `asked`: systems the user named, exempt from the penalties of
    old and grouper systems. `titles`: the candidates' descriptor words, in the order of `cands`;
    `rarity`: how much saying each group counts (engine._rarity), all alike when empty; `denied`:
    what the query says is not there ("no stent"), a cost where a descriptor says it; `sided_families`:
    the ICD-10-CM categories with a code for a side (the others cannot say one).
    """
    n = len(cands)
    if not n:
        return
    top = max(c.bm25 for c in cands) or 1.0
    last = len(groups) - 1
    # every distinct query word is a key; each descriptor word knows the keys it satisfies. A word a
    # descriptor says only in a "without ..." clause is what the code is not: it does not say the word to a
    # query that asks for it ("choledocholithiasis with cholangitis" is not "... without cholangitis or
    # cholecystitis"), only to words after a typed "without" or "no" (_negated) and to a lexicon meaning
    # that says "without" itself ("choledocho": the code without cholangitis)
    keys: dict[tuple[bool, str, int], int] = {}
    negated = _negated(groups)
    alts: list[list[tuple[int, list[int]]]] = []  # per group: (words, keys) of each alternative
    for i, g in enumerate(groups):
        prefix = i == last and prefix_last
        keyed = []
        for ws in (content(alt) for alt in g.alternatives):
            how = _THERE if negated[i] == _THERE and not NEGATIONS & set(ws) else _EITHER
            keyed.append((len(ws), sorted({keys.setdefault((prefix, w, how), len(keys)) for w in ws})))
        alts.append(keyed)
    asked_keys = len(keys)
    # "PTCA, no stent", "reflux no esophagitis": what a descriptor says is there, not what it says is not
    # (a group said not to be there is asked all the same: "with no prenatal care" is insufficient care)
    not_there = [*denied, *(g for g, how in zip(groups, negated, strict=True) if how == _NOT_THERE)]
    refused = [[sorted({keys.setdefault((False, w, _THERE), len(keys)) for w in ws})
                for ws in (content(alt) for alt in g.alternatives) if ws] for g in not_there]
    satisfies = np.zeros((len(titles.strings), max(len(keys), 1)), dtype=bool)
    for (prefix, w, _how), k in keys.items():
        satisfies[_matching(w, titles.strings, prefix), k] = True
    entry_keys = satisfies[titles.word]
    if len(entry_keys):
        absent_entries = (titles.flags & ABSENT) != 0
        cols = [k for (_p, _w, how), k in keys.items() if how == _THERE]
        if cols:
            entry_keys[np.ix_(absent_entries, cols)] = False
    matched = entry_keys[:, :asked_keys].any(axis=1)  # the entry's word is one the query asked for
    owner = np.repeat(np.arange(n), titles.lengths)
    starts = np.cumsum(titles.lengths) - titles.lengths
    some = titles.lengths > 0
    present = np.zeros((n, satisfies.shape[1]), dtype=bool)
    if len(entry_keys):
        present[some] = np.logical_or.reduceat(entry_keys, starts[some], axis=0)
    covered = np.zeros(n)
    longer = np.zeros(n, dtype=np.int64)
    weights = [KIND_WEIGHT if _says_a_kind(g) and len(groups) > 1 else rarity[i] if rarity else 1.0
               for i, g in enumerate(groups)]
    sided = _sided(titles, owner, n)
    # a code whose kind has no sides cannot say the side asked: an ICD-10-PCS body part with none, an
    # ICD-10-CM category with no sided code ("nephrolithiasis L": N20.0)
    unsided = ~sided & np.array([c.system == "icd10pcs" or c.system == "icd10cm" and sided_families is not None
                                 and c.code[:3] not in sided_families for c in cands])
    for g, options, weight in zip(groups, alts, weights, strict=True):
        best = np.full(n, -1, dtype=np.int64)
        for size, ks in options:
            says = present[:, ks].all(axis=1)
            best = np.where(says & (size > best), size, best)
        if is_side(g):  # an ICD-10-PCS body part with no sides cannot say the side asked ("left carpal
            best = np.where(unsided & (best < 0), 0, best)  # tunnel release": Release Median Nerve)
        said = best >= 0
        covered += said * weight
        longer += np.where(said, best - min(size for size, _ in options), 0)
    coverage = covered / sum(weights) if groups else np.zeros(n)
    says_refused = np.zeros(n, dtype=bool)
    for refusals in refused:  # "PTCA, no stent": a descriptor that says the stent is not what was asked
        for refusal in refusals:
            says_refused |= present[:, refusal].all(axis=1)
    seventh = np.array([c.system == "icd10cm" and len(c.code) == 8 and c.code[-1].isalpha() for c in cands])
    kind = titles.flags & KIND
    costs = (kind != _FREE) & ~matched & ~(seventh[owner] & (titles.flags & IN_HEAD == 0))
    extra = np.bincount(owner, np.where(costs & (kind == _EXTRA), np.where(titles.flags & CORE, 1.0, 0.6), 0.0), n)
    generic = np.bincount(owner, costs & (kind == _GENERIC), n)
    residual = np.bincount(owner, costs & (kind == _RESIDUAL), n)
    preferred = {s for g in groups if g.entry is not None for s in g.entry.prefer} | asked
    defaults = _defaults(groups)
    # the very code a term means ("croup": J05.0, "Acute obstructive laryngitis [croup]") is not a
    # specialisation of it: its other words are what the term means; unless it is a heading, or other
    # codes say more of the query ("sty on upper eyelid": the upper eyelid's, not H00.019's unspecified one)
    named = {(s, code) for s, code, bonus in defaults if bonus == DEFAULT_BONUS}
    if named:
        most = coverage.max() - 1e-9
        extra = np.where([(c.system, c.code.replace(".", "").upper()) in named and c.billable != 0 and cov >= most
                          for c, cov in zip(cands, coverage.tolist(), strict=True)], 0.0, extra)
    by_system = {s: _system_bonus(s, preferred, asked) for s in {c.system for c in cands}}
    # per candidate, in the order they are added below (the same sums as one expression per candidate)
    bm25 = np.array([(max(c.bm25, 0.0) / top) ** 0.5 for c in cands])
    # one flat list per term (a list of short lists made into a 2-D array costs more than the terms)
    fixed = (np.array([_default_bonus(c, defaults) for c in cands]) if defaults else np.zeros(n),
             np.array([BILLABLE_BONUS if c.billable else 0.0 for c in cands]),
             np.array([by_system[c.system] for c in cands]),
             np.array([0.05 if c.kind in GROUPING_KINDS else 0.0 for c in cands]),
             np.array([SEVENTH.get(c.code[-1], SEVENTH_OTHER) if s7 else 0.0
                       for c, s7 in zip(cands, seventh.tolist(), strict=True)]),
             np.array([_gone_cost(c) for c in cands]),
             _someone_else(cands, groups) + _not_surgery(cands, groups) + _sided_unasked(cands, sided, groups)
             + _not_asked_of(cands, groups)
             + np.where(says_refused, REFUSED_COST, 0.0) + _cause_beside_condition(cands, groups, coverage))
    score = (0.15 * bm25 + 0.5 * coverage
             - 0.05 * np.minimum(extra, 10) - 0.01 * np.minimum(generic, 5) - 0.02 * np.minimum(residual, 2)
             + np.where(titles.plain, 0.03, 0.0)
             + 0.015 * np.minimum(longer, 4)  # the lexicon's fuller meaning ("... synthetic substitute")
             + fixed[0] + fixed[1]
             # the descriptor's head word ("Fusion of ...", "Fracture of ...") is what was asked
             + np.where(satisfies[titles.head].any(axis=1), 0.04, 0.0)
             + fixed[2] - fixed[3] - fixed[4] - fixed[5] - fixed[6])
    score -= _through_the_skin(cands, groups) + _opened_for_a_catheter(cands, groups) + _a_part_only(cands, groups)
    for c, sc, cov in zip(cands, score.tolist(), coverage.tolist(), strict=True):
        c.score, c.coverage = sc, cov


THROUGH_THE_SKIN = 0.025  # a percutaneous endoscopic approach, where a scope was asked and no cut in the skin


def _through_the_skin(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """A scope that the query does not say goes in through a cut in the skin ("camera down to look at the
    stomach", "EGD") goes in through a natural opening: where both are candidates, the percutaneous
    endoscopic code (5th character 4) comes after the one via a natural opening (8). Its title has fewer
    qualifier words, so without this it would come first."""
    if not any("endoscopic" in alt and "percutaneous" not in alt for g in groups for alt in g.alternatives):
        return np.zeros(len(cands))
    pcs = {c.code for c in cands if c.system == "icd10pcs" and len(c.code) == 7}
    return np.array([THROUGH_THE_SKIN if c.system == "icd10pcs" and len(c.code) == 7 and c.code[4] == "4"
                     and f"{c.code[:4]}8{c.code[5:]}" in pcs else 0.0 for c in cands])


# Words of what goes in through a needle, a catheter or a scope: a stent, a catheter, a port or a line is
# placed through the skin or a natural opening, unless the query says the body was opened
THREADED = frozenset("stent stents stented stenting cath caths catheter catheters catheterization picc piccs port"
                     " ports line lines filter coil coils pleurx angioplasty ptca pci balloon".split())
OPENED = frozenset("open opened opening surgery surgical incision cut cutdown".split())
OPENED_COST = 0.02  # the open approach (5th character 0), where a threaded device is asked and none is opened


def _opened_for_a_catheter(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """"Stent put in a blocked heart artery", "R heart cath", "PICC R basilic": where the query names
    no approach, the open code (which only its lower code value put first) comes after the same code
    done through the skin or a natural opening, when both are candidates."""
    said = {w for g in groups for w in g.words}
    if not said & THREADED or said & OPENED:
        return np.zeros(len(cands))
    closed = {c.code[:4] + c.code[5:] for c in cands
              if c.system == "icd10pcs" and len(c.code) == 7 and c.code[4] in "3478"}
    return np.array([OPENED_COST if c.system == "icd10pcs" and len(c.code) == 7 and c.code[4] == "0"
                     and c.code[:4] + c.code[5:] in closed else 0.0 for c in cands])


# Words that say only some of a body part is taken out: its Excision, not its Resection
PART_WORDS = frozenset("part partial partially piece pieces portion some segment wedge biopsy bx sample tissue half"
                       " lobe margin tip".split())
A_PART_COST = 0.01


def _a_part_only(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """"Gallbladder removed", "keyhole surgery to remove the appendix": a body part taken out, no growth of
    it nor a part said, is all of it, its Resection (3rd character T); the Excision of the same body part
    (B) comes after it when both are candidates."""
    said = {w for g in groups for w in g.words}
    removal = any(("resection",) in g.alternatives and ("excision",) in g.alternatives for g in groups)
    if not removal or said & (PART_WORDS | LESION):
        return np.zeros(len(cands))
    whole = {c.code[:2] + c.code[3] for c in cands if c.system == "icd10pcs" and len(c.code) == 7 and c.code[2] == "T"}
    return np.array([A_PART_COST if c.system == "icd10pcs" and len(c.code) == 7 and c.code[2] == "B"
                     and c.code[:2] + c.code[3] in whole else 0.0 for c in cands])


_THERE, _NOT_THERE, _EITHER = 0, 1, 2  # how a query word is said: there, not there ("without"), either


def _negated(groups: Sequence[Group]) -> list[int]:
    """Per group, how it is said: the group just after a typed "without" or "no" is said not to be
    there ("reflux without esophagitis"); the rest after it either way: where a "without" ends is not
    in the words ("w/o FB, L index finger"; the old titles' "without mention of open wound, with loss of
    consciousness"), nor is a "without" of the old titles said the ICD-10-CM way ("not intractable")."""
    out: list[int] = []
    after = False
    for i, g in enumerate(groups):
        if NEGATIONS & set(g.words):
            out.append(_EITHER)
            after = True
        elif after and NEGATIONS & set(groups[i - 1].words) and "mention" not in g.words:
            out.append(_NOT_THERE)  # asked either way, refused where a descriptor says it is there
        else:
            out.append(_EITHER if after else _THERE)
    return out


# Words that say a kind of thing, not which: beside a word that names it ("kawasaki disease"), matching
# only them is a quarter of an answer ("Disease of spleen" is not Kawasaki's).
KINDS = frozenset("disease diseases syndrome syndromes disorder disorders condition conditions illness problem"
                  " problems".split())
KIND_WEIGHT = 0.25


def _says_a_kind(group: Group) -> bool:
    return all(len(alt) == 1 and alt[0] in KINDS for alt in group.alternatives)


def is_side(group: Group) -> bool:
    """A group that only says a side ("L", "right")."""
    return len(group.words) == 1 and all(len(alt) == 1 for alt in group.alternatives) \
        and any(alt[0] in SIDES for alt in group.alternatives)


def _sided(titles: TitleWords, owner: np.ndarray, n: int) -> np.ndarray:
    """Per candidate: whether its descriptor names a side (the words are sorted: three lookups)."""
    side_words = np.zeros(len(titles.strings), dtype=bool)
    for w in SIDES:
        i = bisect.bisect_left(titles.strings, w)
        if i < len(titles.strings) and titles.strings[i] == w:
            side_words[i] = True
    return np.bincount(owner, side_words[titles.word], n) > 0


def _sided_unasked(cands: list[Candidate], sided: np.ndarray, groups: Sequence[Group]) -> np.ndarray:
    """An ICD-10-CM code of one side where the query names none: the unspecified side is what is
    coded when no side is documented ("ear infection": H66.90 before H66.93)."""
    if any(w in SIDES for g in groups for alt in g.alternatives for w in alt):
        return np.zeros(len(cands))
    return np.where(sided & np.array([c.system == "icd10cm" for c in cands]), 0.012, 0.0)


FAMILY_HISTORY = ("Z80", "Z81", "Z82", "Z83", "Z84")  # ICD-10-CM: a relative's condition, not the patient's


def _someone_else(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """A family history code where the query does not say family: "hx of kidney cancer" is the
    patient's own history (Z85.528), not a relative's (Z80.51), though the words fit both."""
    if any("family" in alt for g in groups for alt in g.alternatives):
        return np.zeros(len(cands))
    return np.array([0.08 if c.system == "icd10cm" and c.code.startswith(FAMILY_HISTORY) else 0.0 for c in cands])


# ICD-10-CM chapters of who has a condition, not what: a pregnancy's (O00-O9A) and a newborn's (P00-P96)
PREGNANCY_WORDS = frozenset("pregnant pregnancy pregnancies gestation gestational trimester trimesters labor labour"
                            " delivery delivered deliveries postpartum postnatal puerperal puerperium antepartum"
                            " obstetric obstetrical prenatal antenatal weeks baby ob miscarriage nursing"
                            " breastfeeding lactation".split())
NEWBORN_WORDS = frozenset("newborn newborns neonatal neonate neonates infant infants baby babies birth born"
                          " premature preemie prematurity nicu perinatal fetal fetus".split())
WHOSE = (("O", PREGNANCY_WORDS), ("P", NEWBORN_WORDS))
WHOSE_COST = 0.05  # a pregnancy's or a newborn's code where the query says neither ("infected bladder": N30, not O23.1)


def _not_asked_of(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """A code of the pregnancy (O) or the perinatal (P) chapter where no word of the query, nor what a
    lexicon term of it means, says a pregnancy or a newborn: the same words of the other chapters come first."""
    said = {w for g in groups for alt in g.alternatives for w in alt}
    meant = {code[:1].upper() for g in groups if g.entry is not None for s, code in g.entry.expect if s == "icd10cm"}
    unasked = tuple(letter for letter, words in WHOSE if not said & words and letter not in meant)
    if not unasked:
        return np.zeros(len(cands))
    return np.array([WHOSE_COST if c.system == "icd10cm" and c.code.startswith(unasked) else 0.0 for c in cands])


SURGERY = frozenset({"surgery", "surgical", "surgeries", "operation", "operations", "operative"})
SURGICAL_SECTIONS = ("0", "1")  # ICD-10-PCS Medical and Surgical, Obstetrics


def _not_surgery(cands: list[Candidate], groups: Sequence[Group]) -> np.ndarray:
    """An imaging, radiation or other non-surgical ICD-10-PCS code where the query says surgery:
    "goiter surgery" is an operation on the thyroid, not its ultrasound."""
    if not any(w in SURGERY for g in groups for w in g.words):
        return np.zeros(len(cands))
    return np.array([0.06 if c.system == "icd10pcs" and not c.code.startswith(SURGICAL_SECTIONS) else 0.0
                     for c in cands])


# the titles' words for an injury: a word that says one ("broke": fracture) names what a cause caused
INJURIES = frozenset("fracture fractures sprain laceration dislocation contusion concussion burn burns".split())
CAUSE_COST = 0.15  # an external cause code where the query also names what it caused


def _cause_beside_condition(cands: list[Candidate], groups: Sequence[Group], coverage: np.ndarray) -> np.ndarray:
    """An ICD-10-CM external cause (V00-Y99) that does not say the whole query, where a term of the
    query means a condition or an injury: "hip fx after fall" is the fracture, the fall its cause
    (coded after it)."""
    if not any(g.entry is not None and any(s == "icd10cm" and not code.upper().startswith(CAUSES)
                                           for s, code in g.entry.expect[:1])
               or any(INJURIES.intersection(alt) for alt in g.alternatives) for g in groups):
        return np.zeros(len(cands))
    return np.array([CAUSE_COST if c.system == "icd10cm" and c.code.startswith(CAUSES) and cov < 1.0 else 0.0
                     for c, cov in zip(cands, coverage.tolist(), strict=True)])


DELETED_COST = 0.40  # a code deleted from its code set: after every current code that says what was asked
# a HCPCS code its own file keeps, not billable since CMS terminated it: after the live codes that say the same,
# yet still found by its own words (its short descriptor, an old claim's)
TERMINATED_COST = 0.10
TERMINATED_KEPT = frozenset({"hcpcs", "hcpcs-mod"})


def _gone_cost(c: Candidate) -> float:
    if not c.deleted:
        return 0.0
    return TERMINATED_COST if c.system in TERMINATED_KEPT and c.billable == 0 else DELETED_COST


def _system_bonus(system: str, preferred: set[str] | frozenset[str], asked: frozenset[str]) -> float:
    return ((0.12 if system in preferred else 0.0)
            # ICD-9, retired since 2015: after any current code that says what was asked
            - (LEGACY_PENALTY if system in LEGACY_SYSTEMS and system not in asked else 0.0)
            - (0.10 if system in GROUPER_SYSTEMS and system not in asked else 0.0))


CAUSES = ("V", "W", "X", "Y")  # the ICD-10-CM chapter of external causes
REFUSED_COST = 0.15  # a descriptor that says what the query says is not there
BILLABLE_BONUS = 0.03  # a code that may be billed, before the heading it is under
DEFAULT_BONUS = 0.08  # the code a term means when nothing more is said


def _defaults(groups: Sequence[Group]) -> list[tuple[str, str, float]]:
    """(system, compact code prefix, bonus) from the lexicon entries the query used: the first
    code an entry expects is what the term means when nothing more is said ("heart attack":
    I21, acute MI), the others are also good answers."""
    out = []
    for g in groups:
        if g.entry is not None:
            for i, (system, code) in enumerate(g.entry.expect):
                out.append((system, code.replace(".", "").upper(), DEFAULT_BONUS if i == 0 else 0.03))
    return out


def _default_bonus(c: Candidate, defaults: list[tuple[str, str, float]]) -> float:
    if not defaults or "-" in c.code:  # the block "J09-J18" is not in the family J09
        return 0.0
    compact = c.code.replace(".", "").upper()
    return max((b for s, code, b in defaults if s == c.system and compact.startswith(code)), default=0.0)


class Highlighter:
    """Texts HTML-escaped, with each word that matches a query word wrapped in <mark>; for many texts
    of one query, each text word is compared once."""

    def __init__(self, query_words: Iterable[str], prefix: bool = False) -> None:
        self.qs = tuple(dict.fromkeys(w for w in query_words if w not in STOPWORDS))
        self.prefix = prefix
        self._initial: dict[str, tuple[str, ...]] = {}
        for q in self.qs:
            self._initial[q[:1]] = (*self._initial.get(q[:1], ()), q)
        self._seen: dict[str, bool] = {}

    def __call__(self, text: str) -> str:
        pieces = _SPLIT.split(text)  # between words, a word, between words, ..., between words
        seen = self._seen
        marked = []
        for i in range(1, len(pieces), 2):
            word = pieces[i]
            hit = seen.get(word)  # by the word as written: folding it again costs more than the lookup
            if hit is None:
                t = fold(word)
                hit = seen[word] = any(word_match(q, t, self.prefix) for q in self._initial.get(t[:1], ()))
            if hit:
                marked.append(i)
        if not marked:  # most texts a result shows say none of the words (notes, codes found by meaning)
            return escape(text)
        for i in marked:
            pieces[i] = "<mark>" + escape(pieces[i]) + "</mark>"
        last = 0
        out: list[str] = []
        for i in marked:  # the text between two marked words escaped as one (escape is per character)
            out += [escape("".join(pieces[last:i])), pieces[i]]
            last = i + 1
        out.append(escape("".join(pieces[last:])))
        return "".join(out)


class Coverage:
    """The share of the query's groups a text says, for many texts of one query: each text word is
    compared with the query's words once, and a text is then a union of the sets its words matched
    (the paths and the result explanations read hundreds of texts a query)."""

    def __init__(self, groups: Sequence[Group], prefix_last: bool = False) -> None:
        last = len(groups) - 1
        self.groups = [[(i == last and prefix_last, content(alt)) for alt in g.alternatives]
                       for i, g in enumerate(groups)]
        self._words = _by_initial(dict.fromkeys((w, p) for g in self.groups for p, ws in g for w in ws))
        self._matched: dict[str, frozenset[tuple[str, bool]]] = {}

    def __call__(self, text: str) -> float:
        return self.share(self.said(text)) if self.groups else 0.0

    def said(self, text: str) -> set[tuple[str, bool]]:
        """The query words `text` says. Texts are word sets, so a union of these is what the texts
        joined say (the explanation of a result reads its notes together, then one at a time)."""
        said: set[tuple[str, bool]] = set()
        matched = self._matched
        for t in word_set(text):
            found = matched.get(t)
            if found is None:
                found = matched[t] = frozenset(k for k in self._words.get(t[:1], ())
                                               if k[0] == t or word_match(k[0], t, k[1]))
            said |= found
        return said

    def share(self, said: set[tuple[str, bool]]) -> float:
        """The share of the query's groups that the words `said` say."""
        if not self.groups:
            return 0.0
        hit = sum(1 for g in self.groups if any(all((w, p) in said for w in ws) for p, ws in g))
        return hit / len(self.groups)


_WORD_SETS: dict[str, tuple[str, ...]] = {}
WORD_SETS = 16_384  # texts whose words are remembered; then forgotten all at once


def word_set(text: str) -> tuple[str, ...]:
    """The distinct words of a descriptor, note or index path: the same texts come back query after
    query (a code's notes, its title), and folding and splitting them costs more than the rest.
    Tuples in a plain dict: the garbage collector stops tracking tuples of strings, and thousands
    of sets and cache nodes kept alive made its full passes (40-75 ms each) come twice as often."""
    found = _WORD_SETS.get(text)
    if found is None:
        if len(_WORD_SETS) >= WORD_SETS:
            _WORD_SETS.clear()
        found = _WORD_SETS[text] = tuple(dict.fromkeys(tokens(text)))
    return found


def _by_initial(keys: Iterable[tuple[str, bool]]) -> dict[str, tuple[tuple[str, bool], ...]]:
    """(word, prefix) keys by first letter: word_match holds only between words that begin alike
    (equal, a prefix, or a shared beginning of three letters or more)."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for k in keys:
        out.setdefault(k[0][:1], []).append(k)
    return {c: tuple(ks) for c, ks in out.items()}
