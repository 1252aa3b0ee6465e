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

from .lexicon import STOPWORDS as lexicon_stopwords
from .lexicon import Group
from .query import fold

# bm25() weights, in indexer.COLUMNS order: title, short, terms, notes.
WEIGHTS = (10.0, 4.0, 6.0, 1.5)
STOPWORDS = lexicon_stopwords
# Qualifiers that make a descriptor no more specific than the query.
GENERIC = frozenset("unspecified without complication complications other nos specified not elsewhere classified"
                    " mellitus site part type right left bilateral approach open percutaneous external via"
                    " natural artificial opening initial subsequent encounter sequela closed routine healing"
                    " delayed care level essential".split())
GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "mdc"})
LEGACY_SYSTEMS = frozenset({"icd9cm", "icd9pcs"})
_TOKEN = re.compile(r"[^\W_]+")


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
        terms = [f'"{w}"' for w in ws]
        if prefix and alt is group.alternatives[0] and terms:
            terms[-1] += "*"
        alts.append(terms[0] if len(terms) == 1 else "(" + " AND ".join(terms) + ")")
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def word_match(q: str, t: str, prefix: bool = False) -> bool:
    """Whether query word `q` matches text word `t`: equal, an inflection, or (typing) a prefix."""
    if q == t:
        return True
    if t.startswith(q) and (prefix or len(q) >= 4):
        return True
    shorter = min(len(q), len(t))
    if shorter >= 5:
        common = 0
        for a, b in zip(q, t, strict=False):
            if a != b:
                break
            common += 1
        return common >= shorter - 2
    return False


_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")


_TAIL = re.compile(r",| with ")


@functools.lru_cache(maxsize=50_000)
def title_tokens(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """All words of a descriptor; the words in parentheses (ICD's nonessential modifiers:
    "Essential (primary) hypertension"), which never count against a code; and the words of
    its core, before the first comma or "with" ("Fusion of Cervical Vertebral Joint")."""
    folded = fold(text)
    optional = frozenset(w for part in _PARENS.findall(folded) for w in _TOKEN.findall(part))
    core = frozenset(_TOKEN.findall(_TAIL.split(folded, maxsplit=1)[0]))
    return frozenset(_TOKEN.findall(folded)), optional, core


def _matching(w: str, ordered: list[str], prefix: bool) -> set[str]:
    """The words of sorted `ordered` that `w` matches. Every match shares w's first three
    letters (or all of a shorter w), so only that slice of the list is tried."""
    start = w[:3]
    i = bisect.bisect_left(ordered, start)
    out = set()
    while i < len(ordered) and ordered[i].startswith(start):
        if word_match(w, ordered[i], prefix):
            out.add(ordered[i])
        i += 1
    return out


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def covers(alt: Sequence[str], tokens: Sequence[str], prefix: bool = False) -> bool:
    return all(any(word_match(w, t, prefix) for t in tokens) for w in content(alt))


@dataclass
class Candidate:
    id: int
    system: str
    code: str
    title: str
    kind: str
    billable: int | None
    deleted: bool
    bm25: float  # the FTS5 score, larger is better
    score: float = 0.0
    semantic: float | None = None


def rescore(cands: list[Candidate], groups: Sequence[Group], prefix_last: bool) -> None:
    """Score each candidate in place from its BM25 score and what its descriptor covers.

    Coverage (does the descriptor itself say everything asked?) dominates; descriptors that
    add other specific words ("... with diabetic cataract") lose a little per word, so the
    general code comes before its specialisations; qualifiers such as "unspecified" or
    "without complications" add nothing and cost nothing.
    """
    if not cands:
        return
    top = max(c.bm25 for c in cands) or 1.0
    parsed = [title_tokens(c.title) for c in cands]
    heads = [_head(c.title) for c in cands]
    titles = [p[0] for p in parsed]
    vocab = set().union(*titles)
    last = len(groups) - 1
    alts = [(i == last and prefix_last, content(alt)) for i, g in enumerate(groups) for alt in g.alternatives]
    ordered = sorted(vocab)
    hits: dict[tuple[bool, str], set[str]] = {}
    for prefix, ws in alts:
        for w in ws:
            if (prefix, w) not in hits:
                hits[(prefix, w)] = _matching(w, ordered, prefix)
    matched = set().union(*hits.values()) if hits else set()
    preferred = {s for g in groups if g.entry is not None for s in g.entry.prefer}
    for c, toks, (_, optional, core), head in zip(cands, titles, parsed, heads, strict=True):
        covered = 0
        for i, g in enumerate(groups):
            prefix = i == last and prefix_last
            if any(all(hits[(prefix, w)] & toks for w in content(alt)) for alt in g.alternatives):
                covered += 1
        coverage = covered / len(groups) if groups else 0.0
        rest = toks - matched - STOPWORDS
        generic = sum(1 for t in rest if t in GENERIC or t in optional or t.isdigit())
        specific = [t for t in rest if not (t in GENERIC or t in optional or t.isdigit())]
        extra = sum(1 for t in specific if t in core) + 0.6 * sum(1 for t in specific if t not in core)
        c.score = (0.15 * (max(c.bm25, 0.0) / top) ** 0.5 + 0.5 * coverage
                   - 0.05 * min(extra, 10) - 0.01 * min(generic, 5)
                   + (0.03 if c.billable else 0.0)
                   # the descriptor's head word ("Fusion of ...", "Fracture of ...") is what was asked
                   + (0.04 if head in matched else 0.0)
                   + (0.12 if c.system in preferred else 0.0)
                   - (0.05 if c.kind in GROUPING_KINDS else 0.0)
                   - (0.10 if c.system in LEGACY_SYSTEMS else 0.0)
                   # a 7th-character variant (".., sequela") after the code it extends
                   - (0.04 if c.system == "icd10cm" and len(c.code) == 8 else 0.0)
                   - (0.40 if c.deleted else 0.0))


def _head(title: str) -> str:
    for t in _TOKEN.findall(fold(title)):
        if t not in STOPWORDS and t not in GENERIC:
            return t
    return ""


def highlight(text: str, query_words: Iterable[str], prefix: bool = False) -> str:
    """`text` HTML-escaped, with each word that matches a query word wrapped in <mark>."""
    qs = [w for w in query_words if w not in STOPWORDS]
    out: list[str] = []
    last = 0
    for m in _TOKEN.finditer(text):
        t = fold(m.group(0))
        if any(word_match(q, t, prefix) for q in qs):
            out += [escape(text[last:m.start()]), "<mark>", escape(m.group(0)), "</mark>"]
            last = m.end()
    out.append(escape(text[last:]))
    return "".join(out)


def coverage_of(text: str, groups: Sequence[Group], prefix_last: bool = False) -> float:
    tokens = _TOKEN.findall(fold(text))
    if not groups:
        return 0.0
    hit = sum(1 for i, g in enumerate(groups)
              if any(covers(alt, tokens, prefix_last and i == len(groups) - 1) for alt in g.alternatives))
    return hit / len(groups)
