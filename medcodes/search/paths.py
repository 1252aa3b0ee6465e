"""The official indexes as search vocabulary: ICD-10-CM Alphabetic Index paths (with the External
Cause index, Neoplasm and Drug tables) and ICD-10-PCS Index entries, searched as paths.

A coder looks a condition up in the index, not in the tabular: "Chloral, hydrate — poisoning,
assault" leads to T42.6X3, whose descriptor ("Poisoning by other antiepileptic and
sedative-hypnotic drugs, assault") shares two words with the path. The descriptor re-scoring
cannot see that, so each index path is a row of its own (`search_paths`, FTS5 over the path),
and a path that says what was asked brings its code into the results with the path that led to
it (`Hit.path`), shown on the result ("found through the index").

Words in parentheses are nonessential modifiers: the index prints them to say they may be
present or not, so a path is not penalised for them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import rank, sites
from .lexicon import Group
from .query import words

TOKENIZER = "porter unicode61 remove_diacritics 2"
LIMIT = 120  # paths read per query, best BM25 first
SOURCE_NAMES = {
    "index": "ICD-10-CM Alphabetic Index",
    "eindex": "ICD-10-CM External Cause Index",
    "neoplasm": "ICD-10-CM Neoplasm Table",
    "drug": "ICD-10-CM Table of Drugs and Chemicals",
    "pcs-index": "ICD-10-PCS Index",
    "hcpcs-index": "HCPCS Index",
}
_MODIFIERS = re.compile(r"\([^)]*\)")
_ABBREVIATION = re.compile(r"\(([A-Z]{2,6})\)\s*$")  # "Anterior cruciate ligament (ACL)": its initials
_SIDE = re.compile(r",\s*(Right|Left|Bilateral)\s*$", re.IGNORECASE)
# Words of the device values the "use" references also name: a device value is too broad to stand for the
# brand or kind of device a query names (the body part values are what these references add).
DEVICE_WORDS = frozenset("device devices substitute lead leads generator stimulator pacemaker defibrillator tissue"
                         " system electrode electrodes implant graft spacer fixation element monitoring".split())
USE_WORDS = 5  # words in the longest anatomical name worth looking for
OPERATION_WORDS = 2  # "Plain Radiography"; longer heads ("Introduction of substance in or on") are not one
REFERENCE_CODES = 3  # codes a "see" reference may lead to: the target entry's own

DDL = f"""
DROP TABLE IF EXISTS search_paths;
DROP TABLE IF EXISTS search_paths_fts;
CREATE TABLE search_paths (id INTEGER PRIMARY KEY, code_id INTEGER NOT NULL, source TEXT NOT NULL,
                           path TEXT NOT NULL);
CREATE VIRTUAL TABLE search_paths_fts USING fts5(path, content='search_paths', content_rowid='id',
                                                 tokenize='{TOKENIZER}');
