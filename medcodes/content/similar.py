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
from ..index.catalog import resolved_notes
from ..policies.queries import co_cited_codes
from ..record import Note
from .mentions import NoteCode, codes_in_note

Key = tuple[str, str]
# (system, code, title, limit) -> [(system, code, similarity 0..1)]; e.g. an embedding search
Neighbours = Callable[[str, str, str, int], list[tuple[str, str, float]]]

NOTE_WEIGHTS = {"code_first": 0.9, "code_also": 0.9, "use_additional": 0.85, "excludes2": 0.8, "excludes1": 0.75}
NOTE_LABELS = {"code_first": "Code first", "code_also": "Code also", "use_additional": "Use additional code",
               "excludes2": "Excludes2", "excludes1": "Excludes1"}
MAX_SIBLINGS = 1000
SEMANTIC_FLOOR = 0.3  # titles less alike than this are no reason to call codes similar
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


    index = title_index(catalog, row["system"])
    ancestors = catalog.ancestors(row)
    notes = resolved_notes(row, ancestors)
    family = _family(catalog, row, index, _seventh_character(row, notes)) if SIBLING in wanted else None
    if NOTE in wanted and row["system"] == "icd10cm":  # the only system whose notes name codes this way
        _notes(catalog, row, ancestors, notes, add)
    if GEM in wanted or XREF in wanted:
        _crosswalks(catalog, row, add)
    if POLICY in wanted:
        _policies(row, store, add)
    if SEMANTIC in wanted:
        if neighbours is None:
            near = index.neighbours(row["system"], row["code"], row["title"], 20, floor=SEMANTIC_FLOOR)
        else:
            near = neighbours(row["system"], row["code"], row["title"], 20)
        for sys_id, other, sim in near:
            if sys_id == row["system"] and row["billable"] and not index.is_billable(other):
                sim *= 0.5  # a header that shares the words is a weaker match for a code one can bill
            if sim >= SEMANTIC_FLOOR:
                add((sys_id, other), 0.6 * sim, SEMANTIC, "similar wording")
    if family is not None:
        found = family.merge(found, 3 * limit)
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
    if key[0] in systems.LICENSED_SYSTEMS and any(kind == POLICY for _, kind, _ in cand.reasons) \
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
class _Family:
    """The family's candidates as arrays: a PCS table has a thousand codes and a 7th-character
    category two thousand, and making a candidate of each cost more than the rest of a code page."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.weights: list[np.ndarray] = []
        self.texts: list[str | list[str]] = []  # one text for a whole group, or one per code

    def extend(self, keys: list[Key], weights: np.ndarray, text: str | list[str]) -> None:
        self.keys.extend(keys)
        self.weights.append(weights)
        self.texts.append(text)

    def merge(self, others: dict[Key, _Candidate], best: int) -> dict[Key, _Candidate]:
        """The `best` family codes by weight (ties at the floor kept) and every family code another
        reason also names, each with its family reason first, then the other reasons. Ranking keeps
        only the best 3 x limit family codes by final score (_prune_family), and a code no other
        reason names scores its family weight, so the codes left out here could never be shown."""
        if not self.keys:
            return others
        weights = np.concatenate(self.weights)
        texts: list[str] = []
        for text, group in zip(self.texts, self.weights, strict=True):
            texts.extend([text] * len(group) if isinstance(text, str) else text)
        if len(weights) > best:
            floor = np.partition(weights, len(weights) - best)[len(weights) - best] if best > 0 else np.inf
            picked = np.flatnonzero(weights >= floor).tolist()
            picked_set = set(picked)
            picked += [i for i, k in enumerate(self.keys) if k in others and i not in picked_set]
            chosen: Iterable[int] = picked
        else:
            chosen = range(len(weights))
        out: dict[Key, _Candidate] = {}
        for i in chosen:
            key = self.keys[i]
            if key in out:
                continue
            cand = out[key] = _Candidate()
            cand.add(float(weights[i]), SIBLING, texts[i])
            other = others.get(key)
            if other is not None:
                for weight, kind, text in other.reasons:
                    cand.add(weight, kind, text)
        for key, cand in others.items():
            out.setdefault(key, cand)
        return out


def _family(catalog: Any, row: Any, index: TitleIndex, seventh: str | None) -> _Family:
    # Code and seq only: a PCS table's codes carry their axes as JSON, and reading a thousand full rows
    # cost more than all the rest of a code page. Past MAX_SIBLINGS (a flat system: ICD-9-CM, CPT
    # without groups, modifiers) the nearest in code order.
    siblings = catalog.conn.execute(
        "SELECT code, seq FROM codes WHERE system=? AND parent IS ? ORDER BY abs(seq - ?), seq LIMIT ?",
        (row["system"], row["parent"], row["seq"], MAX_SIBLINGS)).fetchall()
    siblings = [s for s in siblings if s[0] != row["code"]]
    system = row["system"]
    where = f"under {row['parent']}" if row["parent"] else "at the top level"
    similarity = index.similarities_to(row["code"])
    family = _Family()
    if seventh:
        stem = systems.compact(row["code"])[:6]
        # the same condition at another encounter: the 7th-character note already lists these
        same = [s for s in siblings if systems.compact(s[0])[:6] == stem]
        siblings = [s for s in siblings if systems.compact(s[0])[:6] != stem]
        codes = [s[0] for s in same]
        family.extend([(system, c) for c in codes], 0.8 + 0.1 * similarity(codes),
                      [f"same code, other 7th character {systems.compact(c)[6:]}" for c in codes])
    codes = [s[0] for s in siblings]
    closeness = 1.0 / (1.0 + np.abs(np.fromiter((s[1] for s in siblings), float, len(siblings)) - row["seq"]))
    family.extend([(system, c) for c in codes], 1.0 + 0.4 * similarity(codes) + 0.1 * closeness,
                  f"same family ({where})")
    if seventh:
        compact = systems.compact(row["code"])
        # a range on compact, not LIKE: LIKE is case-insensitive and cannot use the index
        cousins = [r[0] for r in catalog.conn.execute(
            "SELECT code FROM codes WHERE compact>=? AND compact<? AND system=? AND length(compact)=7"
            " AND substr(compact, 7, 1)=? AND parent IS NOT ? LIMIT 2000",
            (compact[:3], compact[:3] + "~", system, seventh, row["parent"]))]
        family.extend([(system, c) for c in cousins], 0.95 + 0.4 * similarity(cousins),
                      f"same category {compact[:3]}, same 7th character {seventh}")
    return family


def _seventh_character(row: Any, notes: list[Note]) -> str | None:
    """The 7th character of an ICD-10-CM code that has one (S72.001A -> "A"); a 7-character code
    such as E11.3211 has none: only codes under a 7th-character note do."""
    compact = systems.compact(row["code"])
    if row["system"] != "icd10cm" or len(compact) != 7:
        return None
    return compact[6] if any(n.type == "seventh_character" for n in notes) else None


# -- notes and crosswalks ---------------------------------------------------------
def _notes(catalog: Any, row: Any, ancestors: list[Any], notes: list[Note],
           add: Callable[[Key, float, str, str], None]) -> None:
    kinds = {a["code"]: a["kind"] for a in ancestors}
    depth = {a["code"]: len(ancestors) - i for i, a in enumerate(ancestors)}  # parent = 1
    for note in notes:
        weight = NOTE_WEIGHTS.get(note.type)
        origin = note.inherited_from
        kind = kinds.get(origin) if origin else None
        if weight is None or kind == "chapter":
            continue  # a chapter's notes name whole chapters: too broad to call anything similar
        where = "its" if origin is None else f"the {origin}"
        text = f"named in {where} {NOTE_LABELS[note.type]} note"
        # the farther up a note is written, the less it says about this code; a block's least
        weight = weight * 0.6 if kind == "block" else weight - 0.05 * (depth.get(origin, 0) if origin else 0)
        for named in codes_in_note(note.text):
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
        if not x.code or x.system == row["system"]:
            continue
        flags = x.attributes or {}
        if flags.get("no_map"):
            continue
        approx = " (approximate)" if flags.get("approximate") else ""
        name = systems.get(x.system).name if x.system in systems.SYSTEMS else x.system
        # an equivalent in another system is as close as the nearest siblings, and shown among them
        add((x.system, x.code), 1.15 if approx else 1.2, GEM, f"GEMs equivalent in {name}{approx}")
    attrs = json.loads(row["attributes"]) if isinstance(row["attributes"], str) else row["attributes"]
    for other in (attrs or {}).get("cross_references") or []:
        add((row["system"], systems.normalize(row["system"], other)), 0.9, XREF, "cross-reference in the HCPCS file")


# -- policies ------------------------------------------------------------------------
def _policies(row: Any, store: str | Path | None, add: Callable[[Key, float, str, str], None]) -> None:
    if store is None:
        return
    for (sys_id, code), n in co_cited(store, row["system"], row["code"]).items():
        text = f"cited by the same {n} polic{'y' if n == 1 else 'ies'}"
        add((sys_id, systems.normalize(sys_id, code)), 0.5 + 0.05 * min(n, 6), POLICY, text)


def co_cited(store: str | Path, system: str, code: str) -> dict[Key, int]:
    """Codes cited by the policies that cite this code -> how many of those policies cite them."""
    return {(i["system"], i["code"]): int(i.get("count", 1)) for i in co_cited_codes(store, system, code)}


# -- semantic neighbours: idf-weighted title overlap --------------------------------
_STOP = frozenset("a an and are as at by for from in into is it its of on or the to with without other "
                  "unspecified specified nos nec not elsewhere classified than".split())
_WORD = re.compile(r"[a-z0-9]+")


def _tokens(title: str) -> tuple[str, ...]:
    words = (w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w
             for w in _WORD.findall(title.lower()))
    return tuple(dict.fromkeys(w for w in words if w not in _STOP and len(w) > 1))


class TitleIndex:
    """Titles of one system as idf-weighted word sets, for cosine similarity between titles.

    Each word's postings are the sorted positions of the titles holding it, so the cosine of one
    title with a few hundred others (a family) is one binary search per word, and the nearest
    titles are found from the rarer words alone (see `neighbours`)."""

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
        # the most a word can add to a cosine with this title's norm taken out: idf^2 / the smallest
        # norm among the titles holding it (a word of long titles adds little to any of them)
        self.reach = {t: self.idf[t] ** 2 / float(self.norms[p].min()) for t, p in self.postings.items()}

    def is_billable(self, code: str) -> bool:
        return code in self.billable

    def similarity(self, a: str, b: str) -> float:
        ia, ib = self.position.get(a), self.position.get(b)
        if ia is None or ib is None:
            return 0.0
        shared = set(self.docs[ia]) & set(self.docs[ib])
        return float(sum(self.idf[t] ** 2 for t in shared) / (self.norms[ia] * self.norms[ib]))

    def similarities_to(self, a: str) -> Callable[[list[str]], np.ndarray]:
        """similarity(a, b) for a list of b at once, as an array (0 for a code not in the index)."""
        ia = self.position.get(a)
        if ia is None:
            return lambda bs: np.zeros(len(bs))
        toks, position = self.docs[ia], self.position

        def similarities(bs: list[str]) -> np.ndarray:
            at = np.fromiter((position.get(b, -1) for b in bs), np.int64, len(bs))
            known = at >= 0
            out = np.zeros(len(bs))
            out[known] = self.cosines_at(toks, at[known])
            return out

        return similarities

    def cosines_at(self, toks: tuple[str, ...], at: np.ndarray) -> np.ndarray:
        """Cosine of the titles at these positions with these words."""
        norm = math.sqrt(sum(self.idf.get(t, 0.0) ** 2 for t in toks)) or 1.0
        return self._cosines(self._add_held(np.zeros(len(at)), toks, at), at, norm)

    def _add_held(self, dot: np.ndarray, toks: Iterable[str], at: np.ndarray) -> np.ndarray:
        """Add to each title's `dot` the idf^2 of each of these words it holds (a binary search of
        the word's postings for the sorted positions `at`)."""
        for t in toks:
            posting = self.postings.get(t)
            if posting is not None:
                held = posting[np.minimum(np.searchsorted(posting, at), len(posting) - 1)] == at
                dot[held] += self.idf[t] ** 2
        return dot

    def _cosines(self, dot: np.ndarray, at: np.ndarray, norm: float) -> np.ndarray:
        # rounded: equal word sets score equal whatever order their words were added in
        return np.round(dot / (self.norms[at] * norm), 12)

    def neighbours(self, system: str, code: str, title: str, limit: int,
                   floor: float = 0.0) -> list[tuple[str, str, float]]:
        """The `limit` titles most like this one, best first, among those with a cosine of at least
        `floor` (all, with 0).

        A title that shares only the commonest words ("approach", "left", "open": words of tens of
        thousands of long PCS titles) has a cosine of at most the sum of their `reach` / |title|, so
        while that bound is below `floor` those words are set aside and only the titles holding one of
        the rarer words are scored: hundreds instead of a system's hundred thousand."""
        toks = tuple(t for t in _tokens(title) if t in self.idf)
        if not toks:
            return []
        norm = math.sqrt(sum(self.idf[t] ** 2 for t in toks))
        rare = sorted(toks, key=lambda t: self.reach[t])
        reach = 0.0  # the highest cosine a title holding only the words set aside can have
        while floor > 0 and len(rare) > 1 and (reach + self.reach[rare[0]]) / norm < floor * 0.999:
            reach += self.reach[rare.pop(0)]
        # the titles holding a rarer word and the idf^2 they share: postings joined, sorted, summed per title
        joined = np.concatenate([self.postings[t] for t in rare])
        shared = np.repeat([self.idf[t] ** 2 for t in rare], [len(self.postings[t]) for t in rare])
        order = np.argsort(joined, kind="stable")
        joined, shared = joined[order], shared[order]
        starts = np.flatnonzero(np.r_[True, joined[1:] != joined[:-1]])
        hits, dot = joined[starts], np.add.reduceat(shared, starts)
        keep = hits != self.position.get(code, -1)
        if floor > 0:  # titles that cannot reach the floor even holding every word set aside
            keep &= dot / self.norms[hits] + reach >= floor * norm * 0.999
        hits, dot = hits[keep], dot[keep]
        # the words set aside: only whether each title left holds them
        scores = self._cosines(self._add_held(dot, (t for t in toks if t not in rare), hits), hits, norm)
        if floor > 0:
            keep = scores >= floor
            hits, scores = hits[keep], scores[keep]
        # best first; equal scores in code order (a partition would pick among equals at random)
        order = np.lexsort((hits, -scores))[:limit]
        return [(self.system, self.codes[hits[j]], float(scores[j])) for j in order]


_INDEXES: dict[tuple[str, int, int, str], TitleIndex] = {}
_LOCK = threading.Lock()


def title_index(catalog: Any, system: str) -> TitleIndex:
    """The title index of one system of this index file, built on first use and kept while the file
    is the same (a rebuild renames a new file into place: a new inode, a new key). The key is the file
    the catalog opened, not the one at its path now: made from the catalog's rows, it must not be
    kept as the new file's."""
    stamp = catalog.stamp
    key = (str(catalog.path), stamp[1] if stamp else 0, stamp[2] if stamp else 0, system)
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
