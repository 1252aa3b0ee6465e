"""The search engine over one open index: words to ranked candidates, and codes, families, ranges.

One `Engine` per index file and process holds what every query reuses (per-code arrays, the
vocabulary, the sorted codes, the history, the embedding matrix, a cache of costly matches);
SQLite connections come from the Catalog, one per thread.

What bounds the work of one query (issue 3): a match of a few hundred codes is counted and
scored by one statement (BM25 costs a row lookup per match, so it runs only when there is a
choice to make); a larger one is counted per system with rowid-range scans (each system's
codes have consecutive ids) and, when every word matched, takes its candidates from the
system's shortest descriptors, which the indexer puts first, instead of scoring tens of
thousands of matches; an any-word match keeps only the rarest words, up to a budget of
matches; and the counts and candidates of a costly match are remembered.

Recall: every level of matching is counted after the filters (a level whose matches are all in
systems the user filtered out finds nothing), and a small all-word match is blended with the
shortest descriptors that say all but one of the words (`_find`). Codes the official indexes lead
to (paths.py) join the candidates when the descriptors do not already say everything asked.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .. import systems
from ..errors import MedcodesError
from . import acts, context, index_terms, lexicon, paths, rank, sites, stored_parts, wordparts
from .asof import AsOf, History
from .codes import CodeIndex, range_systems
from .lexicon import Group
from .query import DOSE_UNITS, CodeTerm, Query, Range, words
from .spell import Vocabulary

CANDIDATES = 300  # re-scored per query; BM25 order decides which
RELAXED_CANDIDATES = 150  # when not every word matched: coverage decides more than BM25 depth
SMALL = 1_500  # matches few enough that one statement scores them all (Engine._all)
ANY_WORD_BUDGET = 3_000  # codes an any-word match may bring to BM25, rarest words first
COSTLY = 2_000  # matches past which a word match's counts and candidates are remembered
WINDOW_FROM = 1_500  # a system's matches past which its candidates are its shortest descriptors (_shortest)
CACHE_SIZE = 1024
NOTES_KEPT = 2048  # codes whose notes and index terms are remembered for the explanation of results
# A level of matches smaller than this is blended with the next looser one (Engine._find); their BM25
# scale differs, so the looser level's scores count for less.
BLEND_BELOW = 40
BLENDED = 0.5
BLEND_CANDIDATES = 60  # per system, from the looser level
COMPLETED_PATHS = 4  # index paths to a code still to be completed, completed per query (Engine._completed)
COMPLETED_CODES = 40  # codes read under each
COMPLETED_TABLE = 20  # a PCS table's codes, where the path does not say which: only a table this small
INHERITED_OWN = 0.1  # a code led to by a path to the code above it: its own descriptor's score, this much
ENTRY_CODES = 12  # codes under what a lexicon term means, candidates where no code says every group
LOOSER_UP_TO = 5  # groups up to which a blend that adds nothing tries the next level (a longer text's
# combinations of words are many scans, and a level below says too little of it to be worth them)
BLEND_FROM_GROUPS = 3  # two words: the looser level is either word alone, too broad to be worth blending
GEMS_SHOWN = 8  # GEMs equivalents listed for the ICD-9 code a query names
LEGACY_PENALTY = rank.LEGACY_PENALTY
LEGACY_MARGIN = 0.02
JOINED = 7  # letters of a word two typed words may make ("chin strap": chinstrap)
SPLIT_MIN = 3  # letters of each word of two typed as one that a descriptor says together ("lowback")
SPLIT_PART = 4  # letters of each, where no descriptor says them together ("kneepain")
SPLIT_COMMON = 20  # codes that use each such word
# the first halves of words made with a prefix, not two words: "transfemoral", "microdisc", "overbed"
PREFIXES = frozenset("trans micro multi pre post sub supra inter intra non anti over under peri para retro hyper"
                     " hypo semi uni bi tri mid ultra extra infra co re de dis".split())
TRUNCATED = 4  # letters of a word cut short that may stand for the words it starts ("enceph")
TRUNCATIONS = 4  # the most used words it may stand for
COMMONER = 10  # a correction of an unfinished last word this many times as used as the word it begins
PATH_HITS = 40  # index paths (paths.py) that may bring their code into the candidates
TABLE_BELOW = 0.001  # how far below its best code a table comes
TABLE_MARGIN = 0.03  # how much better than its best code a table may score and still come after it
PATH_RELAX_FROM = 3  # groups from which an index path may leave one out
PATH_RELAX_TWO_FROM = 5  # and two, where none says all but one, up to PATH_RELAX_TWO_TO groups (a pasted
PATH_RELAX_TWO_TO = 5  # list of 15 drugs would be a hundred expressions of a dozen words each)
PATH_BONUS = 0.02  # the official index's own way to the code, over a descriptor that says as much
SYSTEM_ORDER = tuple(systems.SYSTEMS)
DOTTED = frozenset(s.id for s in systems.SYSTEMS.values() if s.dotted("A000000") != "A000000")
_ROW = "id, system, code, title, kind, billable, deleted_in"
_LEGACY_INDEX = [SYSTEM_ORDER.index(s) for s in rank.LEGACY_SYSTEMS if s in SYSTEM_ORDER]
_LEGACY_TABLE = np.isin(np.arange(len(SYSTEM_ORDER) + 1), _LEGACY_INDEX)  # by system number; -1 (no code) is last
T = TypeVar("T")


@dataclass(frozen=True)
class Filter:
    """What a search keeps: systems, billable or not, codes that existed on a date, and (for words
    typed with codes) the codes' families."""

    wanted: tuple[str, ...] = ()
    billable: bool | None = None
    as_of: AsOf | None = None
    scope: np.ndarray | None = None  # sorted ids

    @property
    def plain(self) -> bool:
        """No per-code condition: counts and candidates come from rowid ranges alone."""
        return self.billable is None and self.as_of is None and self.scope is None

    def without_scope(self) -> Filter:
        return Filter(self.wanted, self.billable, self.as_of)


@dataclass
class Lexical:
    hits: list[rank.Candidate] = field(default_factory=list)
    total: int = 0
    facets: dict[str, int] = field(default_factory=dict)
    groups: list[Group] = field(default_factory=list)
    corrected: dict[str, str] = field(default_factory=dict)  # typed word -> the word searched instead
    relaxed: bool = False
    expr: str = ""  # the FTS expression that matched
    paths: dict[int, tuple[str, str]] = field(default_factory=dict)  # code id -> (index path, index) that led to it
    rarity: tuple[float, ...] = ()  # per group, how much saying it counts (rank.rescore)
    denied: list[Group] = field(default_factory=list)  # what a procedure query says is not there ("no stent")


# Semantic fusion costs one sentence encoding (~10 ms on a CPU core). When several descriptors
# already say everything that was asked, meaning adds nothing at the top (measured in
# bench/search.py: same success@1 on the lexicon and first-result sets), so it is skipped there.
ANSWERED_BY_WORDS = 3
# Codes found by meaning come after every word match (semantic.fuse): when the words find a page of
# codes (the default page, 10), the first page is the same with or without them, and the sentence
# encoding and the pass over the vectors (2 ms of a CPU core) are skipped. Fixed, not the page asked
# for, so that every page of one query has the same total. Semantic retrieval fills in where the words
# are weak: they found less than a page.
SEMANTIC_BELOW = 10
RARITY_POWER = 1.0  # how far a rare group outweighs a common one (engine._rarity)
RAREST_ABOVE = 1.2  # a group this much rarer than the query's mean also finds codes alone (Engine._find)
# words few descriptors use that say where or when, not what ("pain down my leg" is no Down syndrome)
FUNCTION_WORDS = frozenset("down up out off over under after before around through across again still when while"
                           " during since until very too both each well".split())
DOSE_WEIGHT = 0.25
# words that say who has it: "pertussis in baby" is pertussis, not what babies have
PERSON_WORDS = frozenset("baby babies infant infants child children kid kids toddler toddlers teen teens teenager"
                         " adult adults elderly man men woman women boy boys girl girls son daughter dad mom mother"
                         " father husband wife patient pt person people mum mummy dad daddy bro brother sis sister"
                         " nan nana gran granny grandma grandpa grandmother grandfather grandson granddaughter aunt"
                         " uncle niece nephew".split())
PERSON_WEIGHT = 0.5
RESPELT_AT_MOST = 2  # misspelt words a query may have for them to be read inside terms
DURATION_UNITS = frozenset("hour hours hr hrs day days week weeks wk wks month months year years".split())
# words that make a duration a code's own: weeks of gestation, hours of unconsciousness, days of a newborn
KEEP_DURATION = frozenset("pregnant pregnancy gestation gestational consciousness loc unconscious unconsciousness"
                          " coma newborn neonate ventilation ventilator vent hypothermia iup gravida primigravida"
                          " multigravida ga ega edd lmp ob trimester".split())
_OBSTETRIC = re.compile(r"g\d+(?:p\d+)?")  # "G1P0 @ 32 wks": gravida and para
NUMBER_WORDS = frozenset("a few several couple one two three four five six seven eight nine ten".split())
# a size or weight said with its unit ("walker wheels 5 inch", "bed for 600 lbs") qualifies as a dose does
MEASURES = frozenset("inch inches cm mm ft feet lb lbs pound pounds oz ounce ounces".split())
GRAMS_OF_WEIGHT = 100  # "2,000-2,499 grams" is a newborn's weight, not a dose
_SHOT = (("injection",), ("infusion",))  # what HCPCS descriptors of injected drugs say
ROUTES: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("iv",): (("intravenous",), *_SHOT), ("im",): (("intramuscular",), *_SHOT), ("po",): (("oral",),),
    ("sq",): (("subcutaneous",), *_SHOT), ("subq",): (("subcutaneous",), *_SHOT), ("sc",): (("subcutaneous",), *_SHOT)}
PROCEDURES = "icd10pcs"  # the system whose body-part names the PCS Index "use" references give


