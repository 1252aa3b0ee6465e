"""The search engine over one open index: codes, ranges and words to ranked results.

One `Engine` per index file and process holds what every query reuses (per-code arrays, the
vocabulary, the embedding matrix); SQLite connections come from the Catalog, one per thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import systems
from ..errors import MedcodesError
from . import rank
from .lexicon import Group
from .lexicon import groups as lexicon_groups
from .query import CodeTerm, Query, Range
from .spell import Vocabulary

CANDIDATES = 300  # re-scored per query; BM25 order decides which
SYSTEM_ORDER = tuple(systems.SYSTEMS)
DOTTED = frozenset(s.id for s in systems.SYSTEMS.values() if s.dotted("A000000") != "A000000")
_ROW = "id, system, code, title, kind, billable, deleted_in"


@dataclass
class Hit:
    id: int
    score: float
    how: str  # "code", "family", "range", "words", "semantic"
    term: str = ""  # the code, range or lexicon entry that produced it


@dataclass
class Lexical:
    hits: list[rank.Candidate] = field(default_factory=list)
    total: int = 0
    facets: dict[str, int] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    corrected: dict[str, str] = field(default_factory=dict)  # typed word -> the word searched instead
    relaxed: bool = False
    expr: str = ""  # the FTS expression that matched


class Engine:
    def __init__(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("SELECT 1 FROM search_vocab LIMIT 1")
        except sqlite3.OperationalError:
            raise MedcodesError("this index has no search tables; rebuild it with `medcodes build`") from None
        rows = conn.execute("SELECT id, system, billable, deleted_in IS NOT NULL FROM codes").fetchall()
        size = max((r[0] for r in rows), default=0) + 1
        self.system = np.full(size, -1, dtype=np.int8)
        self.billable = np.zeros(size, dtype=np.int8)  # -1 unknown, 0 no, 1 yes
        self.deleted = np.zeros(size, dtype=bool)
        for cid, system, billable, deleted in rows:
            self.system[cid] = SYSTEM_ORDER.index(system) if system in SYSTEM_ORDER else -1
            self.billable[cid] = -1 if billable is None else billable
            self.deleted[cid] = bool(deleted)
        self.ranges = _ranges(self.system)
        self.vocab = Vocabulary(conn)
        self._lock = threading.Lock()
        self._local = threading.local()
        from . import semantic

        self._semantic: Any = None
        self._semantic_loaded = not semantic.wanted()  # decided once, when the engine is made

    def tune(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Memory-map the (read-only) index once per thread's connection: FTS doclists are then
        read straight from the OS page cache, not through SQLite's small per-connection cache."""
        if getattr(self._local, "conn", None) is not conn:
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA cache_size=-32768")
            self._local.conn = conn
        return conn

    # -- words -------------------------------------------------------------------
    def lexical(self, conn: sqlite3.Connection, words: tuple[str, ...], partial: bool,
                wanted: tuple[str, ...], billable: bool | None, correct: bool = True,
                scope: np.ndarray | None = None) -> Lexical:
        """Word matches, best first. `scope` (sorted ids) keeps only codes inside it."""
        # complete a phrase ("heart att") but not a single known word ("hiv" is not "hives")
        complete = partial and (len(words) > 1 or not self.vocab.known(words[-1]))
        out = Lexical(groups=_meaningful(lexicon_groups(words, complete)))
        if not out.groups:
            return out
        if correct:
            out.groups, out.corrected = self._tolerate(out.groups, partial)
        if partial and out.groups[-1].finished:
            partial = False
        if partial:
            out.groups[-1] = self._complete(out.groups[-1])
        n = len(out.groups)
        for need in _needs(n):
            matching = out.groups if need > 1 else self._rare(out.groups)
            expr = rank.fts_expression(matching, partial, need if need > 1 else 1)
            facets = self._count(conn, expr, billable, scope)
            if facets:
                out.relaxed = need < n
                break
        else:
            return out
        out.facets = facets
        out.total = sum(v for k, v in facets.items() if not wanted or k in wanted)
        if out.total:
            ids, scores = self._pool(conn, expr, wanted, billable, scope)
            out.hits = self._candidates(conn, ids, scores)
            out.expr = expr
            rank.rescore(out.hits, out.groups, partial)
            out.hits.sort(key=lambda c: -c.score)
        return out

    def _pool(self, conn: sqlite3.Connection, expr: str, wanted: tuple[str, ...], billable: bool | None,
              scope: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """The candidates to re-score. Unless the user asked for ICD-9, current systems get their
        own pool: ICD-9's short titles ("TB of kidney-unspec") would otherwise fill every BM25 slot
        and push the ICD-10 codes people want out of reach of the re-scoring."""
        legacy = tuple(s for s in (self.ranges or {}) if s in rank.LEGACY_SYSTEMS)
        if wanted or not legacy:
            return self._top(conn, expr, wanted, billable, scope, CANDIDATES)
        current = tuple(s for s in self.ranges or {} if s not in rank.LEGACY_SYSTEMS)
        ids, scores = self._top(conn, expr, current, billable, scope, CANDIDATES)
        old_ids, old_scores = self._top(conn, expr, legacy, billable, scope, CANDIDATES // 5)
        return np.concatenate([ids, old_ids]), np.concatenate([scores, old_scores])

    def _rare(self, groups: list[Group]) -> list[Group]:
        """For an any-word match: the groups whose words are not everywhere. "treatment" or
        "devices" add tens of thousands of matches and almost nothing to the ranking."""
        if len(groups) < 3:
            return groups
        common = max(500, len(self.system) // 10)

        def df(g: Group) -> int:
            return min(max((self.vocab.count.get(w, 0) for w in rank.content(alt)), default=0)
                       for alt in g.alternatives)

        rare = [g for g in groups if df(g) < common]
        return rare or sorted(groups, key=df)[:3]

    def more(self, conn: sqlite3.Connection, lex: Lexical, wanted: tuple[str, ...], billable: bool | None,
             upto: int) -> list[int]:
        """Ids past the re-scored candidates, in BM25 order (deep pages only)."""
        if not lex.expr or lex.total <= len(lex.hits):
            return []
        ids, _ = self._top(conn, lex.expr, wanted, billable, None, upto)
        seen = {c.id for c in lex.hits}
        return [int(i) for i in ids if int(i) not in seen]

    def _count(self, conn: sqlite3.Connection, expr: str, billable: bool | None,
               scope: np.ndarray | None) -> dict[str, int]:
        """Matches per system. Codes of a system have consecutive ids, so each count is one
        rowid-range scan inside FTS5, with no rows brought into Python."""
        if billable is None and scope is None and self.ranges is not None:
            out = {}
            for system, (lo, hi) in self.ranges.items():
                n = self._sql(conn, "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"
                              " AND rowid BETWEEN ? AND ?", (expr, lo, hi))
                if n and n[0][0]:
                    out[system] = int(n[0][0])
            return out
        rows = self._sql(conn, "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (expr,))
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if len(ids) == 0:
            return {}
        mask = self.filter(ids, (), billable)
        if scope is not None:
            mask &= np.isin(ids, scope)
        return self.facets(ids[mask])

    def _top(self, conn: sqlite3.Connection, expr: str, wanted: tuple[str, ...], billable: bool | None,
             scope: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        weights = ", ".join(map(str, rank.WEIGHTS))
        where = "search_fts MATCH ?"
        args: list[Any] = [expr]
        if wanted and self.ranges is not None:
            spans = [self.ranges[s] for s in wanted if s in self.ranges]
            if not spans:
                return np.zeros(0, dtype=np.int64), np.zeros(0)
            where += " AND (" + " OR ".join("rowid BETWEEN ? AND ?" for _ in spans) + ")"
            args += [x for span in spans for x in span]
        filtered = billable is not None or scope is not None or bool(wanted and self.ranges is None)
        sql = (f"SELECT rowid, -bm25(search_fts, {weights}) AS s FROM search_fts WHERE {where}"
               " ORDER BY s DESC" + ("" if filtered else f" LIMIT {int(k)}"))
        rows = self._sql(conn, sql, tuple(args))
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        if filtered:
            mask = self.filter(ids, wanted, billable)
            if scope is not None:
                mask &= np.isin(ids, scope)
            ids, scores = ids[mask][:k], scores[mask][:k]
        return ids, scores

    @staticmethod
    def _sql(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # an FTS expression SQLite refuses: no matches, not a crash
            return []

    def _complete(self, group: Group) -> Group:
        """Add the words the unfinished last word may become as alternatives."""
        span = group.alternatives[0]
        if not span or not span[-1].isalpha():
            return group
        more = tuple((*span[:-1], w) for w in self.vocab.complete(span[-1]))
        return Group(tuple(dict.fromkeys((*group.alternatives, *more))), group.words, group.entry)

    def _tolerate(self, groups: list[Group], partial: bool) -> tuple[list[Group], dict[str, str]]:
        """Add spelling corrections as alternatives for words the index does not know."""
        out: list[Group] = []
        corrected: dict[str, str] = {}
        for i, g in enumerate(groups):
            if g.entry is None and len(g.words) == 1:
                word = g.words[0]
                last = partial and i == len(groups) - 1
                if not self.vocab.known(word) and not (last and self.vocab.has_prefix(word)):
                    fixes = self.vocab.corrections(word)
                    if fixes:
                        corrected[word] = fixes[0]
                        # a correction may itself be a lexicon term ("diabetis" -> "diabetes")
                        out.append(Group((g.words, *((f,) for f in fixes)), g.words))
                        continue
            out.append(g)
        return out, corrected

    def filter(self, ids: np.ndarray, wanted: tuple[str, ...], billable: bool | None) -> np.ndarray:
        mask = np.ones(len(ids), dtype=bool)
        if wanted:
            idx = [SYSTEM_ORDER.index(s) for s in wanted]
            mask &= np.isin(self.system[ids], idx)
        if billable is not None:
            mask &= self.billable[ids] == (1 if billable else 0)
        return mask

    def facets(self, ids: np.ndarray) -> dict[str, int]:
        counts = np.bincount(self.system[ids].astype(np.int64) + 1, minlength=len(SYSTEM_ORDER) + 1)[1:]
        return {SYSTEM_ORDER[i]: int(n) for i, n in enumerate(counts) if n}

    def _candidates(self, conn: sqlite3.Connection, ids: np.ndarray, scores: np.ndarray) -> list[rank.Candidate]:
        by_id = {int(i): float(s) for i, s in zip(ids, scores, strict=True)}
        rows = fetch_rows(conn, list(by_id))
        return [rank.Candidate(r[0], r[1], r[2], r[3], r[4], r[5], r[6] is not None, by_id[r[0]]) for r in rows]

    # -- codes -------------------------------------------------------------------
    def exact(self, conn: sqlite3.Connection, compact: str) -> list[tuple[Any, ...]]:
        return conn.execute(f"SELECT {_ROW} FROM codes WHERE compact=? ORDER BY id", (compact,)).fetchall()

    def family(self, conn: sqlite3.Connection, term: CodeTerm, wanted: tuple[str, ...],
               billable: bool | None) -> list[int]:
        """Ids of the codes under a code prefix ("S72.0", "0SG", "E11"), in code order."""
        rows = conn.execute("SELECT id FROM codes WHERE compact>? AND compact<? AND instr(compact, '-')=0"
                            " ORDER BY id", (term.compact, term.compact + "~")).fetchall()
        if "." in term.raw:  # typed with a dot: only systems whose codes have dots
            wanted = tuple(s for s in (wanted or SYSTEM_ORDER) if s in DOTTED)
        return self._keep([r[0] for r in rows], wanted, billable)

    def has_family(self, conn: sqlite3.Connection, term: CodeTerm) -> bool:
        return conn.execute("SELECT 1 FROM codes WHERE compact>? AND compact<? LIMIT 1",
                            (term.compact, term.compact + "~")).fetchone() is not None

    def code_range(self, conn: sqlite3.Connection, r: Range, wanted: tuple[str, ...],
                   billable: bool | None) -> list[int]:
        first, last = sorted((r.first, r.last))
        rows = conn.execute("SELECT id FROM codes WHERE compact>=? AND compact<? AND instr(compact, '-')=0"
                            " ORDER BY id", (first, last + "~")).fetchall()
        return self._keep([i[0] for i in rows], wanted, billable)

    def _keep(self, ids: list[int], wanted: tuple[str, ...], billable: bool | None) -> list[int]:
        if not ids:
            return ids
        arr = np.array(ids, dtype=np.int64)
        return [int(i) for i in arr[self.filter(arr, wanted, billable)]]

    def nearest_code(self, conn: sqlite3.Connection, compact: str) -> str | None:
        """The longest existing code that `compact` starts with ("E11.99" -> E11.9), for "did you mean"."""
        for n in range(len(compact) - 1, 2, -1):
            row = conn.execute("SELECT code FROM codes WHERE compact=? ORDER BY id LIMIT 1",
                               (compact[:n],)).fetchone()
            if row:
                return str(row[0])
        return None

    # -- semantic ----------------------------------------------------------------
    def fuse(self, conn: sqlite3.Connection, query: Query, lex: Lexical, wanted: tuple[str, ...],
             billable: bool | None) -> tuple[list[int], dict[int, float], set[int]] | None:
        """Lexical hits fused with the nearest codes by meaning; None when semantic search is off."""
        index = self.semantic(conn)
        if index is None or not query.words:
            return None
        from . import semantic

        return semantic.fuse(index, self, query, lex, wanted, billable)

    def semantic(self, conn: sqlite3.Connection) -> Any:
        """The embedding index, loaded on first use; None when semantic search is off or absent."""
        if not self._semantic_loaded:
            with self._lock:
                if not self._semantic_loaded:
                    from . import semantic

                    self._semantic = semantic.load(conn)
                    self._semantic_loaded = True
        return self._semantic


def _ranges(system: np.ndarray) -> dict[str, tuple[int, int]] | None:
    """Each system's first and last id, when every system's ids are consecutive (as the builder
    writes them); None otherwise, and filtering falls back to per-row masks."""
    out: dict[str, tuple[int, int]] = {}
    present = np.nonzero(system >= 0)[0]
    for i, name in enumerate(SYSTEM_ORDER):
        ids = np.nonzero(system == i)[0]
        if len(ids):
            lo, hi = int(ids[0]), int(ids[-1])
            inner = present[(present >= lo) & (present <= hi)]
            if len(inner) != len(ids):
                return None
            out[name] = (lo, hi)
    return out


def fetch_rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += conn.execute(f"SELECT {_ROW} FROM codes WHERE id IN ({','.join('?' * len(chunk))})",
                            chunk).fetchall()
    return out


def _meaningful(groups: list[Group]) -> list[Group]:
    kept = [g for g in groups if g.entry is not None or any(w not in rank.STOPWORDS for w in g.words)]
    return kept or groups


def _needs(n: int) -> list[int]:
    """How many groups must match, strictest first: all, then all but one (up to 6 groups), then any."""
    out = [n]
    if 2 < n <= 6:
        out.append(n - 1)
    if n > 1:
        out.append(1)
    return out


def note_terms(conn: sqlite3.Connection, cid: int) -> list[tuple[str, str]]:
    """(field, text) pairs that name code `cid`: synonyms, inclusion terms, index terms, notes."""
    row = conn.execute("SELECT system, code, short_title, synonyms, notes FROM codes WHERE id=?", (cid,)).fetchone()
    if row is None:
        return []
    out: list[tuple[str, str]] = []
    if row[2]:
        out.append(("short_title", row[2]))
    out += [("synonym", s) for s in json.loads(row[3])]
    for note_type, text in json.loads(row[4]):
        if note_type == "inclusion":
            out.append(("inclusion", text))
    out += [("index", t) for (t,) in conn.execute("SELECT term FROM terms WHERE system=? AND code=?", row[:2])]
    for note_type, text in json.loads(row[4]):
        if note_type in ("includes", "definition"):
            out.append(("note", text))
    return out
