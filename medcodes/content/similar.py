"""Similar codes: a ranked list with the reason for each (issue: "Similar codes").

Reasons, strongest first: the same family (siblings, closest wording first; for ICD-10-CM codes
with a 7th character, the same encounter type across the category) and GEMs equivalents in other
systems; then HCPCS cross-references and codes the official notes name (code first, code also,
use additional, excludes); codes cited by the same policies; semantic neighbours (titles that say
the same thing). A code with several reasons ranks above one with a single reason; no kind of
reason but the family fills more than a third of the list while others are left. Ancestors and
descendants are left out: the page shows them as the hierarchy.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import systems
from .mentions import NoteCode, codes_in_note

Key = tuple[str, str]
# (system, code, title, limit) -> [(system, code, similarity 0..1)]; e.g. an embedding search
Neighbours = Callable[[str, str, str, int], list[tuple[str, str, float]]]

NOTE_WEIGHTS = {"code_first": 0.9, "code_also": 0.9, "use_additional": 0.85, "excludes2": 0.8, "excludes1": 0.75}
NOTE_LABELS = {"code_first": "Code first", "code_also": "Code also", "use_additional": "Use additional code",
               "excludes2": "Excludes2", "excludes1": "Excludes1"}
MAX_SIBLINGS = 1000
SIBLING, NOTE, GEM, XREF, POLICY, SEMANTIC = "family", "note", "gem", "cross_reference", "policy", "semantic"


@dataclass
class _Candidate:
    score: float = 0.0
    reasons: list[tuple[float, str, str]] = field(default_factory=list)  # (weight, type, text)

    def add(self, weight: float, kind: str, text: str) -> None:
        if not self.reasons:  # the common case, a thousand times on a big family: nothing to merge
            self.reasons.append((weight, kind, text))
            self.score = weight
            return
        if any(t == text for _, _, t in self.reasons):
            return
        self.reasons.append((weight, kind, text))
        self.reasons.sort(key=lambda r: -r[0])
        # the strongest reason counts in full, each further one adds a little
        self.score = self.reasons[0][0] + 0.15 * sum(w for w, _, _ in self.reasons[1:])


def similar_codes(catalog: Any, system: str, code: str, limit: int = 10, *, store: str | Path | None = None,
                  same_system: bool = False, neighbours: Neighbours | None = None,
                  reasons: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """[{system, code, title, reason, reason_type}], best first, at most `limit`.

    `neighbours` replaces the built-in title similarity (e.g. with an embedding search);
    `reasons` limits the kinds of reason used (the bench's siblings-only baseline uses {"family"}).
    """
    row = catalog.row(system, code)
    wanted = set(reasons) if reasons is not None else {SIBLING, NOTE, GEM, XREF, POLICY, SEMANTIC}
    found: dict[Key, _Candidate] = {}

    me = (row["system"], row["code"])

    def add(key: Key, weight: float, kind: str, text: str) -> None:
        if kind in wanted and key != me and (not same_system or key[0] == me[0]):
            cand = found.get(key)
            if cand is None:  # not setdefault: that builds a candidate per call, a thousand on a big family
                cand = found[key] = _Candidate()
            cand.add(weight, kind, text)

    from ..index.catalog import resolved_notes  # here, so the catalog may import this module at its top

    index = title_index(catalog, row["system"])
    ancestors = catalog.ancestors(row)
    notes = resolved_notes(row, ancestors)
    if SIBLING in wanted:
        _family(catalog, row, index, _seventh_character(row, notes), add)
    if NOTE in wanted and row["system"] == "icd10cm":  # the only system whose notes name codes this way
        _notes(catalog, row, ancestors, notes, add)
    if GEM in wanted or XREF in wanted:
        _crosswalks(catalog, row, add)
    if POLICY in wanted:
        _policies(row, store, add)
    if SEMANTIC in wanted:
        finder = neighbours or index.neighbours
        for sys_id, other, sim in finder(row["system"], row["code"], row["title"], 20):
            if sys_id == row["system"] and row["billable"] and not index.is_billable(other):
                sim *= 0.5  # a header that shares the words is a weaker match for a code one can bill
            if sim >= 0.3:
                add((sys_id, other), 0.6 * sim, SEMANTIC, "similar wording")
    return _rank(catalog, row, ancestors, found, limit)


# Reasons that may fill at most this share of the list while others have candidates left, so one
# long Excludes1 note, a combination code's many GEM rows or a crowd of look-alike titles cannot
# push out the closest family.
QUOTA_SHARE = {NOTE: 0.3, SEMANTIC: 0.3, POLICY: 0.3, GEM: 0.3}


def _prune_family(found: dict[Key, _Candidate], limit: int) -> dict[Key, _Candidate]:
    """Only the best of a large family can make the list: the family has no quota, so the family codes
    shown are the best few by score, and no family code is ever deferred. Looking up and ranking all of
    a PCS table's thousand codes cost more than the rest of the code page together."""
    scores = sorted((c.score for c in found.values() if c.reasons[0][1] == SIBLING), reverse=True)
    keep = 3 * limit  # room for the few a filter below still drops
    if len(scores) <= keep:
        return found
    floor = scores[keep - 1]  # ties at the floor stay: the order among them is decided by code order
    return {k: c for k, c in found.items() if c.reasons[0][1] != SIBLING or c.score >= floor}


def _rank(catalog: Any, row: Any, ancestors: list[Any], found: dict[Key, _Candidate],
          limit: int) -> list[dict[str, Any]]:
    found = _prune_family(found, limit)
    info = _lookup(catalog, list(found))
    lo, hi = _subtree(catalog, row)
    hierarchy = {(a["system"], a["code"]) for a in ancestors}
    ranked = []
    for key, cand in found.items():
        hit = info.get(key) or _cited_unloaded(key, cand)
        if hit is None or key in hierarchy or hit["kind"] == "chapter":
            continue  # not in the loaded index; already shown as the hierarchy; or too broad to help
        if key[0] == row["system"] and lo < hit["seq"] < hi:
            continue  # a descendant
        ranked.append((-cand.score, key[0] != row["system"], hit["seq"], key, hit, cand))
    ranked.sort(key=lambda x: x[:3])
    taken, deferred, used = [], [], dict.fromkeys(QUOTA_SHARE, 0)
    for item in ranked:
        kind = item[5].reasons[0][1]
        if kind in used:
            if used[kind] >= max(1, math.ceil(limit * QUOTA_SHARE[kind])):
                deferred.append(item)
                continue
            used[kind] += 1
        taken.append(item)
    chosen = taken[:limit]
    if len(chosen) < limit:  # nothing else left: the deferred fill the rest, in score order
        chosen = sorted(chosen + deferred[:limit - len(chosen)], key=lambda x: x[:3])
    return [{"system": key[0], "code": key[1], "title": hit["title"],
             "reason": "; ".join(t for _, _, t in cand.reasons), "reason_type": cand.reasons[0][1]}
            for *_, key, hit, cand in chosen]


def _cited_unloaded(key: Key, cand: _Candidate) -> dict[str, Any] | None:
    """A licensed code (CPT) the index lacks but policies cite: it has a page, so it may be listed."""
    from ..index.extras import LICENSED_SYSTEMS

    if key[0] in LICENSED_SYSTEMS and any(kind == POLICY for _, kind, _ in cand.reasons) \
            and systems.looks_like(key[0], key[1]):
        return {"title": None, "kind": "code", "seq": math.inf}
    return None


def similar_cited(catalog: Any, system: str, code: str, limit: int = 10, *,
                  store: str | Path | None = None) -> list[dict[str, Any]]:
    """Similar codes of a code the index lacks but policies cite (a CPT code without CPT data):
    the codes cited by the same policies, most shared first, then in code order."""
    found: dict[Key, _Candidate] = {}
    if store is not None:
        for (sys_id, other), n in co_cited(store, system, code).items():
            key = (sys_id, systems.normalize(sys_id, other))
            if key != (system, code):
                text = f"cited by the same {n} polic{'y' if n == 1 else 'ies'}"
                found.setdefault(key, _Candidate()).add(0.5 + 0.05 * min(n, 6), POLICY, text)
    info = _lookup(catalog, list(found))
    ranked = []
    for key, cand in found.items():
        hit = info.get(key) or _cited_unloaded(key, cand)
        if hit is not None and hit["kind"] != "chapter":
            ranked.append((-cand.score, key[0] != system, hit["seq"], key, hit, cand))
    ranked.sort(key=lambda x: x[:4])
    return [{"system": key[0], "code": key[1], "title": hit["title"],
             "reason": "; ".join(t for _, _, t in cand.reasons), "reason_type": cand.reasons[0][1]}
            for *_, key, hit, cand in ranked[:limit]]


def _lookup(catalog: Any, keys: list[Key]) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    by_system: dict[str, list[str]] = {}
    for sys_id, code in keys:
        by_system.setdefault(sys_id, []).append(code)
    for sys_id, codes in by_system.items():
        for i in range(0, len(codes), 500):
            chunk = codes[i:i + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT system, code, title, kind, seq FROM codes WHERE system=? AND code IN ({marks})"
            for r in catalog.conn.execute(sql, [sys_id, *chunk]):
                out[(r["system"], r["code"])] = r
    return out


def _subtree(catalog: Any, row: Any) -> tuple[int, float]:
    end = catalog.conn.execute("SELECT MIN(seq) FROM codes WHERE system=? AND seq>? AND depth<=?",
                               (row["system"], row["seq"], row["depth"])).fetchone()[0]
    return row["seq"], math.inf if end is None else end


# -- family --------------------------------------------------------------------
def _family(catalog: Any, row: Any, index: TitleIndex, seventh: str | None,
            add: Callable[[Key, float, str, str], None]) -> None:
    # Code and seq only: a PCS table's codes carry their axes as JSON, and reading a thousand full rows
    # cost more than all the rest of a code page. Past MAX_SIBLINGS (a flat system: ICD-9-CM, CPT
    # without groups, modifiers) the nearest in code order.
    siblings = catalog.conn.execute(
        "SELECT system, code, seq FROM codes WHERE system=? AND parent IS ? ORDER BY abs(seq - ?), seq LIMIT ?",
        (row["system"], row["parent"], row["seq"], MAX_SIBLINGS)).fetchall()
    where = f"under {row['parent']}" if row["parent"] else "at the top level"
    stem = systems.compact(row["code"])[:6]
    similarity = index.similarity_to(row["code"])
    for s in siblings:
        sim = similarity(s["code"])
        if seventh and systems.compact(s["code"])[:6] == stem:
            # the same condition at another encounter: the 7th-character note already lists these
            other = systems.compact(s["code"])[6:]
            add((s["system"], s["code"]), 0.8 + 0.1 * sim, SIBLING, f"same code, other 7th character {other}")
            continue
        closeness = 1.0 / (1.0 + abs(s["seq"] - row["seq"]))
        add((s["system"], s["code"]), 1.0 + 0.4 * sim + 0.1 * closeness, SIBLING, f"same family ({where})")
    if seventh:
        compact = systems.compact(row["code"])
        # a range on compact, not LIKE: LIKE is case-insensitive and cannot use the index
        cousins = catalog.conn.execute(
            "SELECT system, code, seq FROM codes WHERE compact>=? AND compact<? AND system=? AND length(compact)=7"
            " AND substr(compact, 7, 1)=? AND parent IS NOT ? LIMIT 2000",
            (compact[:3], compact[:3] + "~", row["system"], seventh, row["parent"])).fetchall()
        for c in cousins:
            sim = similarity(c["code"])
            add((c["system"], c["code"]), 0.95 + 0.4 * sim, SIBLING,
                f"same category {compact[:3]}, same 7th character {seventh}")


def _seventh_character(row: Any, notes: list[dict[str, Any]]) -> str | None:
    """The 7th character of an ICD-10-CM code that has one (S72.001A -> "A"); a 7-character code
    such as E11.3211 has none: only codes under a 7th-character note do."""
    compact = systems.compact(row["code"])
    if row["system"] != "icd10cm" or len(compact) != 7:
        return None
    return compact[6] if any(n["type"] == "seventh_character" for n in notes) else None


# -- notes and crosswalks ---------------------------------------------------------
def _notes(catalog: Any, row: Any, ancestors: list[Any], notes: list[dict[str, Any]],
           add: Callable[[Key, float, str, str], None]) -> None:
    kinds = {a["code"]: a["kind"] for a in ancestors}
    depth = {a["code"]: len(ancestors) - i for i, a in enumerate(ancestors)}  # parent = 1
    for note in notes:
        weight = NOTE_WEIGHTS.get(note["type"])
        kind = kinds.get(note["from"])
        if weight is None or kind == "chapter":
            continue  # a chapter's notes name whole chapters: too broad to call anything similar
        where = "its" if note["from"] is None else f"the {note['from']}"
        text = f"named in {where} {NOTE_LABELS[note['type']]} note"
        # the farther up a note is written, the less it says about this code; a block's least
        weight = weight * 0.6 if kind == "block" else weight - 0.05 * depth.get(note["from"], 0)
        for named in codes_in_note(note["text"]):
            key = _resolve_note_code(catalog, row["system"], named)
            if key:
                add(key, weight, NOTE, text)


def _resolve_note_code(catalog: Any, system: str, named: NoteCode) -> Key | None:
    """The indexed code a note names: a range only as an indexed block ("E08-E13"); a code that
    is not indexed as its nearest indexed ancestor by trimming ("O24.41" -> "O24.4")."""
    if named.last:
        hit = catalog.find(f"{named.first}-{named.last}", system)
        return (hit[0]["system"], hit[0]["code"]) if hit else None
    compact = systems.compact(named.first)
    while len(compact) >= 3:
        hit = catalog.find(compact, system)
        if hit:
            return (hit[0]["system"], hit[0]["code"])
        compact = compact[:-1]
    return None


def _crosswalks(catalog: Any, row: Any, add: Callable[[Key, float, str, str], None]) -> None:
    for x in catalog.crosswalks(row["system"], row["code"]):
        if not x["code"] or x["system"] == row["system"]:
            continue
        flags = x.get("attributes") or {}
        if flags.get("no_map"):
            continue
        approx = " (approximate)" if flags.get("approximate") else ""
        name = systems.get(x["system"]).name if x["system"] in systems.SYSTEMS else x["system"]
        # an equivalent in another system is as close as the nearest siblings, and shown among them
        add((x["system"], x["code"]), 1.15 if approx else 1.2, GEM, f"GEMs equivalent in {name}{approx}")
    attrs = json.loads(row["attributes"]) if isinstance(row["attributes"], str) else row["attributes"]
    for other in (attrs or {}).get("cross_references") or []:
        add((row["system"], systems.normalize(row["system"], other)), 0.9, XREF, "cross-reference in the HCPCS file")


# -- policies (another layer; used when it is installed) -----------------------------
MAX_POLICIES = 25  # policies read per code
BROAD_POLICY = 200  # a policy citing more codes than this (a whole fee schedule) says little about any pair


def _policies(row: Any, store: str | Path | None, add: Callable[[Key, float, str, str], None]) -> None:
    if store is None:
        return
    for (sys_id, code), n in co_cited(store, row["system"], row["code"]).items():
        text = f"cited by the same {n} polic{'y' if n == 1 else 'ies'}"
        add((sys_id, systems.normalize(sys_id, code)), 0.5 + 0.05 * min(n, 6), POLICY, text)


def co_cited(store: str | Path, system: str, code: str) -> dict[Key, int]:
    """Codes cited by the policies that cite this code -> how many of those policies cite them.

    Uses medcodes.policies when it is installed: its `co_cited_codes` if it has one, else
    `policies_for_code` and each policy's `policy_page`. Without that layer: {}.
    """
    try:
        policies = importlib.import_module("medcodes.policies")
    except ImportError:
        return {}
    direct = getattr(policies, "co_cited_codes", None)
    if direct is not None:
        return {(i["system"], i["code"]): int(i.get("count", 1)) for i in direct(store, system, code)}
    counts: dict[Key, int] = {}
    for policy in policies.policies_for_code(store, system, code)[:MAX_POLICIES]:
        cited = {(c["system"], c["code"]) for c in policies.policy_page(store, policy["policy_id"])["codes"]}
        if len(cited) > BROAD_POLICY:
            continue
        for key in cited - {(system, code)}:
            counts[key] = counts.get(key, 0) + 1
    return counts


# -- semantic neighbours: idf-weighted title overlap --------------------------------
_STOP = frozenset("a an and are as at by for from in into is it its of on or the to with without other "
                  "unspecified specified nos nec not elsewhere classified than".split())
_WORD = re.compile(r"[a-z0-9]+")


def _tokens(title: str) -> tuple[str, ...]:
    words = (w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w
             for w in _WORD.findall(title.lower()))
    return tuple(dict.fromkeys(w for w in words if w not in _STOP and len(w) > 1))


class TitleIndex:
    """Titles of one system as idf-weighted word sets, for cosine similarity between titles."""

    def __init__(self, system: str, rows: list[tuple[str, str]], billable: set[str] | None = None) -> None:
        self.system = system
        self.codes = [code for code, _ in rows]
        self.billable = billable if billable is not None else set(self.codes)
        self.position = {code: i for i, code in enumerate(self.codes)}
        self.docs = [_tokens(title) for _, title in rows]
        postings: dict[str, list[int]] = {}
        for i, toks in enumerate(self.docs):
            for t in toks:
                postings.setdefault(t, []).append(i)
        n = max(len(rows), 1)
        self.idf = {t: math.log((n + 1) / (len(p) + 0.5)) for t, p in postings.items()}
        self.postings = {t: np.asarray(p, dtype=np.int32) for t, p in postings.items()}
        self.norms = np.array([math.sqrt(sum(self.idf[t] ** 2 for t in d)) or 1.0 for d in self.docs])
        # the few last codes' cosines: a code page asks twice (family, neighbours); arrays of 8 bytes a code
        self._cosines_cached = functools.lru_cache(maxsize=4)(self._cosines_uncached)

    def is_billable(self, code: str) -> bool:
        return code in self.billable

    def similarity(self, a: str, b: str) -> float:
        ia, ib = self.position.get(a), self.position.get(b)
        if ia is None or ib is None:
            return 0.0
        shared = set(self.docs[ia]) & set(self.docs[ib])
        return float(sum(self.idf[t] ** 2 for t in shared) / (self.norms[ia] * self.norms[ib]))

    def similarity_to(self, a: str) -> Callable[[str], float]:
        """similarity(a, b) for any b, from one pass over the postings of a's words: a family of a
        thousand codes costs one numpy sum per word instead of a thousand set intersections."""
        ia = self.position.get(a)
        if ia is None:
            return lambda b: 0.0
        scores = self._cosines(self.docs[ia])

        def similarity(b: str) -> float:
            ib = self.position.get(b)
            return 0.0 if ib is None else float(scores[ib])

        return similarity

    def _cosines(self, toks: tuple[str, ...]) -> np.ndarray:
        """Cosine of every title with these words (read-only: shared by the family and the neighbours of
        one code, which ask for the same words, and between threads)."""
        return self._cosines_cached(toks)  # type: ignore[no-any-return]

    def _cosines_uncached(self, toks: tuple[str, ...]) -> np.ndarray:
        scores = np.zeros(len(self.codes))
        for t in toks:
            scores[self.postings[t]] += self.idf[t] ** 2
        scores /= self.norms * (math.sqrt(sum(self.idf[t] ** 2 for t in toks)) or 1.0)
        scores.flags.writeable = False
        return scores

    def neighbours(self, system: str, code: str, title: str, limit: int) -> list[tuple[str, str, float]]:
        toks = tuple(t for t in _tokens(title) if t in self.idf)
        if not toks:
            return []
        scores = self._cosines(toks)
        hits = np.flatnonzero(scores)  # titles sharing a word: far fewer than the system's codes
        me = self.position.get(code)
        if me is not None:
            hits = hits[hits != me]
        if len(hits) > limit:
            hits = hits[np.argpartition(-scores[hits], limit - 1)[:limit]]
        # best first; equal scores in code order, so the answer never depends on the partition
        hits = hits[np.lexsort((hits, -scores[hits]))]
        return [(self.system, self.codes[i], float(scores[i])) for i in hits]


_INDEXES: dict[tuple[str, int, int, str], TitleIndex] = {}
_LOCK = threading.Lock()


def title_index(catalog: Any, system: str) -> TitleIndex:
    """The title index of one system of this index file, built on first use and kept while the file
    is the same (a rebuild renames a new file into place: a new inode, a new key)."""
    st = Path(catalog.path).stat()
    key = (str(catalog.path), st.st_ino, st.st_mtime_ns, system)
    with _LOCK:
        hit = _INDEXES.get(key)
        if hit is None:
            rows = catalog.conn.execute("SELECT code, title, billable FROM codes WHERE system=? ORDER BY seq",
                                        (system,)).fetchall()
            hit = TitleIndex(system, [(r[0], r[1]) for r in rows], {r[0] for r in rows if r[2]})
            for old in [k for k in _INDEXES if k[0] == key[0] and k[3] == system]:
                del _INDEXES[old]
            _INDEXES[key] = hit
    return hit
