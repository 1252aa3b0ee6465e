"""From a parsed query to the one result dict every rendering uses (CLI, pages, JSON API).

Order of a result list: codes the user typed, then code ranges and code families in code
order, then word matches by score (fused with semantic matches when that is on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np

from .. import systems as systems_mod
from ..errors import BadRequest
from ..index import Catalog
from . import lexicon, rank
from .engine import Engine, Lexical, fetch_rows, note_terms
from .query import CodeTerm, Query, parse, system_id

_SINGLE_CODE = re.compile(r"[A-Za-z0-9]{2,7}")


@dataclass
class Plan:
    """The ordered ids of a search before paging, with why each one is there."""

    ids: list[int] = field(default_factory=list)
    why: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (how, typed term)
    score: dict[int, float] = field(default_factory=dict)
    semantic: bool = False
    facets: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def add(self, ids: Iterable[int], how: str, term: str, engine: Engine,
            scores: dict[int, float] | None = None, keep: int | None = None) -> None:
        """Append ids not already listed. Past `keep` of them, ids are only counted (a family of
        thousands of codes needs its count and facets, not thousands of entries)."""
        new = [i for i in ids if i not in self.why]
        if keep is not None and len(new) > keep:
            counted = np.array(new[keep:], dtype=np.int64)
            self.total += len(counted)
            for sid, n in enumerate(np.bincount(engine.system[counted].astype(np.int64) + 1)[1:]):
                if n:
                    self.facets[_SYSTEMS[sid]] = self.facets.get(_SYSTEMS[sid], 0) + int(n)
            new = new[:keep]
        for i in new:
            self.why[i] = (how, term)
            self.score[i] = round(scores.get(i, 0.0), 4) if scores is not None else 1.0
            system = engine.system[i]
            if system >= 0:
                name = _SYSTEMS[system]
                self.facets[name] = self.facets.get(name, 0) + 1
        self.ids += new
        self.total += len(new)


_SYSTEMS = tuple(systems_mod.SYSTEMS)


def run_search(catalog: Catalog, engine: Engine, q: str, systems: Any, billable: bool | None,
               limit: int, offset: int) -> dict[str, Any]:
    query = parse(q)
    wanted = _wanted(systems, query)
    if billable is not None and not isinstance(billable, bool):
        raise BadRequest("billable must be true, false or None")
    bill = billable if billable is not None else query.billable
    conn = engine.tune(catalog.conn)
    plan = Plan()
    did_you_mean: str | None = None
    missed: list[CodeTerm] = []
    for ct in query.codes:
        if lexicon.key((ct.compact.lower(),)) in lexicon.known_terms():  # "dm2" is a word here
            missed.append(ct)
            continue
        rows = _keep_rows(engine.exact(conn, ct.compact), engine, wanted, bill)
        plan.add((r[0] for r in rows), "code", ct.raw, engine)
        if not rows and not engine.has_family(conn, ct):
            missed.append(ct)
    range_words: list[str] = []
    for r in query.ranges:
        exact = _keep_rows(engine.exact(conn, systems_mod.compact(r.raw)), engine, wanted, bill)
        plan.add((x[0] for x in exact), "code", r.raw, engine)
        found = engine.code_range(conn, r, wanted, bill)
        plan.add(found, "range", r.raw, engine, keep=offset + limit)
        if not exact and not found:
            range_words += [r.first.lower(), r.last.lower()]
    if not query.codes and not query.ranges and len(query.words) == 1 and _SINGLE_CODE.fullmatch(query.words[0]):
        rows = _keep_rows(engine.exact(conn, query.words[0].upper()), engine, wanted, bill)
        plan.add((r[0] for r in rows), "code", query.words[0].upper(), engine)
    families = {ct: engine.family(conn, ct, wanted, bill) for ct in query.codes if ct not in missed}
    words = _words_to_search(query, missed) + tuple(range_words)
    scope: set[int] = set()
    if query.words:  # codes and words: the words are looked for inside the codes' families first
        scope = {i for ids in families.values() for i in ids}
        for r in query.ranges:
            scope.update(engine.code_range(conn, r, wanted, bill))
    else:  # codes only: list the families in code order
        for ct, ids in families.items():
            plan.add(ids, "family", ct.raw, engine, keep=offset + limit)
    lex = Lexical()
    if words:
        # a finished word is not also a prefix: "eye" should not rank "eyelid" alike
        partial = query.partial and (not engine.vocab.known(words[-1]) or bool(lexicon.completions(words)))
        lex = Lexical()
        if scope and query.words:  # "E11 kidney": words within the code's family, when any match
            lex = engine.lexical(conn, words, partial, wanted, bill, scope=np.fromiter(scope, dtype=np.int64))
        if not lex.hits:
            lex = engine.lexical(conn, words, partial, wanted, bill)
        _add_lexical(plan, lex, engine, conn, query, wanted, bill, limit + offset - len(plan.ids))
    if missed and not plan.ids:
        did_you_mean = engine.nearest_code(conn, missed[0].compact)
    if lex.corrected:
        did_you_mean = _corrected_text(query, lex.corrected)
    elif words and not plan.ids:
        did_you_mean = _respell(engine, conn, words, query, wanted, bill) or did_you_mean
    page = plan.ids[offset:offset + limit]
    return {
        "query": q if isinstance(q, str) else "",
        "total": plan.total,
        "facets": dict(sorted(plan.facets.items(), key=lambda kv: (-kv[1], kv[0]))),
        "results": _format(conn, page, plan, lex, query),
        "did_you_mean": did_you_mean,
        "parsed": {**query.as_dict(), "systems": list(wanted), "billable": bill, "relaxed": lex.relaxed,
                   "corrected": lex.corrected, "semantic": plan.semantic},
    }


def _wanted(systems: Any, query: Query) -> tuple[str, ...]:
    if systems is None:
        given: list[str] = []
    elif isinstance(systems, str):
        given = [systems]
    else:
        given = list(systems)
    out = []
    for s in given:
        if not isinstance(s, str):
            raise BadRequest("systems must be a list of system ids")
        out.append(s if s in systems_mod.SYSTEMS else system_id(s))
    return tuple(dict.fromkeys([*out, *query.systems]))


def _keep_rows(rows: list[tuple[Any, ...]], engine: Engine, wanted: tuple[str, ...],
               bill: bool | None) -> list[tuple[Any, ...]]:
    return [r for r in rows if (not wanted or r[1] in wanted)
            and (bill is None or engine.billable[r[0]] == (1 if bill else 0))]


def _words_to_search(query: Query, missed: list[CodeTerm]) -> tuple[str, ...]:
    """The query's words, with code candidates that matched no code put back as words ("b12")."""
    if not missed:
        return query.words
    missed_words = {m.compact.lower() for m in missed}
    return tuple(w for w in query.all_words if w in missed_words or w in query.words)