"""


def build(conn: sqlite3.Connection) -> None:
    """One row per (index path, code) of the `terms` table whose code is in the index, and one per
    "see" / "see also" reference whose target entry names codes of its own ("Abdominalgia — see
    Pain, abdominal" leads to the codes of "Pain, abdominal")."""
    conn.executescript(DDL)
    ids = {(s, c): i for i, s, c in conn.execute("SELECT id, system, code FROM codes")}
    rows: list[tuple[int, int, str, str]] = []
    own: dict[tuple[str, str], list[int]] = {}
    for system, code, term, source in conn.execute("SELECT system, code, term, source FROM terms ORDER BY rowid"):
        cid = ids.get((system, code))
        if cid is not None:
            rows.append((len(rows) + 1, cid, source, term))
            own.setdefault((system, entry_key(term)), []).append(cid)
    for system, term, kind, target, source in _references(conn):
        label = "see" if kind == "see" else "see also"
        for cid in list(dict.fromkeys(own.get((system, entry_key(target)), [])))[:REFERENCE_CODES]:
            rows.append((len(rows) + 1, cid, source, f"{term} — {label} {target}"))
    conn.executemany("INSERT INTO search_paths VALUES (?,?,?,?)", rows)
    conn.execute("INSERT INTO search_paths_fts (search_paths_fts) VALUES ('rebuild')")


def entry_key(text: str) -> str:
    """An index entry as a reference names it: "Pain(s) (see also Painful), abdominal" and "Pain,
    abdominal" are one entry (nonessential modifiers and plural marks are not part of the name)."""
    return " ".join(words(_MODIFIERS.sub(" ", text)))


def _references(conn: sqlite3.Connection) -> list[tuple[str, str, str, str, str]]:
    try:
        return conn.execute("SELECT system, term, kind, target, source FROM term_refs"
                            " WHERE kind IN ('see', 'see_also') ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # an index built before references were kept
        return []


def operations(conn: sqlite3.Connection) -> dict[str, tuple[tuple[str, ...], ...]]:
    """One-word ICD-10-PCS Index entries and the root operations their "see" references name
    ("Nephrectomy see Excision, Urinary System; see Resection, Urinary System" -> excision, resection)."""
    out: dict[str, dict[tuple[str, ...], None]] = {}
    try:
        rows = conn.execute("SELECT term, target FROM term_refs WHERE system='icd10pcs' AND kind='see'"
                            " ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:  # an index built before references were kept
        return {}
    for term, target in rows:
        word = words(term)
        operation = tuple(words(target.split(",")[0]))
        if len(word) == 1 and 0 < len(operation) <= OPERATION_WORDS:
            out.setdefault(word[0], {})[operation] = None
    return {w: tuple(ops) for w, ops in out.items()}


def body_parts(conn: sqlite3.Connection,
               anatomy: frozenset[str] | None = None) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The ICD-10-PCS Index "use" references: the anatomical names clinicians write, and the body part
    (or device) value the PCS tables use for each ("Anterior cruciate ligament (ACL) use Knee Bursa and
    Ligament, Right" -> ("anterior", "cruciate", "ligament") and ("acl",): ("knee", "bursa", "ligament")).
    The side is left out: the query says it or not. `anatomy`: the words of the PCS body parts (sites.py),
    read from `conn` when not given."""
    out: dict[tuple[str, ...], dict[tuple[str, ...], None]] = {}
    try:
        rows = conn.execute("SELECT term, target FROM term_refs WHERE system='icd10pcs' AND kind='use'"
                            " ORDER BY rowid").fetchall()
    except sqlite3.OperationalError:
        return {}
    for term, target in rows:
        value = tuple(words(_SIDE.sub("", target.split(" in ")[0])))
        if set(value) & DEVICE_WORDS:  # "Foley catheter use Drainage Device": every drain, not one body part
            continue
        name = tuple(words(_MODIFIERS.sub(" ", term)))
        names = [name]
        short = _ABBREVIATION.search(term)
        if short and short.group(1).lower() == "".join(w[0] for w in name):  # "(ACL)" of "Anterior cruciate ligament"
            names.append((short.group(1).lower(),))
        for name in names:
            if value and name and name != value and len(name) <= USE_WORDS:
                out.setdefault(name, {})[value] = None
    parts = sites.body_part_words(conn) if anatomy is None else anatomy
    return {**_heads(out, parts), **{name: tuple(values) for name, values in out.items()}}


# Words that open anatomical names without naming a part ("first dorsal metatarsal artery", "circle of Willis")
_NOT_HEADS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth left right"
                       " common deep superficial greater lesser long short external internal anterior posterior"
                       " superior inferior middle lateral medial base body bundle circle false central distal"
                       " proximal dorsal ventral great small large accessory transverse descending ascending"
                       " upper lower outer inner floor roof broad round least intermediate sweat".split())
_ADJECTIVE = re.compile(r"(?:al|ar|ic|ac|ous|ary|ine|ial|eal|ian|ior|ern|ent)$")
# What the rest of such a name says the first word is a part of ("scaphoid bone", "achilles tendon")
_PART_NOUNS = frozenset("bone bones process joint tendon ligament muscle bursa nerve artery vein cartilage membrane"
                        " gland duct sinus fascia cuff capsule plexus valve node sphincter canal tubercle tuberosity"
                        " condyle ganglion".split())
HEAD_VALUES = 2  # body parts a name's first word alone may stand for


def _heads(names: dict[tuple[str, ...], dict[tuple[str, ...], None]],
           parts: frozenset[str]) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The first word of two-word and longer names, alone, where it is a noun that names the part and
    leads to at most two body parts: "scaphoid" (Scaphoid bone: Carpal), "olecranon" (Olecranon
    process: Ulna; olecranon bursa: Elbow Bursa and Ligament), "achilles" (Achilles tendon: Lower Leg
    Tendon), as notes write them ("ORIF scaphoid fx"). Not a word ICD-10-PCS body parts
    say themselves (`parts`): "thyroid" alone is the thyroid gland, not the larynx of "thyroid cartilage"."""
    heads: dict[str, dict[tuple[str, ...], None]] = {}
    for name, values in names.items():
        if len(name) > 1 and set(name[1:]) & _PART_NOUNS:
            for value in values:
                heads.setdefault(name[0], {})[value] = None
    return {(head,): tuple(values) for head, values in heads.items()
            if (head,) not in names and head not in _NOT_HEADS and head not in parts
            and not _ADJECTIVE.search(head) and len(head) > 3
            and head.isalpha() and len(values) <= HEAD_VALUES and not any(head in v for v in values)}


@dataclass(frozen=True, slots=True)
class Hit:
    code_id: int
    path: str  # as the index prints it
    text: str  # what is scored: the path without its nonessential modifiers
    source: str
    coverage: float
    bm25: float  # relative to the best path of the query, 0 to 1
    inherited: bool = False  # a path to the code above this one (Engine._completed)


def present(conn: sqlite3.Connection) -> bool:
    try:
        conn.execute("SELECT 1 FROM search_paths LIMIT 1")
    except sqlite3.OperationalError:
        return False
    return True


def search(conn: sqlite3.Connection, groups: list[Group], expr: str,
           mask: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Hit]:
    """The paths matching `expr`, one per code (the one that says most of the query), best first."""
    try:
        # most queries match no path or one: BM25, which first reads every path of each query word to
        # weigh the words, is worth its cost only to order two or more (one path's BM25 relative to the
        # best is 1)
        rows = conn.execute("SELECT p.code_id, p.path, p.source, 1.0"
                            " FROM search_paths_fts JOIN search_paths p ON p.id = search_paths_fts.rowid"
                            " WHERE search_paths_fts MATCH ? LIMIT 2", (expr,)).fetchall()
        if len(rows) > 1:
            rows = conn.execute("SELECT p.code_id, p.path, p.source, -bm25(search_paths_fts)"
                                " FROM search_paths_fts JOIN search_paths p ON p.id = search_paths_fts.rowid"
                                " WHERE search_paths_fts MATCH ? ORDER BY rank LIMIT ?", (expr, LIMIT)).fetchall()
    except sqlite3.OperationalError:  # an expression SQLite refuses: no paths, not a crash
        return []
    if rows and mask is not None:
        ok = mask(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        rows = [r for r, k in zip(rows, ok.tolist(), strict=True) if k]
    if not rows:
        return []
    coverage = rank.Coverage(groups)
    top = max(r[3] for r in rows) or 1.0
    best: dict[int, Hit] = {}
    for cid, path, source, bm25 in rows:
        text = _MODIFIERS.sub(" ", path) if "(" in path else path
        hit = Hit(cid, path, text, source, coverage(text), max(bm25, 0.0) / top)
        if cid not in best or (best[cid].coverage, best[cid].bm25) < (hit.coverage, hit.bm25):
            best[cid] = hit
    return sorted(best.values(), key=lambda h: (-h.coverage, -h.bm25))
