"""Where a condition is: the body part a procedure on it is coded by.

People name an operation by what it treats ("pterygium removal", "goiter surgery", "appendicitis
surgery"); ICD-10-PCS titles name only the operation and the body part (Excision of Right
Conjunctiva, Resection of Thyroid Gland, Resection of Appendix). ICD-10-CM says where each condition
is in the titles of the categories and blocks its codes are filed under ("Other disorders of
conjunctiva", "Disorders of thyroid gland", "Diseases of appendix"). For a word of a procedure query
that no ICD-10-PCS title says but ICD-10-CM titles do, the words those category and block titles
share, and that ICD-10-PCS titles also use, are searched as its body part.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .acts import ROOT_OPERATIONS
from .lexicon import STOPWORDS, Group
from .query import words

# The operations ICD-10-PCS names (its 31 root operations of the Medical and Surgical section) and
# the plain words for having one: a query saying one of these is about a procedure.
PROCEDURE_WORDS = ROOT_OPERATIONS | frozenset("surgery surgical operation procedure".split())
# Words of ICD-10-CM chapter-like titles that say a kind of disease, not a place in the body.
_NOT_PLACES = frozenset(
    "of and with or the other disorders disorder diseases disease unspecified specified right left bilateral"
    " in to by for from nos classified elsewhere not certain conditions abnormal acquired system systems"
    " digestive musculoskeletal connective tissue tissues circulatory genitourinary endocrine nutritional"
    " metabolic related female male genital organs organ structures structure body lower upper general"
    " complications injuries injury effects tract soft specific intraoperative family personal status"
    " vessels deformities deformity deforming dorsopathies density continuity limbs limb joint joints space"
    # where within a part, not a part: "external" alone is no place ("constrictive" would be searched as it)
    " external internal anterior posterior superior inferior medial lateral middle common proximal distal".split())
SUPPORT = 0.75  # a place must be said for this share of the condition's codes
INJURIES = ("S", "T")  # ICD-10-CM chapter 19
MOST = 2  # places kept per condition
SAMPLE = 400  # codes of the condition read


@dataclass
class Sites:
    """Places of conditions, read from one index and remembered per word."""

    categories: dict[str, str]  # ICD-10-CM category -> title
    blocks: list[tuple[str, str, str]]  # (first category, last category, title)
    cm_rows: tuple[int, int]  # the search_fts rowids of ICD-10-CM and of ICD-10-PCS (the index keeps
    pcs_rows: tuple[int, int]  # each system's rows together)
    anatomy: frozenset[str]  # the words of the body parts ICD-10-PCS operates on
    remembered: dict[str, tuple[str, ...]] = field(default_factory=dict)
    in_pcs: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection, cm_rows: tuple[int, int], pcs_rows: tuple[int, int],
             anatomy: frozenset[str] | None = None) -> Sites:
        categories = dict(conn.execute("SELECT code, title FROM codes WHERE system='icd10cm' AND kind='category'"))
        blocks = [(c.split("-")[0], c.split("-")[-1], t) for c, t in
                  conn.execute("SELECT code, title FROM codes WHERE system='icd10cm' AND kind='block'")]
        return cls(categories, blocks, cm_rows, pcs_rows, body_part_words(conn) if anatomy is None else anatomy)

    def of(self, conn: sqlite3.Connection, word: str, doc: np.ndarray) -> tuple[str, ...]:
        """The places of the condition `word` names ("pterygium" -> conjunctiva), or () when ICD-10-PCS
        titles say the word themselves or its codes do not agree on a place."""
        if word not in self.remembered:
            self.remembered[word] = () if self._said_by_pcs(conn, word) else self._find(conn, word, doc)
        return self.remembered[word]

    def _said_by_pcs(self, conn: sqlite3.Connection, word: str) -> bool:
        if word not in self.in_pcs:
            lo, hi = self.pcs_rows
            self.in_pcs[word] = conn.execute(
                "SELECT 1 FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ? LIMIT 1",
                (f'{{title}} : "{word}"', lo, hi)).fetchone() is not None
        return self.in_pcs[word]

    def _find(self, conn: sqlite3.Connection, word: str, doc: np.ndarray) -> tuple[str, ...]:
        lo, hi = self.cm_rows
        rows = conn.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ? LIMIT ?",
                            (f'{{title}} : "{word}"', lo, hi, SAMPLE)).fetchall()
        ids = [int(doc[r[0]]) for r in rows]
        if not ids:
            return ()
        marks = ",".join("?" * len(ids))
        # injuries are filed by body region whatever their kind ("tear": most are knee menisci), so they say
        # nothing of where a condition is
        codes = [c for (c,) in conn.execute(f"SELECT code FROM codes WHERE id IN ({marks})", ids)
                 if not c.startswith(INJURIES)]
        if not codes:
            return ()
        said: Counter[str] = Counter()
        for code in codes:
            category = code[:3]
            texts = [self.categories.get(category, "")] + [t for a, b, t in self.blocks if a <= category <= b]
            # in the titles' order, so that a tie keeps it ("thyroid gland")
            said.update(list(dict.fromkeys(w for t in texts for w in words(t) if w not in _NOT_PLACES and w != word)))
        return tuple(w for w, n in said.most_common(3 * MOST)
                     if n >= SUPPORT * len(codes) and (w in self.anatomy or w.rstrip("s") in self.anatomy))[:MOST]


def body_part_words(conn: sqlite3.Connection) -> frozenset[str]:
    """The words of the body parts of ICD-10-PCS Medical and Surgical titles ("Excision of Right
    Conjunctiva, ..." -> right, conjunctiva), read from the open and external approach codes (every body
    part has one) to keep it short."""
    out: set[str] = set()
    try:
        rows = conn.execute("SELECT title FROM codes WHERE system='icd10pcs' AND kind='code'"
                            " AND substr(code, 1, 1) = '0' AND substr(code, 5, 1) IN ('0', 'X')").fetchall()
    except sqlite3.OperationalError:  # no codes table: no body parts known
        return frozenset()
    for (title,) in rows:
        head = title.split(",")[0]
        body = head.split(" of ", 1)[1] if " of " in head else head.split(" ", 1)[-1]
        out.update(words(body))
    return frozenset(out - _NOT_PLACES - STOPWORDS)  # "Metal on Polyethylene": no place


def procedure_query(groups: list[Group], procedures_only: bool) -> bool:
    """Whether a query asks for a procedure: only ICD-10-PCS is searched, or it says an operation."""
    return procedures_only or any(w in PROCEDURE_WORDS for g in groups for alt in g.alternatives for w in alt)


def placed(groups: list[Group], place: Callable[[str], tuple[str, ...]]) -> list[Group]:
    """The groups, a plain word that names a condition also searched as its place."""
    out = []
    for g in groups:
        # a verb ("pulled", "sucking") says what is done, not what is wrong
        # a misspelt word is placed by its corrections ("pterigium": pterygium)
        named = [alt[0] for alt in g.alternatives if len(alt) == 1]
        if g.entry is None and len(g.words) == 1 and len(named) == len(g.alternatives) and len(g.words[0]) > 3 \
                and not g.words[0].endswith(("ing", "ed")):
            where = next((p for p in map(place, named) if p), ())
            if where:
                g = Group(tuple(dict.fromkeys((*g.alternatives, where, where[:1]))), g.words)
        out.append(g)
    return out