def _add_lexical(plan: Plan, lex: Lexical, engine: Engine, conn: Any, query: Query, wanted: tuple[str, ...],
                 bill: bool | None, need: int) -> None:
    scores = {c.id: c.score for c in lex.hits}
    ordered = [c.id for c in lex.hits]
    fused = engine.fuse(conn, query, lex, wanted, bill)
    if fused is not None:
        ordered, scores, semantic_only = fused
        plan.semantic = True
    else:
        semantic_only = set()
    rest = engine.more(conn, lex, wanted, bill, need + len(ordered)) if len(ordered) < need else []
    before = plan.total
    plan.add([i for i in ordered if i not in semantic_only], "words", "", engine, scores)
    plan.add(ordered, "semantic", "", engine, scores)  # only the semantic-only ones are new
    plan.add(rest, "words", "", engine, {})
    extra = lex.total - (plan.total - before)
    if extra > 0:  # matches beyond what was ranked still count
        plan.total += extra
        for name, n in lex.facets.items():
            plan.facets[name] = max(plan.facets.get(name, 0), n)
    else:
        for name, n in lex.facets.items():
            plan.facets[name] = max(plan.facets.get(name, 0), n)


def _corrected_text(query: Query, corrected: dict[str, str]) -> str:
    return " ".join(corrected.get(w, w) for w in query.words)