def lexically_answered(lex: Lexical) -> bool:
    """Whether the lexical candidates already answer the query: enough full-coverage hits, no words dropped."""
    if lex.relaxed:
        return False
    return sum(1 for c in lex.hits if c.coverage >= 1.0) >= ANSWERED_BY_WORDS


class Engine:
    def __init__(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("SELECT 1 FROM search_vocab LIMIT 1")
        except sqlite3.OperationalError:
            raise MedcodesError("this index has no search tables; rebuild it with `medcodes build`") from None
        cur = conn.cursor()
        cur.row_factory = None
        rows = cur.execute("SELECT id, system, coalesce(billable, -1), deleted_in IS NOT NULL, code, kind"
                           " FROM codes").fetchall()
        size = max((r[0] for r in rows), default=0) + 1
        index = {s: i for i, s in enumerate(SYSTEM_ORDER)}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        self.system = np.full(size, -1, dtype=np.int8)
        self.billable = np.zeros(size, dtype=np.int8)  # -1 unknown, 0 no, 1 yes
        self.deleted = np.zeros(size, dtype=bool)
        self.system[ids] = np.fromiter((index.get(r[1], -1) for r in rows), dtype=np.int8, count=len(rows))
        self.billable[ids] = np.fromiter((r[2] for r in rows), dtype=np.int8, count=len(rows))
        # a code deleted in a later release, or one its own HCPCS file keeps with the date CMS terminated
        # it (not billable; "depo medrol 80 mg": J1040, ended 2024, comes after the live J1010; rank.TERMINATED_COST)
        terminated = rank.TERMINATED_KEPT
        self.deleted[ids] = np.fromiter((r[3] or r[1] in terminated and r[2] == 0 and r[5] in ("code", "modifier")
                                         for r in rows), dtype=bool, count=len(rows))
        # what the re-scoring reads of a candidate besides its descriptor: read from memory, a few
        # hundred candidates a query cost no SQL (7 MB for the 198k codes of the embedded data)
        self.code = np.full(size, "", dtype=f"U{max((len(r[4]) for r in rows), default=1)}")
        self.code[ids] = [r[4] for r in rows]
        self.kinds = tuple(sorted({r[5] for r in rows}))
        kind_index = {k: i for i, k in enumerate(self.kinds)}
        self.kind = np.zeros(size, dtype=np.int16)
        self.kind[ids] = np.fromiter((kind_index[r[5]] for r in rows), dtype=np.int16, count=len(rows))
        self._table_kind = kind_index.get("table", -1)
        self.ranges = _ranges(self.system)
        self.size = len(rows)
        self.doc, self.ordered = _doc_ids(conn, size)
        self.vocab = Vocabulary(conn, lexicon.names())
        self.parts = stored_parts.PartsTable.load(conn)
        self.index_terms = index_terms.load(conn)  # main terms as lexicon entries
        # words the lexicon and the index terms spell as they are ("numbing" is no "num bing")
        self.lexicon_words = lexicon.term_words() | frozenset(w for term in self.index_terms for w in term)
        self.sided_families = self._sided_families(conn)
        self.paths = paths.present(conn)
        self.operations = paths.operations(conn)  # procedure words the PCS Index names the operations of
        self.anatomy = sites.body_part_words(conn)  # the words of the body parts ICD-10-PCS operates on
        self.body_parts = paths.body_parts(conn, self.anatomy)  # anatomical names -> the PCS body part values
        self._lock = threading.Lock()
        self._local = threading.local()
        self._lazy: dict[str, Any] = {}
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._notes: OrderedDict[int, tuple[tuple[str, str], ...]] = OrderedDict()
        from . import semantic

        self._semantic: Any = None
        self._semantic_loaded = not semantic.wanted()  # decided once, when the engine is made

    def _sided_families(self, conn: sqlite3.Connection) -> frozenset[str]:
        """The ICD-10-CM categories with a code for a side (rank.rescore: the others cannot say one)."""
        rows = conn.execute("SELECT rowid FROM search_fts WHERE search_fts MATCH"
                            " '{title} : (left OR right OR bilateral)'").fetchall()
        ids = self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))]
        cm = ids[self.system[ids] == SYSTEM_ORDER.index("icd10cm")]
        return frozenset(code[:3] for code in self.code[cm].tolist())

    def tune(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Memory-map the (read-only) index once per thread's connection: FTS doclists are then
        read straight from the OS page cache, not through SQLite's small per-connection cache."""
        if getattr(self._local, "conn", None) is not conn:
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA cache_size=-32768")
            self._local.conn = conn
        return conn

    def _once(self, name: str, make: Callable[[], T]) -> T:
        """Per-process data built on first use (the sorted codes, the history)."""
        if name not in self._lazy:
            with self._lock:
                if name not in self._lazy:
                    self._lazy[name] = make()
        return self._lazy[name]  # type: ignore[no-any-return]

    def codes(self, conn: sqlite3.Connection) -> CodeIndex:
        return self._once("codes", lambda: CodeIndex(conn))

    def history(self, conn: sqlite3.Connection) -> History:
        return self._once("history", lambda: History(conn, len(self.system)))

    def as_of(self, conn: sqlite3.Connection, date: str) -> AsOf:
        return self.history(conn).on(date)

    def events(self, conn: sqlite3.Connection, cid: int) -> list[Any]:
        return self.history(conn).events.get(cid, [])

    # -- words -------------------------------------------------------------------
    def lexical(self, conn: sqlite3.Connection, words: tuple[str, ...], partial: bool, flt: Filter,
                correct: bool = True, asked: frozenset[str] = frozenset(), candidates: int = CANDIDATES,
                index: bool = True, weak: Callable[[Lexical], None] | None = None) -> Lexical:
        """Word matches, best first. `asked`: systems the user named (no penalty for old or DRG);
        `candidates`: how many to re-score when every word matches (suggestions need fewer); `weak`:
        called as soon as the descriptors are known not to answer the query, before the official
        indexes are read (the search then starts its semantic pass beside them: Engine.foresee)."""
        split = self._split_run_together(conn, words, partial) if correct else {}
        if split:
            words = tuple(w for word in words for w in split.get(word, (word,)))
        respelt = self._respelt_in_term(words, partial) if correct else {}
        if respelt:
            words = tuple(respelt.get(w, w) for w in words)
        complete = partial and (len(words) > 1 or self.vocab.unfinished(words[-1]))
        termed = lexicon.groups(words, complete, self.index_terms, self.lexicon_words)
        if flt.wanted == (PROCEDURES,):
            termed = _procedure_words(termed)
        groups = context.after(context.cervix(_scaled(self._word_parts(_meaningful(termed)))), self.vocab.known)
        procedures = not flt.wanted or PROCEDURES in flt.wanted
        if procedures:
            groups = acts.stone_broken_up(acts.matter_removed(self._anatomy(groups)))
        out = Lexical(groups=groups)
        if not out.groups:
            return out
        if correct:
            out.groups, out.corrected = self._tolerate(self._joined(out.groups), partial)
            out.corrected.update({word: " ".join(parts) for word, parts in split.items()})
            out.corrected.update(respelt)
        if procedures and self.ranges and sites.procedure_query(out.groups, flt.wanted == (PROCEDURES,)):
            out.groups = _procedure_words(out.groups, index_only=True)
            out.groups = acts.read_procedure(
                sites.placed(out.groups, functools.partial(self._place, conn)))  # after spelling: "pterigium"
            out.groups, out.denied = acts.refused(out.groups)
        if partial and out.groups[-1].finished:
            partial = False
        if partial:
            out.groups[-1] = self._complete(out.groups[-1])
        out.groups, dose = _doses(out.groups)  # a drug's or a transfusion's ("2 units")
        dose |= _durations(out.groups) | _cancer_stage(out.groups)
        out.rarity = self._rarity(out.groups, dose)
        rarest = max(((w, i) for i, w in enumerate(out.rarity) if i not in dose), default=(0.0, -1))
        most = out.groups[rarest[1]] if rarest[0] > RAREST_ABOVE else None
        if dose and len(dose) < len(out.groups):  # found by what it is; the dose only orders them
            asked_groups, out.groups = out.groups, [g for i, g in enumerate(out.groups) if i not in dose]
            found = self._find(conn, out, partial, flt, candidates, most)
            out.groups = asked_groups
        else:
            found = self._find(conn, out, partial, flt, candidates, most)
        if found is not None:
            out.facets, ids, scores = found
            out.total = sum(v for k, v in out.facets.items() if not flt.wanted or k in flt.wanted)
            if out.total:
                out.hits = self._candidates(ids, scores, flt)
                self._rescore(out.hits, self._titles(conn, out.hits), out, partial, asked | frozenset(flt.wanted))
        self._named_by_index(out)
        # the official indexes, where the descriptors do not already say everything asked
        if index and candidates >= CANDIDATES and not lexically_answered(out):
            if weak is not None:
                weak(out)
            if self.paths:
                self._add_paths(conn, out, partial, flt, asked | frozenset(flt.wanted))
        _tables_after_their_codes(out.hits)
        out.hits.sort(key=lambda c: (-c.score, c.id))
        return out

    def _rescore(self, cands: list[rank.Candidate], titles: rank.TitleWords, out: Lexical, partial: bool,
                 asked: frozenset[str]) -> None:
        """rank.rescore with what this query's reading knows: its groups, their rarity, what it denies."""
        rank.rescore(cands, titles, out.groups, partial, asked=asked, rarity=out.rarity, denied=out.denied,
                     sided_families=self.sided_families)

    @staticmethod
    def _named_by_index(out: Lexical) -> None:
        """A code an Alphabetic Index main term of the query names was found through the index: its
        entry is why (index_terms.py)."""
        named = {(system, code): path for g in out.groups if g.entry is not None
                 and (path := index_terms.path_of(g.entry)) for system, code in g.entry.expect}
        for c in out.hits if named else ():
            path = named.get((c.system, c.code.replace(".", "")))
            if path and c.id not in out.paths:
                out.paths[c.id] = (path, "index")

    def _rarity(self, groups: list[Group], dose: frozenset[int] = frozenset()) -> tuple[float, ...]:
        """How much saying each group counts, by how few codes say it: in "croup cough baby" or
        "ceftriaxone 1 gram", the rare word is what was asked, the common ones qualify it. The
        inverse document frequency of the group (its alternatives' codes together), relative to the
        query's mean; a side, or a word no code uses, counts as much as the mean; a dose (the groups
        `dose`) a quarter."""
        count = self.vocab.count
        idf: list[float | None] = []
        for g in groups:
            df = sum(min((count.get(w, 0) for w in alt if w not in rank.STOPWORDS), default=0)
                     for alt in g.alternatives)
            idf.append(math.log(self.size / (1 + df)) if df and not rank.is_side(g) and not acts.says_operation(g)
                       and not set(g.words) <= FUNCTION_WORDS else None)
        person = [len(groups) > 1 and set(g.words) <= PERSON_WORDS for g in groups]
        known = [v for v in idf if v is not None]
        if len(known) < 2 and not any(person):
            return ()
        mean = sum(known) / len(known) if len(known) > 1 else 0.0
        out = [1.0 if v is None or not mean else min(max((v / mean) ** RARITY_POWER, 0.5), 2.0) for v in idf]
        for i in dose:  # a dose ("1 gram", "125 mg") qualifies the drug named beside it
            out[i] = DOSE_WEIGHT
        for i, p in enumerate(person):  # who has it ("pertussis in baby") qualifies what was asked
            if p:
                out[i] = min(out[i], PERSON_WEIGHT)
        return tuple(out)

    def _add_paths(self, conn: sqlite3.Connection, out: Lexical, partial: bool, flt: Filter,
                   asked: frozenset[str]) -> None:
        via, relaxed = self._index_paths(conn, out, partial, flt)
        if not via:
            return
        via += self._completed(conn, via, flt)
        known = {c.id for c in out.hits}
        fresh = np.array([h.code_id for h in via if h.code_id not in known], dtype=np.int64)
        if len(fresh):  # codes only the index leads to: scored on their descriptor first (no BM25 of theirs)
            made = self._candidates(fresh, np.zeros(len(fresh)), flt)
            self._rescore(made, self._titles(conn, made), out, partial, asked)
            out.hits += made
            added = self.facets(fresh)
            for name, count in added.items():
                out.facets[name] = out.facets.get(name, 0) + count
            out.total += sum(added.values())
        self._rescore_paths(out, via, partial, asked, relaxed)

    def _completed(self, conn: sqlite3.Connection, via: list[paths.Hit], flt: Filter) -> list[paths.Hit]:
        """The codes under where an index path ends, when it ends above them:
        - an Alphabetic Index path at a code still to be completed ("Ulcer, pressure, stage 2, coccyx
          L89.15-"): the codes under it whose descriptor says nothing that the path or that code's
          descriptor does not ("Pressure ulcer of sacral region, stage 2"); a code the path does not
          finish (a fracture's encounter) is left to its descriptor;
        - a PCS Index path at a table of at most COMPLETED_TABLE codes ("Cesarean section"), or of at
          most COMPLETED_CODES whose row its "see" names ("Manual removal, retained placenta — see
          Extraction, Products of Conception, Retained"): those codes, as the coder reads the table."""
        cm, pcs = SYSTEM_ORDER.index("icd10cm"), SYSTEM_ORDER.index("icd10pcs")
        open_ends = [h for h in via if h.source == "index" and self.system[h.code_id] == cm
                     and self.billable[h.code_id] == 0
                     or h.source == "pcs-index" and self.system[h.code_id] == pcs
                     and self.kind[h.code_id] == self._table_kind][:COMPLETED_PATHS]
        if not open_ends:
            return []
        index = self.codes(conn)
        under = {h.code_id: index.under(str(self.code[h.code_id]).replace(".", ""),
                                        (SYSTEM_ORDER[self.system[h.code_id]],)) for h in open_ends}
        under = {i: self._keep(ids, flt) for i, ids in under.items() if len(ids) <= COMPLETED_CODES}
        # titles only where a descriptor decides (a code to complete, a table the path says a row of)
        filtered = [h.code_id for h in open_ends if h.code_id in under
                    and (h.source != "pcs-index" or " see " in h.path)]
        titles = {r[0]: r[3] for r in fetch_rows(conn, [*filtered, *(int(i) for c in filtered for i in under[c])])}
        led = {h.code_id for h in via}
        out: list[paths.Hit] = []
        for h in open_ends:
            if h.code_id not in under:
                continue
            table = h.source == "pcs-index"  # a table is said by its rows, not its title
            said = set() if table else set(rank.tokens(h.path)) | set(rank.tokens(titles.get(h.code_id, "")))
            see = rank.content(rank.tokens(h.path.partition(" see ")[2])) if table else ()
            if table and not see and len(under[h.code_id]) > COMPLETED_TABLE:
                continue
            for child in under[h.code_id].tolist():
                if child in led:
                    continue
                if table and not see:  # every row of a small table the path names whole
                    out.append(paths.Hit(child, h.path, h.text, h.source, h.coverage, h.bm25, inherited=True))
                    led.add(child)
                    continue
                words = rank.content(rank.tokens(titles.get(child, "")))
                if not words:
                    continue
                if table and all(w in words or any(rank.word_match(w, t) for t in words) for w in see) \
                        or not table and all(w in said or any(rank.word_match(w, s) or rank.word_match(s, w)
                                                              for s in said) for w in words):
                    out.append(paths.Hit(child, h.path, h.text, h.source, h.coverage, h.bm25, inherited=True))
                led.add(child)
        return out

    def _index_paths(self, conn: sqlite3.Connection, out: Lexical, partial: bool,
                     flt: Filter) -> tuple[list[paths.Hit], bool]:
        """Codes the official indexes lead to (paths.py): paths that say every group, or where none
        does, all groups but one ("poison oak blisters": the index's "Poison oak", which no
        descriptor says, with the blister left out); true when one was left out."""
        expr = rank.fts_expression(out.groups, partial)
        hits = paths.search(conn, out.groups, expr, mask=lambda ids: self.mask(ids, flt))[:PATH_HITS]
        if hits or len(out.groups) < PATH_RELAX_FROM:
            return hits, False
        # a side or an operation stays said; the ICD-10-PCS Index, whose entries are a root operation
        # and a body part, is no place to leave words out
        left_out = [i for i, g in enumerate(out.groups) if not rank.is_side(g) and not acts.says_operation(g)]
        exprs = ["(" + rank.fts_expression([g for j, g in enumerate(out.groups) if j != i],
                                           partial and i != len(out.groups) - 1) + ")" for i in left_out]
        if not exprs:
            return [], False
        relaxed = paths.search(conn, out.groups, " OR ".join(exprs), mask=lambda ids: self.mask(ids, flt))
        relaxed = [h for h in relaxed if h.source != "pcs-index"]
        if not relaxed and PATH_RELAX_TWO_FROM <= len(out.groups) <= PATH_RELAX_TWO_TO:
            # a sentence says two things no path does ("hand foot and mouth blisters from daycare": the
            # index's "Disease, hand, foot, and mouth", with the blisters and the daycare left out)
            exprs = ["(" + rank.fts_expression([g for k, g in enumerate(out.groups) if k not in (i, j)],
                                               partial and len(out.groups) - 1 not in (i, j)) + ")"
                     for n, i in enumerate(left_out) for j in left_out[n + 1:]]
            relaxed = [h for h in paths.search(conn, out.groups, " OR ".join(exprs),
                                               mask=lambda ids: self.mask(ids, flt)) if h.source != "pcs-index"]
        return relaxed[:PATH_HITS], True

    def _rescore_paths(self, out: Lexical, via: list[paths.Hit], partial: bool, asked: frozenset[str],
                       relaxed: bool) -> None:
        """Score each index path as if it were the code's descriptor; where the path scores better,
        the code takes that score (a little more: the index is the coder's own way in) and the path
        is remembered as what led to it. A `relaxed` path (one group left out) counts only where it
        says more of the query than the descriptor, and with no bonus: it is one reading of a few."""
        by_id = {c.id: c for c in out.hits}
        pairs = [(h, by_id[h.code_id]) for h in via if h.code_id in by_id and h.coverage > 0]
        if not pairs:
            return
        top = max(c.bm25 for c in out.hits) or 1.0
        twins = [rank.Candidate(c.id, c.system, c.code, c.kind, c.billable, c.deleted, top * h.bm25)
                 for h, c in pairs]
        twins.append(rank.Candidate(-1, "", "", "", None, False, top))  # keeps the BM25 scale of the titles
        asked_kind = any(w in rank.KINDS for g in out.groups for alt in g.alternatives for w in alt)
        texts = [h.text if asked_kind else _without_kinds(h.text) for h, _ in pairs]
        words = rank.title_words([*(rank.title_parts(t) for t in texts), rank.title_parts("")])
        self._rescore(twins, words, out, partial, asked)
        for (h, c), twin in zip(pairs, twins, strict=False):
            if relaxed and twin.coverage <= c.coverage:
                continue
            bonus = 0.0 if relaxed else PATH_BONUS
            if h.inherited:  # of the codes under where the path ends, those that say more of the query
                bonus += INHERITED_OWN * c.score
            if twin.score + bonus > c.score:
                c.score, c.coverage = twin.score + bonus, max(c.coverage, twin.coverage)
                out.paths[c.id] = (h.path, h.source)

    def _find(self, conn: sqlite3.Connection, out: Lexical, partial: bool, flt: Filter,
              candidates: int = CANDIDATES, rarest: Group | None = None
              ) -> tuple[dict[str, int], np.ndarray, np.ndarray] | None:
        """Facets and candidates, strictest match first: every group, then all but one, then any
        (the rarest). Levels are counted after the filters (a level whose matches are all in other
        systems finds nothing), and a level with fewer than BLEND_BELOW matches is blended with the
        next one, so that partial matches compete with a few all-word ones in the re-scoring
        ("Essential hypertension, unspecified": I10 says two of the three words). Sets `out.expr`
        (the strictest level that matched) and `out.relaxed` (a looser level contributed)."""
        n = len(out.groups)
        found: tuple[dict[str, int], np.ndarray, np.ndarray] | None = None
        sideless = False  # the codes that say all but the side were blended in
        for need in _needs(n):
            if found is not None:  # blended: the looser level's shortest descriptors, never twice
                # any word but a side: a side alone says nothing of what was asked
                said = [g for g in out.groups if not rank.is_side(g)] if need == 1 else out.groups
                more = self._blend(conn, said or out.groups, need, partial, flt, candidates)
                unsided = [g for g in out.groups if not rank.is_side(g)]
                if 1 < len(unsided) < n and need > 1 and not sideless:
                    # everything but the side, which a body part with none cannot say ("R gluteal abscess
                    # I&D": Buttock Subcutaneous Tissue): among the pairs, the shortest say the side
                    extra = self._blend(conn, unsided, len(unsided), partial, flt, candidates)
                    other = ~np.isin(more[0], extra[0])
                    more = np.concatenate([extra[0], more[0][other]]), np.concatenate([extra[1], more[1][other]])
                    sideless = True
                fresh = ~np.isin(more[0], found[1])
                found = found[0], np.concatenate([found[1], more[0][fresh]]), \
                    np.concatenate([found[2], more[1][fresh] * BLENDED])
                out.relaxed = out.relaxed or bool(fresh.any())
                if fresh.any() or need == 1 or n > LOOSER_UP_TO:
                    break
                continue  # nothing looser either: the next level ("cloudy lens replaced left eye": 3 of 5)
            level = self._level(conn, out.groups, need, partial, flt, candidates)
            if level is None:
                continue
            expr, facets, ids, scores = level
            found = facets, ids, scores
            out.expr, out.relaxed = expr, need < n
            in_wanted = sum(v for s, v in facets.items() if not flt.wanted or s in flt.wanted)
            # only tables say it all, by an index term of theirs ("lumbar puncture for meningitis": the
            # Drainage tables): their codes, which say the rest, compete
            tables_only = in_wanted < BLEND_BELOW and bool(len(ids)) \
                and bool(np.all(self.kind[ids] == self._table_kind))
            if in_wanted >= BLEND_BELOW or len(ids) >= candidates or need == 1 or n < BLEND_FROM_GROUPS \
                    and not any(rank.is_side(g) for g in out.groups) and not tables_only:
                break  # two words blend where one is a side some body parts lack: "I&D R buttock abscess"
        fallback = found is None and n > 1
        if fallback:  # the rarest words are other systems' only: any word the wanted systems know
            ids, scores = self._blend(conn, out.groups, 1, partial, flt, candidates, rare=False)
            if len(ids):
                found = self.facets(ids), ids, scores
                out.relaxed = True
        if found is not None and out.relaxed and n >= BLEND_FROM_GROUPS:
            # no code says every group: the codes each lexicon term means compete too ("hip fx after
            # fall": the hip fractures, whose words are too common to be among the any-word matches)
            named = self._entry_codes(conn, out.groups, flt)
            fresh = named[~np.isin(named, found[1])]
            if len(fresh):
                found = found[0], np.concatenate([found[1], fresh]), \
                    np.concatenate([found[2], np.full(len(fresh), BLENDED)])
        if not fallback and found is not None and rarest is not None and out.relaxed and n >= BLEND_FROM_GROUPS:
            # no code says every group: the codes that say the rarest ("nec fasc L thigh": necrotizing
            # fasciitis) compete with those that say more of the common ones (left thigh)
            more = self._blend(conn, [rarest], 1, partial and rarest is out.groups[-1], flt, candidates, rare=False)
            fresh = ~np.isin(more[0], found[1])
            found = found[0], np.concatenate([found[1], more[0][fresh]]), \
                np.concatenate([found[2], more[1][fresh] * BLENDED])
        return found

    def _entry_codes(self, conn: sqlite3.Connection, groups: list[Group], flt: Filter) -> np.ndarray:
        """The first ENTRY_CODES codes under the code each lexicon term of the query means (its first
        expected code, in a wanted system), in code order."""
        index = self.codes(conn)
        out = [self._keep(index.under(code.replace(".", "").upper(), (system,)), flt)[:ENTRY_CODES]
               for g in groups if g.entry is not None and g.entry.expect
               for system, code in g.entry.expect[:1] if not flt.wanted or system in flt.wanted]
        return np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)

    def _level(self, conn: sqlite3.Connection, groups: list[Group], need: int, partial: bool, flt: Filter,
               candidates: int) -> tuple[str, dict[str, int], np.ndarray, np.ndarray] | None:
        """One level of `_find`: the expression, facets and candidates of `need` groups matching;
        None when no code of the wanted systems matches."""
        n = len(groups)
        expr = self._expression(conn, groups, need, partial)
        k = min(RELAXED_CANDIDATES, candidates) if need < n else candidates
        total, rows = self._matches(conn, expr)
        if not total:
            return None
        if total <= SMALL:  # one statement gives the counts and the candidates
            facets, ids, scores = self._all(conn, expr, flt, k, scored=total > k + k // 5, rows=rows)
        else:
            facets = self._count(conn, expr, flt)
            if not any(not flt.wanted or s in flt.wanted for s in facets):
                return None
            # every candidate says all the words: the shortest descriptors are the best of them
            ids, scores = self._pool(conn, expr, flt, facets, k, windowed=need == n)
        if not len(ids) or not any(not flt.wanted or s in flt.wanted for s in facets):
            return None
        return expr, facets, ids, scores

    def _expression(self, conn: sqlite3.Connection, groups: list[Group], need: int, partial: bool,
                    rare: bool = True) -> str:
        matching = groups if need > 1 or not rare else self._rare(conn, groups, partial)
        return rank.fts_expression(matching, partial and matching[-1] is groups[-1], need)

    def _blend(self, conn: sqlite3.Connection, groups: list[Group], need: int, partial: bool, flt: Filter,
               candidates: int, rare: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of a looser level to blend with a stricter one: the codes of the wanted systems
        whose descriptor says `need` of the groups, shortest descriptor first (indexer.py), read in
        rowid order with no BM25 and no counting, so blending costs a few short scans."""
        empty = np.zeros(0, dtype=np.int64), np.zeros(0)
        if self.ranges is None or not self.ordered:
            return empty
        expr = "{title} : (" + self._expression(conn, groups, need, partial, rare) + ")"
        present = [s for s in (flt.wanted or SYSTEM_ORDER) if s in self.ranges and s not in rank.LEGACY_SYSTEMS]
        k = min(BLEND_CANDIDATES, candidates)
        per_row = Filter(billable=flt.billable, as_of=flt.as_of)
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT ?"
        ids: list[np.ndarray] = []
        for lo, hi in _spans([self.ranges[s] for s in present]):  # neighbouring systems are one scan
            rows = self._sql(conn, sql, (expr, lo, hi, k if per_row.plain else 4 * k))
            found = self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))]
            ids.append(found[self.mask(found, per_row)][:k])
        if not ids:
            return empty
        out = np.concatenate(ids)
        return out, 1.0 / (1.0 + np.arange(len(out)) / k)

    def _matches(self, conn: sqlite3.Connection, expr: str) -> tuple[int, list[Any] | None]:
        """How many codes match `expr`, and for a match of at most SMALL codes (most) their rowids, read
        by the one statement that counts them: the level's candidates then cost no second pass over
        the same doclists (Engine._all)."""
        with self._lock:
            known = self._cache.get(("df", expr))
            if known is not None:
                self._cache.move_to_end(("df", expr))
        if known is not None:
            return known, None
        rows = self._sql(conn, "SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT ?", (expr, SMALL + 1))
        if len(rows) <= SMALL:
            if _costly(len(rows)):  # as _remember would (never, unless COSTLY is below SMALL)
                self._memo(("df", expr), len(rows))
            return len(rows), rows
        return self._remember(("df", expr), lambda: self._df(conn, expr), _costly), None

    def _all(self, conn: sqlite3.Connection, expr: str, flt: Filter, k: int,
             scored: bool = True, rows: list[Any] | None = None) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Every match with its BM25 score, for a match of at most SMALL codes: the facets and
        the candidates (ICD-9 kept to its share, see _pool) from one statement. Not `scored`
        (every match is a candidate anyway): no BM25, whose cost is a row lookup per match,
        and the rowid order (shortest descriptor first, indexer.py) stands in for it; `rows`: the
        matches' rowids when they were read already (_matches)."""
        scored = scored or not self.ordered
        weights = ", ".join(map(str, rank.WEIGHTS))
        if scored or rows is None:
            rows = self._sql(conn, f"SELECT rowid, -bm25(search_fts, {weights}) FROM search_fts"
                             " WHERE search_fts MATCH ?" if scored
                             else "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (expr,))
        ids = self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))]
        if scored:
            scores = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        else:
            scores = 1.0 / (1.0 + _rank_within(self.system[ids]) / max(k, 1))
        if not flt.plain:
            keep = self.mask(ids, Filter(billable=flt.billable, as_of=flt.as_of, scope=flt.scope))
            ids, scores = ids[keep], scores[keep]
        facets = self.facets(ids)
        if flt.wanted:
            keep = self.mask(ids, Filter(flt.wanted))
            ids, scores = ids[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        ids, scores = ids[order], scores[order]
        legacy = _LEGACY_TABLE[self.system[ids]]
        if flt.wanted or legacy.sum() <= k // 5:
            return facets, ids[:k + int(legacy.sum())], scores[:k + int(legacy.sum())]
        pick = np.concatenate([np.nonzero(~legacy)[0][:k], np.nonzero(legacy)[0][:k // 5]])
        return facets, ids[pick], scores[pick]

    def _pool(self, conn: sqlite3.Connection, expr: str, flt: Filter, facets: dict[str, int], k: int,
              windowed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The candidates to re-score. Unless the user asked for ICD-9, current systems keep
        `k` places: ICD-9's short titles ("TB of kidney-unspec") would otherwise fill every
        BM25 slot and push the ICD-10 codes people want out of reach of the re-scoring."""
        if flt.wanted:
            return self._top(conn, expr, flt.wanted, flt, facets, k, windowed)
        present = tuple(s for s in SYSTEM_ORDER if facets.get(s))
        legacy = tuple(s for s in present if s in rank.LEGACY_SYSTEMS)
        old = sum(facets[s] for s in legacy)
        if old <= k // 5:  # one query: ICD-9 can take at most `old` of the places
            return self._top(conn, expr, present, flt, facets, k + old, windowed)
        current = tuple(s for s in present if s not in rank.LEGACY_SYSTEMS)
        ids, scores = self._top(conn, expr, current, flt, facets, k, windowed)
        old_ids, old_scores = self._top(conn, expr, legacy, flt, facets, k // 5, windowed)
        return np.concatenate([ids, old_ids]), np.concatenate([scores, old_scores])

    def _rare(self, conn: sqlite3.Connection, groups: list[Group], partial: bool) -> list[Group]:
        """For an any-word match: the rarest groups, as many as fit ANY_WORD_BUDGET matches.
        "treatment" or "devices" add tens of thousands of codes and almost nothing to the
        ranking. How many codes each group matches is counted by FTS5 itself (the stemmed
        "uses" also matches "used" and "using")."""
        if len(groups) < 3:
            return groups
        df = {}
        for i, g in enumerate(groups):
            expr = rank.fts_expression([g], partial and i == len(groups) - 1)
            df[id(g)] = self._remember(("df", expr), functools.partial(self._df, conn, expr), _costly)
        kept: set[int] = set()
        total = 0
        for g in sorted(groups, key=lambda g: df[id(g)]):
            if kept and total + df[id(g)] > ANY_WORD_BUDGET:
                break
            kept.add(id(g))
            total += df[id(g)]
        return [g for g in groups if id(g) in kept]

    def _df(self, conn: sqlite3.Connection, expr: str) -> int:
        rows = self._sql(conn, "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (expr,))
        return int(rows[0][0]) if rows else 0

    def more(self, conn: sqlite3.Connection, lex: Lexical, flt: Filter, upto: int) -> list[int]:
        """Ids past the re-scored candidates, in BM25 order (deep pages only)."""
        if not lex.expr or lex.total <= len(lex.hits):
            return []
        ids, _ = self._top(conn, lex.expr, flt.wanted or SYSTEM_ORDER, flt, lex.facets, upto)
        seen = {c.id for c in lex.hits}
        return [int(i) for i in ids if int(i) not in seen]

    def _count(self, conn: sqlite3.Connection, expr: str, flt: Filter) -> dict[str, int]:
        """Matches per system (facets count every system, whatever the filter on systems)."""
        if flt.plain and self.ranges is not None:
            return self._remember(("count", expr), lambda: self._range_counts(conn, expr),
                                  lambda out: sum(out.values()) > COSTLY)
        rows = self._sql(conn, "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", (expr,))
        ids = self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))]
        return self.facets(ids[self.mask(ids, Filter(billable=flt.billable, as_of=flt.as_of, scope=flt.scope))])

    def _range_counts(self, conn: sqlite3.Connection, expr: str) -> dict[str, int]:
        out = {}
        for system, (lo, hi) in (self.ranges or {}).items():
            n = self._sql(conn, "SELECT count(*) FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ?",
                          (expr, lo, hi))
            if n and n[0][0]:
                out[system] = int(n[0][0])
        return out

    def _top(self, conn: sqlite3.Connection, expr: str, wanted: tuple[str, ...], flt: Filter,
             facets: dict[str, int], k: int, windowed: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The k best BM25 matches among the codes of `wanted` that pass the filter.

        `windowed` (every match says all the words): when a system has more than WINDOW_FROM
        matches, BM25 over all of them is not worth its cost, and the candidates are instead
        each system's codes whose descriptor says the words, shortest descriptor first."""
        if self.ranges is None:
            return self._top_rows(conn, expr, [], flt, wanted, k)
        present = [s for s in wanted if facets.get(s) and s in self.ranges]
        if not present:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        costly = sum(facets[s] for s in present) > COSTLY
        if windowed and self.ordered and flt.scope is None and any(facets[s] > WINDOW_FROM for s in present):
            if not flt.plain:
                return self._shortest(conn, expr, present, facets, k, flt)
            return self._remember(("short", expr, tuple(present), k),
                                  lambda: self._shortest(conn, expr, present, facets, k), lambda _: costly)
        spans = _spans([self.ranges[s] for s in present])
        if flt.plain:
            return self._remember(("top", expr, tuple(spans), k),
                                  lambda: self._top_rows(conn, expr, spans, flt, (), k), lambda _: costly)
        return self._top_rows(conn, expr, spans, flt, (), k)

    def _shortest(self, conn: sqlite3.Connection, expr: str, present: list[str], facets: dict[str, int],
                  k: int, flt: Filter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per system, the first k matches in the title in rowid order, which is shortest
        descriptor first (indexer.py): FTS5 stops after k rows, with no BM25 over tens of
        thousands. Their score stands in for BM25: 1 for the shortest, falling with rank.
        With a filter (billable, a date), a few times k rows are read and the first k that
        pass it kept."""
        titled = "{title} : (" + expr + ")"
        sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT ?"
        per_row = Filter(billable=flt.billable, as_of=flt.as_of) if flt is not None else Filter()
        ids: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for system in present:
            lo, hi = (self.ranges or {})[system]
            rows = self._sql(conn, sql, (titled, lo, hi, k if per_row.plain else 4 * k))
            if len(rows) < min(k, facets[system]) and facets[system] <= WINDOW_FROM:
                found = self._top_rows(conn, expr, [(lo, hi)], per_row, (), k)  # the words are in notes
            else:
                cids = self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))]
                cids = cids[self.mask(cids, per_row)][:k]
                found = (cids, 1.0 / (1.0 + np.arange(len(cids)) / k))
            ids.append(found[0])
            scores.append(found[1] / (found[1].max() if len(found[1]) else 1.0))
        all_ids, all_scores = np.concatenate(ids), np.concatenate(scores)
        order = np.argsort(-all_scores, kind="stable")[:k]
        return all_ids[order], all_scores[order]

    def _top_rows(self, conn: sqlite3.Connection, expr: str, spans: list[tuple[int, int]], flt: Filter,
                  wanted: tuple[str, ...], k: int) -> tuple[np.ndarray, np.ndarray]:
        weights = ", ".join(map(str, rank.WEIGHTS))
        sql = f"SELECT rowid, -bm25(search_fts, {weights}) AS s FROM search_fts WHERE search_fts MATCH ?"
        limit = "" if not flt.plain or wanted else f" ORDER BY s DESC LIMIT {int(k)}"
        parts: list[tuple[np.ndarray, np.ndarray]] = []
        # one query per span, each a rowid range FTS5 scans alone (an OR of ranges scans everything)
        everything: list[tuple[int | None, int | None]] = [(None, None)]
        for lo, hi in spans or everything:
            where, args = ("", (expr,)) if lo is None else (" AND rowid BETWEEN ? AND ?", (expr, lo, hi))
            rows = self._sql(conn, sql + where + (limit or " ORDER BY s DESC"), args)
            parts.append((self.doc[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))],
                          np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))))
        ids = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        if not flt.plain or wanted:
            keep = self.mask(ids, Filter(wanted, flt.billable, flt.as_of, flt.scope))
            ids, scores = ids[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")[:k]
        return ids[order], scores[order]

    def _remember(self, key: tuple[Any, ...], make: Callable[[], T], costly: Callable[[T], bool]) -> T:
        """`make()`, remembered when it was costly (a few common words are in many queries)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]  # type: ignore[no-any-return]
        value = make()
        if costly(value):
            self._memo(key, value)
        return value

    def _memo(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    @staticmethod
    def _sql(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # an FTS expression SQLite refuses: no matches, not a crash
            return []

    def _sites(self, conn: sqlite3.Connection) -> sites.Sites:
        assert self.ranges is not None
        ranges = self.ranges
        return self._once("sites", lambda: sites.Sites.load(conn, ranges.get("icd10cm", (0, -1)),
                                                           ranges.get(PROCEDURES, (0, -1)), self.anatomy))

    def _place(self, conn: sqlite3.Connection, word: str) -> tuple[str, ...]:
        """A condition's place (sites.py), for words the index knows: what is remembered per word then
        stays within the vocabulary, whatever words queries send."""
        return self._sites(conn).of(conn, word, self.doc) if self.vocab.known(word) else ()

    def _complete(self, group: Group) -> Group:
        """Add the words the unfinished last word may become as alternatives."""
        span = group.alternatives[0]
        if not span or not span[-1].isalpha():
            return group
        more = tuple((*span[:-1], w) for w in self.vocab.complete(span[-1]))
        return Group(tuple(dict.fromkeys((*group.alternatives, *more))), group.words, group.entry)

    def _anatomy(self, groups: list[Group]) -> list[Group]:
        """Anatomical names also searched as the body part the PCS tables use for them (the PCS Index
        "use" references: "ACL repair" as "knee bursa ligament repair"), longest name first."""
        out: list[Group] = []
        i = 0
        while i < len(groups):
            for n in range(min(paths.USE_WORDS, len(groups) - i), 0, -1):
                span = groups[i:i + n]
                if not all(g.entry is None and len(g.words) == 1 and len(g.alternatives) == 1 for g in span):
                    continue
                name = tuple(g.words[0] for g in span)
                values = self.body_parts.get(name)
                if values:
                    out.append(Group((name, *values), name))
                    i += n
                    break
            else:  # a lexicon term whose meaning is an anatomical name ("acl": anterior cruciate ligament)
                g = groups[i]
                named = [v for alt in g.alternatives for v in self.body_parts.get(alt, ())]
                out.append(Group(tuple(dict.fromkeys((*g.alternatives, *named))), g.words, g.entry) if named else g)
                i += 1
        return out

    def _joined(self, groups: list[Group]) -> list[Group]:
        """Two words the code sets write as one ("chin strap": Chinstrap, "wheel chair": wheelchair)
        are also searched as that word, one group for both."""
        out: list[Group] = []
        i = 0
        while i < len(groups):
            if i + 1 < len(groups) and all(g.entry is None and len(g.words) == 1 and len(g.alternatives) == 1
                                           for g in groups[i:i + 2]):
                first, second = groups[i].words[0], groups[i + 1].words[0]
                joined = first + second
                entry = lexicon.entry_for((joined,))
                if first.isalpha() and second.isalpha() and len(joined) >= JOINED \
                        and (self.vocab.known(joined) or entry is not None):  # "tail bone": tailbone, the coccyx
                    means = entry.means if entry is not None else ()
                    out.append(Group(tuple(dict.fromkeys(((first, second), (joined,), *means))), (first, second),
                                     entry))
                    i += 2
                    continue
            out.append(groups[i])
            i += 1
        return out

    def _word_parts(self, groups: list[Group]) -> list[Group]:
        """A procedure word also searched as its parts (wordparts.py): "pneumonectomy" as "resection lung"."""
        out = []
        for g in groups:
            if g.entry is None and len(g.words) == 1 and len(g.alternatives) == 1:
                more = wordparts.meanings(g.words[0], self.operations)
                if more:
                    g = Group((g.alternatives[0], *more), g.words)
            out.append(g)
        return out

    def _split_run_together(self, conn: sqlite3.Connection, words: tuple[str, ...],
                            partial: bool) -> dict[str, tuple[str, str]]:
        """Two words typed as one ("lowback", "chestpain", "solumedrol"): a word the index and the
        lexicon do not know, read as a two-word lexicon term written as one, or where the spelling
        correction knows no word either, as two known words it splits into that a descriptor says
        side by side, or that are both common words of SPLIT_PART letters or more ("kneepain"); of
        several splits, the one whose rarer half the codes use most."""
        out: dict[str, tuple[str, str]] = {}
        count = self.vocab.count
        for i, word in enumerate(words):
            if len(word) < 2 * SPLIT_MIN or not word.isalpha() or self.vocab.known(word) \
                    or (partial and i == len(words) - 1 and self.vocab.has_prefix(word)) or word in self.lexicon_words:
                continue
            entry = lexicon.joined(word)  # a lexicon term written as one word ("solumedrol")
            if entry is not None and len(entry.term) == 2:  # (its key may drop a stop word)
                out[word] = entry.term[0], entry.term[1]
                continue
            if self.vocab.corrections(word):
                continue
            splits = [(word[:k], word[k:]) for k in range(SPLIT_MIN, len(word) - SPLIT_MIN + 1)
                      if count.get(word[:k], 0) and count.get(word[k:], 0)]
            splits = [(a, b) for a, b in splits if a not in PREFIXES
                      and (len(a) >= SPLIT_PART and len(b) >= SPLIT_PART and min(count[a], count[b]) >= SPLIT_COMMON
                           or self._said_together(conn, a, b))]
            if splits:
                out[word] = max(splits, key=lambda pair: min(count[pair[0]], count[pair[1]]))
        return out

    def _said_together(self, conn: sqlite3.Connection, first: str, second: str) -> bool:
        return bool(self._sql(conn, "SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT 1",
                              (f'"{first} {second}"',)))

    def _respelt_in_term(self, words: tuple[str, ...], partial: bool) -> dict[str, str]:
        """Misspelt words whose best correction makes them part of a lexicon term with the words
        beside them ("athritis in my knee": knee arthritis, osteoarthritis of knee): read as corrected
        before the terms are found, as the term would have been had it been typed right."""
        out: dict[str, str] = {}
        unknown = [i for i, word in enumerate(words) if not (partial and i == len(words) - 1 or self.vocab.known(word)
                                                            or word in lexicon.term_words() or not word.isalpha())]
        if len(unknown) > RESPELT_AT_MOST:  # a list of names nobody spells in the code sets, not a typo in a term
            return out
        for i in unknown:
            word = words[i]
            fixes = self.vocab.corrections(word, limit=1, slip=True)  # the term says it was one
            if not fixes:
                continue
            fixed = (*words[:i], fixes[0], *words[i + 1:])
            if any(g.entry is not None and len(g.words) > 1 and fixes[0] in g.words
                   for g in lexicon.groups(fixed, False, self.index_terms, self.lexicon_words)):
                out[word] = fixes[0]
        return out

    def _tolerate(self, groups: list[Group], partial: bool) -> tuple[list[Group], dict[str, str]]:
        """Add spelling corrections as alternatives for words the index does not know; a
        correction that is a lexicon term brings the term's meaning ("diabetis" -> diabetes)."""
        out: list[Group] = []
        corrected: dict[str, str] = {}
        for i, g in enumerate(groups):
            if g.entry is None and len(g.words) == 1 and len(g.alternatives) == 1:  # not a word read by its parts
                word = g.words[0]
                last = partial and i == len(groups) - 1
                if not self.vocab.known(word) and not (last and self._rarely_begun(word)):
                    fixes = self.vocab.corrections(word)
                    if fixes:
                        corrected[word] = fixes[0]
                        out.append(lexicon.corrected(g.words, fixes))
                        continue
                if not last and len(word) >= TRUNCATED and word.isalpha() and self.vocab.unfinished(word):
                    # a word cut short inside the query, as notes do ("hepatic enceph", "rhabdo"): also
                    # the words it is the start of that the most codes use
                    more = self.vocab.complete(word, limit=TRUNCATIONS)
                    if more:
                        g = Group((*g.alternatives, *((w,) for w in more)), g.words)
            out.append(g)
        return out, corrected

    def _rarely_begun(self, word: str) -> bool:
        """Whether an unknown last word, perhaps still being typed, is the start of a word the index
        uses at least as often as the word one letter from it: "cancr" begins only "cancrum" (a few
        codes), and is one letter from "cancer" (hundreds), so it is a misspelling."""
        begun = self.vocab.complete(word, limit=1)
        if not begun:
            return False
        fixes = self.vocab.corrections(word, limit=1)
        return not fixes or self.vocab.count[fixes[0]] <= COMMONER * self.vocab.count[begun[0]]

    def mask(self, ids: np.ndarray, flt: Filter) -> np.ndarray:
        keep = np.ones(len(ids), dtype=bool)
        if flt.wanted:
            # a table by system number (-1, no code, is its last entry): np.isin costs more on a page of ids
            table = np.zeros(len(SYSTEM_ORDER) + 1, dtype=bool)
            table[[SYSTEM_ORDER.index(s) for s in flt.wanted]] = True
            keep &= table[self.system[ids]]
        if flt.billable is not None:
            keep &= self.billable[ids] == (1 if flt.billable else 0)
        if flt.as_of is not None:
            keep &= ~flt.as_of.hidden[ids]
        if flt.scope is not None:
            keep &= np.isin(ids, flt.scope)
        return keep

    def facets(self, ids: np.ndarray) -> dict[str, int]:
        counts = np.bincount(self.system[ids].astype(np.int64) + 1, minlength=len(SYSTEM_ORDER) + 1)[1:]
        return {SYSTEM_ORDER[i]: int(n) for i, n in enumerate(counts) if n}

    def _candidates(self, ids: np.ndarray, scores: np.ndarray, flt: Filter) -> list[rank.Candidate]:
        by_id = {int(i): float(s) for i, s in zip(ids, scores, strict=True)}
        unique = np.fromiter(by_id, dtype=np.int64, count=len(by_id))
        unique = unique[self.system[unique] >= 0]  # an id with no code (never written by the builder)
        gone = flt.as_of.gone if flt.as_of is not None else self.deleted
        systems_, kinds, bill = SYSTEM_ORDER, self.kinds, (0, 1, None)  # billable -1 is unknown: None
        return [rank.Candidate(i, systems_[s], code, kinds[k], bill[b], g, by_id[i]) for i, s, code, k, b, g in zip(
            unique.tolist(), self.system[unique].tolist(), self.code[unique].tolist(), self.kind[unique].tolist(),
            self.billable[unique].tolist(), gone[unique].tolist(), strict=True)]

    def _titles(self, conn: sqlite3.Connection, cands: list[rank.Candidate]) -> rank.TitleWords:
        """The candidates' descriptor words: stored (stored_parts.py), else computed from their titles."""
        ids = np.fromiter((c.id for c in cands), dtype=np.int64, count=len(cands))
        table = self.parts
        held = table.has(ids) if table is not None else np.zeros(len(ids), dtype=bool)
        if table is not None and held.all():
            return table.title_words(ids)
        titles = {r[0]: r[3] for r in fetch_rows(conn, ids[~held].tolist())}
        return rank.title_words([(table.get(c.id) if table is not None and h else None)
                                 or rank.title_parts(titles.get(c.id, ""))
                                 for c, h in zip(cands, held.tolist(), strict=True)])

    def notes(self, conn: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[tuple[str, str], ...]]:
        """note_terms of `ids`, remembered per code for the codes of the last NOTES_KEPT results that
        needed them (what a result list shows of a code never changes under one engine)."""
        with self._lock:
            out = {i: self._notes[i] for i in ids if i in self._notes}
            for i in out:
                self._notes.move_to_end(i)
        missing = [i for i in ids if i not in out]
        if missing:
            read = note_terms(conn, missing)
            with self._lock:
                for i in missing:  # tuples: the garbage collector stops tracking them (lists it scans each pass)
                    out[i] = self._notes[i] = tuple(read.get(i, ()))
                while len(self._notes) > NOTES_KEPT:
                    self._notes.popitem(last=False)
        return out

    # -- legacy codes --------------------------------------------------------------
    def legacy_match(self, conn: sqlite3.Connection, lex: Lexical, words: tuple[str, ...], partial: bool,
                     flt: Filter) -> rank.Candidate | None:
        """The ICD-9 code the query names, when it matches an ICD-9 descriptor at least as well as
        any current code matches (an old description typed or pasted): its GEMs equivalents are
        then what the user wants. Looked up apart when the filter leaves ICD-9 out."""
        legacy = tuple(s for s in rank.LEGACY_SYSTEMS if s in SYSTEM_ORDER)
        if not lex.groups or sum(1 for g in lex.groups if g.entry is None) < 2:
            return None  # one word or a lexicon term: a current code's word, not an old description
        if flt.wanted and not set(flt.wanted) & set(legacy):
            if lexically_answered(lex):  # current descriptors say it all: not an old description
                return None
            old = self.lexical(conn, words, partial, Filter(legacy), asked=frozenset(legacy), index=False)
            best_old = old.hits[0] if old.hits else None
            lift = 0.0
        else:
            olds = [c for c in lex.hits if c.system in legacy]
            best_old = max(olds, key=lambda c: (c.coverage, c.score)) if olds else None
            lift = 0.0 if set(flt.wanted) & set(legacy) else LEGACY_PENALTY
        if best_old is None or best_old.coverage < 1.0:
            return None
        current = next((c for c in lex.hits if c.system not in legacy), None)
        if current is not None and current.score > best_old.score + lift + LEGACY_MARGIN:
            return None
        return best_old

    def equivalents(self, conn: sqlite3.Connection, system: str, code: str, flt: Filter) -> list[int]:
        """Ids of the current codes the GEMs map `code` to (forward map first, then the backward one)."""
        rows = conn.execute("SELECT target_system, target_code FROM relations WHERE type='gem'"
                            " AND source_system=? AND source_code=? ORDER BY rowid", (system, code)).fetchall()
        rows += conn.execute("SELECT source_system, source_code FROM relations WHERE type='gem'"
                             " AND target_system=? AND target_code=? ORDER BY rowid", (system, code)).fetchall()
        ids: list[int] = []
        for target_system, target_code in dict.fromkeys(map(tuple, rows)):
            if target_system in rank.LEGACY_SYSTEMS:
                continue
            row = conn.execute("SELECT id FROM codes WHERE system=? AND code=?",
                               (target_system, target_code)).fetchone()
            if row is not None:
                ids.append(int(row[0]))
        if not ids:
            return ids
        arr = np.array(ids, dtype=np.int64)
        return [int(i) for i in arr[self.mask(arr, flt.without_scope())]][:GEMS_SHOWN]

    # -- codes -------------------------------------------------------------------
    def exact(self, conn: sqlite3.Connection, compact: str, flt: Filter) -> list[tuple[Any, ...]]:
        rows = conn.execute(f"SELECT {_ROW} FROM codes WHERE compact=? ORDER BY id", (compact,)).fetchall()
        if not rows:
            return rows
        keep = self.mask(np.array([r[0] for r in rows], dtype=np.int64), flt.without_scope())
        return [r for r, k in zip(rows, keep, strict=True) if k]

    def sided(self, conn: sqlite3.Connection, system: str, code: str, side: str) -> str:
        """The code under `code` whose title names `side` ("left": Z96.64 -> Z96.642 Presence of left
        artificial hip joint), the most general such code; `code` itself when none does."""
        rows = conn.execute("SELECT code, title FROM codes WHERE system=? AND code > ? AND code < ?"
                            " ORDER BY length(code), code", (system, code, code + "~")).fetchall()
        for child, title in rows:
            said = set(words(title))
            if side in said and (side == "bilateral" or "bilateral" not in said):
                return str(child)
        return code

    def exact_in(self, conn: sqlite3.Connection, system: str, code: str, flt: Filter) -> list[int]:
        """The id of `code` of `system`, when the filter keeps it."""
        rows = conn.execute("SELECT id FROM codes WHERE system=? AND code=?", (system, code)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        return [int(i) for i in ids[self.mask(ids, flt.without_scope())]] if len(ids) else []

    def family(self, conn: sqlite3.Connection, term: CodeTerm, flt: Filter) -> np.ndarray:
        """Ids of the codes under a code prefix ("S72.0", "0SG", "E11"), in code order."""
        wanted = flt.wanted
        if "." in term.raw:  # typed with a dot: only systems whose codes have dots
            wanted = tuple(s for s in (wanted or SYSTEM_ORDER) if s in DOTTED)
        return self._keep(self.codes(conn).under(term.compact, wanted), flt)

    def has_family(self, conn: sqlite3.Connection, term: CodeTerm) -> bool:
        return len(self.codes(conn).under(term.compact)) > 0

    def code_range(self, conn: sqlite3.Connection, r: Range, flt: Filter, named: tuple[str, ...] = ()) -> np.ndarray:
        """Ids in a range, in code order, within the systems it is about (`named`: the systems
        where the range itself is a grouping node)."""
        first, last = sorted((r.first, r.last))
        index = self.codes(conn)
        scoped = range_systems(index, r.systems, first, last, named)
        if flt.wanted:
            scoped = tuple(s for s in scoped if s in flt.wanted)
        if not scoped:
            return np.zeros(0, dtype=np.int64)
        return self._keep(index.span(first, last, scoped), flt)

    def _keep(self, ids: np.ndarray, flt: Filter) -> np.ndarray:
        return ids[self.mask(ids, flt.without_scope())] if len(ids) else ids

    def has_system(self, conn: sqlite3.Connection, system: str) -> bool:
        """Whether the index holds any code of `system`."""
        return self._once(f"has:{system}", lambda: conn.execute(
            "SELECT 1 FROM codes WHERE system=? LIMIT 1", (system,)).fetchone() is not None)

    def nearest_code(self, conn: sqlite3.Connection, compact: str) -> str | None:
        """The longest existing code that `compact` starts with ("E11.99" -> E11.9), for "did you mean"."""
        for n in range(len(compact) - 1, 2, -1):
            row = conn.execute("SELECT code FROM codes WHERE compact=? ORDER BY id LIMIT 1",
                               (compact[:n],)).fetchone()
            if row:
                return str(row[0])
        return None

    # -- semantic ----------------------------------------------------------------
    def fuse(self, conn: sqlite3.Connection, query: Query, lex: Lexical, flt: Filter, ordered: list[int],
             scores: dict[int, float], planned: int = 0) -> tuple[list[int], dict[int, float], set[int]] | None:
        """The lexical ranking (`ordered`, `scores`) followed by the nearest codes by meaning; None
        when semantic search is off, the words already answer, or they and the `planned` results
        before them (codes typed, status codes) fill a page (SEMANTIC_BELOW)."""
        index = self.semantic(conn)
        if index is None or not query.words or lexically_answered(lex) or planned + len(ordered) >= SEMANTIC_BELOW \
                or not self.understood(lex):
            return None
        from . import semantic

        return semantic.fuse(index, self, semantic.meant(lex.groups, query.words), flt, ordered, scores)

    def understood(self, lex: Lexical) -> bool:
        """Whether the search read at least one of the query's words: a word of the code sets, a lexicon
        term, or a word it corrected or completed. Words none of these know ("zits", "xarelto",
        "ozempic") are only word pieces to the embedding model, which answers them with codes whose
        words look alike (measured: "xarelto" -> exposure to ignition of clothing, "ozempic" ->
        unemployment, "lipitor" -> cleft lip); the judged sets have no such query that it answered
        right. Such a query is answered by its words alone, or not at all."""
        return any(g.entry is not None or len(g.alternatives) > 1 or any(self.vocab.known(w) for w in g.words)
                   for g in lex.groups)

    def foresee(self, conn: sqlite3.Connection, query: Query, lex: Lexical, flt: Filter, planned: int) -> None:
        """Start the semantic pass of a query in the background when fuse will want it: the words
        answer weakly and found less than a page so far (the official indexes rarely add enough to
        fill it: measured, 290 of 303 such queries fused). Its 2-3 ms of numpy, which release the
        GIL, then run while this thread reads the official indexes and ranks; fuse takes the result."""
        index = self.semantic(conn)
        if index is None or not query.words or planned + len(lex.hits) >= SEMANTIC_BELOW or not self.understood(lex):
            return
        from . import semantic

        semantic.prefetch(index, self, semantic.meant(lex.groups, query.words), flt)

    def system_number(self, system: str) -> int:
        return SYSTEM_ORDER.index(system) if system in SYSTEM_ORDER else -2

    def semantic_spans(self) -> dict[int, tuple[int, int]] | None:
        """Each system's rows of the embedding matrix (semantic.system_spans), worked out once."""
        index = self._semantic
        if index is None:
            return None
        from . import semantic

        return self._once("semantic_spans", lambda: semantic.system_spans(index, self.system))

    def semantic(self, conn: sqlite3.Connection) -> Any:
        """The embedding index, loaded on first use; None when semantic search is off or absent."""
        if not self._semantic_loaded:
            with self._lock:
                if not self._semantic_loaded:
                    from . import semantic

                    self._semantic = semantic.load(conn)
                    self._semantic_loaded = True
        return self._semantic


_KIND_WORDS = re.compile(r"\b(?:" + "|".join(sorted(rank.KINDS | {"diseased"})) + r")\b,?", re.IGNORECASE)


def _without_kinds(path: str) -> str:
    """An index path without the words that say a kind of thing ("Disease, diseased, hand, foot and
    mouth"): its main term, which a query that does not say it should not pay for."""
    return _KIND_WORDS.sub("", path)


def _tables_after_their_codes(hits: list[rank.Candidate]) -> None:
    """An ICD-10-PCS table just after the best of its codes, where that code says as much of the query
    and scores nearly as well: the table ("0DT Resection") says every body part of its rows, and a
    code is what is coded."""
    tables = [c for c in hits if c.kind == "table"]
    if not tables:
        return
    best: dict[str, rank.Candidate] = {}
    for c in hits:
        if c.kind == "code" and c.system == "icd10pcs":
            head = c.code[:3]
            if head not in best or c.score > best[head].score:
                best[head] = c
    for t in tables:
        child = best.get(t.code)
        if child is not None and child.coverage >= t.coverage and t.score - TABLE_MARGIN <= child.score <= t.score:
            t.score = child.score - TABLE_BELOW


def _costly(matches: int) -> bool:
    return matches > COSTLY


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


def _doc_ids(conn: sqlite3.Connection, size: int) -> tuple[np.ndarray, bool]:
    """FTS rowid -> code id, and whether rows are ordered by descriptor length (search_order,
    indexer.py); an index built before it has rowid = id."""
    try:
        row = conn.execute("SELECT ids FROM search_order").fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        return np.arange(size, dtype=np.int64), False
    return np.frombuffer(row[0], dtype="<i4").astype(np.int64), True


def _rank_within(system: np.ndarray) -> np.ndarray:
    """Each row's position among the rows of its own system (rows in rowid order)."""
    order = np.argsort(system, kind="stable")
    sorted_sys = system[order]
    starts = np.searchsorted(sorted_sys, sorted_sys, side="left")
    out = np.empty(len(system), dtype=np.float64)
    out[order] = np.arange(len(system)) - starts
    return out


def _spans(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Id ranges with neighbours joined: ICD-10-CM, PCS and HCPCS are one scan, not three."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def fetch_rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples: a few hundred sqlite3.Row objects cost a millisecond
    out: list[tuple[Any, ...]] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        out += cur.execute(f"SELECT {_ROW} FROM codes WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return out


# Contractions typed without their apostrophe, outside a lexicon term ("so he doesnt slide out"): no
# code says them, and a spelling correction would make another word of them ("descent")
CONTRACTIONS = frozenset("dont doesnt didnt isnt wasnt arent werent cant couldnt wont wouldnt shouldnt havent "
                         "hasnt hadnt im ive id hes shes theyre theyve youre weve thats whats theres".split())


def _meaningful(groups: list[Group]) -> list[Group]:
    """Groups worth matching: stop words and contractions go (unless nothing else is left), and a query
    of single letters ("a-z", "x") means nothing to search for."""
    kept = [g for g in groups if g.entry is not None or any(w not in rank.STOPWORDS and w not in CONTRACTIONS
                                                            for w in g.words)] or groups
    if all(g.entry is None and all(len(w) == 1 and w.isalpha() for w in g.words) for g in kept):
        return []
    return kept


def _procedure_words(groups: list[Group], index_only: bool = False) -> list[Group]:
    """Where only procedures are searched, a lexicon term that names a diagnosis only ("retinal tear":
    retinal break) is read word by word: its meaning is in no procedure title, and its words name the
    place ("laser to seal a retinal tear": the retina). `index_only`: only the Alphabetic Index's main
    terms (in any procedure query: "goiter excision" is the thyroid's)."""
    out: list[Group] = []
    for g in groups:
        e = g.entry
        from_index = e is not None and index_terms.path_of(e) is not None
        if e is not None and (not index_only or from_index) and (len(g.words) > 1 or from_index) \
                and _diagnosis_only(e):
            out += lexicon.within(g.words, lambda inner: not _diagnosis_only(inner))  # "wisdom teeth": teeth
        else:
            out.append(g)
    return out


def _diagnosis_only(e: lexicon.Entry) -> bool:
    return bool(e.expect) and all(s == "icd10cm" for s, _ in e.expect) and all(s == "icd10cm" for s in e.prefer)


SCALE_WORDS = frozenset({"type", "stage", "grade", "class"})
_SCALE_VALUE = re.compile(r"\d{1,2}[a-z]?|i{1,3}|iv|v|vi{0,3}|[a-e]\d?")


def _doses(groups: list[Group]) -> tuple[list[Group], frozenset[int]]:
    """The groups of a dose ("4 mg", "0.4 mg", "1 gram") and the groups with a route after a dose read
    as a route: "ondansetron 4 mg iv" is intravenous, not stage IV."""
    out = list(groups)
    dose: set[int] = set()
    for i in range(len(out) - 1):
        if set(out[i + 1].words) <= DOSE_UNITS | MEASURES and out[i].words and all(w.isdigit() for w in out[i].words) \
                and not (out[i + 1].words[0].startswith("g") and int(out[i].words[-1]) >= GRAMS_OF_WEIGHT):
            dose |= {i, i + 1}
            if i and all(w.isdigit() for w in out[i - 1].words) and i - 1 not in dose:  # "0.4": "0", "4"
                dose.add(i - 1)
            if i + 2 < len(out) and out[i + 2].words in ROUTES:
                out[i + 2] = Group((out[i + 2].words, *ROUTES[out[i + 2].words]), out[i + 2].words)
    return out, frozenset(dose)


def _durations(groups: list[Group]) -> frozenset[int]:
    """The groups of how long something has lasted ("hoarse voice for weeks", "24 hour stomach virus",
    "fever for 3 days") or how old someone is ("fever in 2 month old"): they qualify a complaint as a
    dose qualifies a drug, and are not the weeks of a pregnancy or the hours of a loss of consciousness,
    which the query then names."""
    said = {w for g in groups for w in g.words}
    if said & KEEP_DURATION or any(_OBSTETRIC.fullmatch(w) for w in said):
        return frozenset()
    out: set[int] = set()
    for i, g in enumerate(groups):
        if g.words and set(g.words) <= DURATION_UNITS:
            out.add(i)
            if i and all(w.isdigit() or w in NUMBER_WORDS for w in groups[i - 1].words):
                out.add(i - 1)
            if i + 1 < len(groups) and groups[i + 1].words == ("old",):  # an age: "3 yr old"
                out.add(i + 1)
    return frozenset(out) if len(out) < len(groups) else frozenset()


NEOPLASM_WORDS = frozenset("cancer ca carcinoma malignant malignancy neoplasm tumor tumour melanoma lymphoma sarcoma"
                           " leukemia myeloma adenocarcinoma metastatic".split())


def _cancer_stage(groups: list[Group]) -> frozenset[int]:
    """The stage of a cancer ("stage iii bladder cancer"): ICD-10-CM codes the site, not the stage, so
    the stage qualifies as a dose does and finds nothing alone (not the stages of pressure ulcers or
    kidney disease)."""
    if not any(set(alt) & NEOPLASM_WORDS for g in groups for alt in g.alternatives):
        return frozenset()
    out = frozenset(i for i, g in enumerate(groups) if len(g.words) == 2 and g.words[0] == "stage")
    return out if len(out) < len(groups) else frozenset()


def _scaled(groups: list[Group]) -> list[Group]:
    """A scale word and its value are one group ("type 1", "stage 3b"): the value alone is not asked
    of a descriptor ("insulin pump for type 1 diabetes" is no "1 mg" injection)."""
    out: list[Group] = []
    i = 0
    while i < len(groups):
        g = groups[i]
        if i + 1 < len(groups) and g.entry is None and len(g.words) == 1 and g.words[0] in SCALE_WORDS:
            value = groups[i + 1]
            if (value.entry is None or value.entry.kind == "word") and len(value.words) == 1 \
                    and _SCALE_VALUE.fullmatch(value.words[0]):
                pair = (g.words[0], value.words[0])  # "stage iii": also "stage 3", as ICD-10-CM writes it
                numbers = [(g.words[0], alt[0]) for alt in value.alternatives if len(alt) == 1 and alt[0] != pair[1]]
                out.append(Group(tuple(dict.fromkeys((pair, *numbers))), pair))
                i += 2
                continue
        out.append(g)
        i += 1
    return out


def _needs(n: int) -> list[int]:
    """How many groups must match, strictest first: all, then all but one (up to 6 groups), all but
    two (5 to 7 groups: a sentence says words no descriptor does, "sucking the clot out of the lung
    arteries"; "grade 2 L ankle sprain"), two (5 or 6 groups), then any (a longer text: its pairs are
    too many to be worth a level)."""
    out = [n]
    if 2 < n <= 6:
        out.append(n - 1)
    if 4 < n <= 7:
        out.append(n - 2)
    if 4 < n <= 6 and out[-1] > 2:  # two of five or six ("white patch inside mouth leukoplakia": K13.21)
        out.append(2)
    if n > 1:
        out.append(1)
    return out


def note_terms(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(field, text) pairs that name each code of `ids`: synonyms, inclusion terms, index terms,
    notes. Two statements for a page of codes, not two per code."""
    out: dict[int, list[tuple[str, str]]] = {}
    if not ids:
        return out
    cur = conn.cursor()
    cur.row_factory = None
    rows = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        rows += cur.execute("SELECT id, system, code, short_title, synonyms, notes FROM codes"
                            f" WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    index_terms: dict[tuple[str, str], list[tuple[int, str]]] = {}
    by_system: dict[str, list[str]] = {}
    for r in rows:
        by_system.setdefault(r[1], []).append(r[2])
    for system, codes in by_system.items():  # one system at a time: (system, code) pairs would not use the index
        for i in range(0, len(codes), 500):
            part = codes[i:i + 500]
            found = cur.execute("SELECT rowid, code, term FROM terms WHERE system = ?"
                                f" AND code IN ({','.join('?' * len(part))})", [system, *part]).fetchall()
            for rowid, code, term in found:
                index_terms.setdefault((system, code), []).append((rowid, term))
    for cid, system, code, short_title, synonyms, notes in rows:
        pairs: list[tuple[str, str]] = []
        if short_title:
            pairs.append(("short_title", short_title))
        pairs += [("synonym", s) for s in json.loads(synonyms)]
        parsed = json.loads(notes)
        pairs += [("inclusion", text) for note_type, text in parsed if note_type == "inclusion"]
        pairs += [("index", t) for _, t in sorted(index_terms.get((system, code), []))]  # as the index lists them
        pairs += [("note", text) for note_type, text in parsed if note_type in ("includes", "definition")]
        out[cid] = pairs
    return out