def _respell(engine: Engine, conn: Any, words: tuple[str, ...], query: Query, wanted: tuple[str, ...],
             bill: bool | None) -> str | None:
    """A zero-hit query: try harder corrections (one edit from 4 letters, two from 6)."""
    fixed = []
    changed = False
    for w in words:
        if engine.vocab.known(w) or len(w) < 4 or not w.isalpha():
            fixed.append(w)
            continue
        fixes = engine.vocab.corrections(w, edits=1 if len(w) < 6 else 2, limit=1)
        fixed.append(fixes[0] if fixes else w)
        changed = changed or bool(fixes)
    if not changed:
        return None
    lex = engine.lexical(conn, tuple(fixed), False, wanted, bill, correct=False)
    return " ".join(fixed) if lex.total else None


# -- formatting ------------------------------------------------------------------
def _format(conn: Any, ids: list[int], plan: Plan, lex: Lexical, query: Query) -> list[dict[str, Any]]:
    rows = {r[0]: r for r in fetch_rows(conn, ids)}
    query_words = [w for g in lex.groups for alt in g.alternatives for w in alt]
    partial = query.partial and bool(lex.groups) and any(g.entry is None for g in lex.groups[-1:])
    out = []
    for i in ids:
        r = rows[i]
        how, term = plan.why[i]
        out.append({
            "system": r[1], "system_name": systems_mod.SYSTEMS[r[1]].name if r[1] in systems_mod.SYSTEMS else r[1],
            "code": r[2], "title": r[3], "kind": r[4],
            "billable": None if r[5] is None else bool(r[5]),
            "deleted_in": r[6],
            "score": plan.score.get(i, 0.0),
            "match": _why(conn, r, how, term, lex, query_words, partial),
        })
    return out


def _why(conn: Any, r: tuple[Any, ...], how: str, term: str, lex: Lexical, query_words: list[str],
         partial: bool) -> dict[str, Any]:
    if how in ("code", "family", "range"):
        return {"field": "code", "fragment": _mark_code(r[2], term, how), "term": term, "how": how}
    cov_title = rank.coverage_of(r[3], lex.groups, partial)
    best = ("title", r[3], cov_title)
    if cov_title < 1.0:
        for field_, text in note_terms(conn, r[0]):
            cov = rank.coverage_of(text, lex.groups, partial)
            if cov > best[2]:
                best = (field_, text, cov)
    field_, text, cov = best
    out: dict[str, Any] = {"field": field_ if cov > 0 else ("semantic" if how == "semantic" else field_),
                           "fragment": rank.highlight(text, query_words, partial),
                           "term": text if field_ != "title" else ""}
    used = [g.entry for g in lex.groups if g.entry is not None
            and any(rank.covers(alt, rank.tokens(text)) for alt in g.alternatives[1:])]
    if used:
        out["lexicon"] = [f"{' '.join(e.term)} = {' / '.join(' '.join(m) for m in e.means)}" for e in used]
    return out


def _mark_code(code: str, typed: str, how: str) -> str:
    if how != "family":
        return f"<mark>{escape(code)}</mark>"
    n = len(systems_mod.compact(typed))
    seen = 0
    cut = len(code)
    for i, ch in enumerate(code):
        if ch != ".":
            seen += 1
        if seen == n:
            cut = i + 1
            break
    return f"<mark>{escape(code[:cut])}</mark>{escape(code[cut:])}"


def run_suggest(catalog: Catalog, engine: Engine, prefix: str, limit: int) -> list[dict[str, Any]]:
    query = parse(prefix)
    if query.empty:
        return []
    conn = engine.tune(catalog.conn)
    plan = Plan()
    for ct in query.codes:
        plan.add((r[0] for r in engine.exact(conn, ct.compact)), "code", ct.raw, engine)
        plan.add(engine.family(conn, ct, (), None)[:limit], "family", ct.raw, engine)
    lex = Lexical()
    if len(plan.ids) < limit and query.words:
        lex = engine.lexical(conn, query.words, True, query.systems, query.billable)
        plan.add((c.id for c in lex.hits[:limit]), "words", "", engine)
    return _format(conn, plan.ids[:limit], plan, lex, query)


__all__ = ["run_search", "run_suggest"]
