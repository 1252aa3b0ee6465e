"""From a parsed query to the one result dict every rendering uses (CLI, pages, JSON API).

Order of a result list: codes the user typed, then code ranges and code families in code
order, then word matches by score (fused with semantic matches when that is on).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from itertools import groupby
from typing import Any

import numpy as np

from .. import systems as systems_mod
from ..errors import BadRequest
from ..index import Catalog
from ..policies.queries import policies_for_code
from . import family, lexicon, paths, rank, shorthand
from .asof import AsOf
from .engine import PERSON_WORDS, PROCEDURES, Engine, Filter, Lexical, fetch_rows, lexically_answered
from .query import CodeTerm, Query, parse, system_id, words

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

    def add(self, ids: Iterable[int] | np.ndarray, how: str, term: str, engine: Engine,
            scores: dict[int, float] | None = None, keep: int | None = None) -> None:
        """Append ids not already listed. Past `keep` of them, ids are only counted (a family of
        thousands of codes needs its count and facets, not thousands of entries)."""
        if isinstance(ids, np.ndarray) and len(ids) > 256:  # a family or range: numpy, not a Python loop
            arr = ids[~np.isin(ids, np.fromiter(self.why, dtype=np.int64, count=len(self.why)))] if self.why else ids
            _, first = np.unique(arr, return_index=True)
            if len(first) != len(arr):
                arr = arr[np.sort(first)]
            if keep is not None and len(arr) > keep:
                self._count(arr[keep:], engine)
                arr = arr[:keep]
            new = [int(i) for i in arr]
        else:
            new = list(dict.fromkeys(int(i) for i in ids if int(i) not in self.why))
            if keep is not None and len(new) > keep:
                self._count(np.array(new[keep:], dtype=np.int64), engine)
                new = new[:keep]
        if not new:
            return
        self.why.update(dict.fromkeys(new, (how, term)))
        if scores is None:
            self.score.update(dict.fromkeys(new, 1.0))
        else:  # rounded when shown (_format): only a page of them is
            get = scores.get
            self.score.update({i: get(i, 0.0) for i in new})
        self._count(np.array(new, dtype=np.int64), engine)
        self.ids += new

    def _count(self, ids: np.ndarray, engine: Engine) -> None:
        self.total += len(ids)
        for sid, n in enumerate(np.bincount(engine.system[ids].astype(np.int64) + 1)[1:]):
            if n:
                self.facets[_SYSTEMS[sid]] = self.facets.get(_SYSTEMS[sid], 0) + int(n)


_SYSTEMS = tuple(systems_mod.SYSTEMS)
# candidates re-scored for a suggestion list of ~8: half of a search's, which gives the same first
# suggestion for 96% of typed prefixes and 94% of the same 8 (bench/suggest.py compares them)
SUGGEST_CANDIDATES = 150
# Words that ask for MS-DRGs ("diabetes drg"): they name the system, they are not searched for.
NOTE_TEXTS = 24  # texts of a code read for why it matched: a code with hundreds of index terms costs no more
COMBINED_WORDS = 8  # words of a phrase naming two conditions; more is a descriptor, read as one
COMBINED_FIRST = 3  # codes that say both conditions, listed before each condition's own best code
CAUSE_WORDS = ("cause", "diseases", "classified", "elsewhere")  # B95-B97: the organism as the cause
_GROUPER_WORDS = frozenset({"drg", "drgs", "msdrg", "msdrgs"})
_NAMED = frozenset({"code", "family", "range", "status", "gems"})  # results whose reason is no text of theirs


_JOINED = re.compile(r"[a-z][&/][a-z]", re.IGNORECASE)


def run_search(catalog: Catalog, engine: Engine, q: str, systems: Any, billable: bool | None,
               limit: int, offset: int, as_of: str | None = None) -> dict[str, Any]:
    # one word is shorthand only when it joins letters ("T&A", "s/p"): "L" or "hx" alone stays a word
    reading = shorthand.read(q) if isinstance(q, str) and (len(q.split()) > 1 or _JOINED.search(q)) \
        else shorthand.Reading(q)
    query = parse(reading.text)
    wanted = _wanted(systems, query)
    if billable is not None and not isinstance(billable, bool):
        raise BadRequest("billable must be true, false or None")
    conn = engine.tune(catalog.conn)
    when = engine.as_of(conn, as_of) if as_of else None
    flt = Filter(wanted, billable if billable is not None else query.billable, when)
    plan = Plan()
    found = _codes(conn, engine, query, flt, plan, offset + limit)
    cited = _cited(catalog, found.missed, wanted)  # CPT codes with no CPT data loaded, that policies cite
    if cited:
        found.missed = [m for m in found.missed if m.compact not in {c["code"] for c in cited}]
    statuses = [*reading.status, *_drug_alone(engine, q), *_family_history(engine, conn, reading.text, flt),
                *_in_pregnancy(engine, conn, reading.text, flt),
                *([] if any(st.kind == "status" for st in reading.status)
                  else _status_by_words(engine, conn, reading.text, flt))]
    for st in statuses:  # "s/p CABG": the status code, before the words
        code = engine.sided(conn, st.system, st.code, st.side) if st.side else st.code
        if _denied_by(conn, st.system, code, query.words):
            continue  # "h/o CVA w/ residual L hemiparesis" is no history "without residual deficits"
        plan.add(engine.exact_in(conn, st.system, code, flt), "status", st.why, engine)
    words, asked = _grouper(_words_to_search(query, found.missed) + tuple(found.range_words), wanted)
    lex = Lexical()
    if words:
        # a last word the index knows is finished when more words come before it: "breast lump" is a lump,
        # not "breast lumpectomy" on the way (a word alone may still be: "lump" suggests lumpectomy too)
        finished = len(words) > 1 and engine.vocab.known(words[-1])
        person = len(words) > 1 and words[-1] in PERSON_WORDS  # "chicken pox in kid" is no kidney
        partial = query.partial and not person and (engine.vocab.unfinished(words[-1])
                                                    or (bool(lexicon.completions(words)) and not finished))
        inside = [*found.families.values(), *found.in_ranges] if query.words else []
        def weak(found: Lexical) -> None:
            engine.foresee(conn, query, found, flt, len(plan.ids))

        if any(len(ids) for ids in inside):  # "E11 kidney": words within the code's family, when any match
            scope = np.unique(np.concatenate(inside))
            lex = engine.lexical(conn, words, partial, Filter(flt.wanted, flt.billable, when, scope), asked=asked,
                                 weak=weak)
        if not lex.hits or lex.relaxed:  # the words, where not all of them are said inside the family
            lex = engine.lexical(conn, words, partial, flt, asked=asked, weak=weak)  # ("125 mg" is a dose)
        combined = _each_part(engine, conn, reading, lex, flt) \
            if reading.parts and not lexically_answered(lex) and not _one_says_both(lex) else []
        _add_lexical(plan, lex, engine, conn, query, flt, limit + offset - len(plan.ids), (words, partial), combined)
    plan.add(found.named, "code", query.words[0].upper() if found.named else "", engine)  # after the words
    did_you_mean = engine.nearest_code(conn, found.missed[0].compact) if found.missed and not plan.ids else None
    if lex.corrected:
        did_you_mean = _corrected_text(query, lex.corrected)
    elif words and not plan.ids and not cited:
        did_you_mean = _respell(engine, conn, words, flt) or did_you_mean
    notice = _licensed_notice(engine, conn, found.missed, cited, wanted)
    parsed = {**query.as_dict(), "systems": list(wanted), "billable": flt.billable, "relaxed": lex.relaxed,
              "corrected": lex.corrected, "semantic": plan.semantic}
    if reading.changed:
        parsed["shorthand"] = reading.text.strip()
    if when is not None:
        parsed["as_of"] = {"date": when.date, "releases": when.releases}
    for c in cited:
        plan.facets[c["system"]] = plan.facets.get(c["system"], 0) + 1
        if when is not None:
            c["as_of"] = when.not_loaded(c["system_name"], c["code"])
    results = _format(conn, plan.ids[max(offset - len(cited), 0):max(offset + limit - len(cited), 0)], plan, lex,
                      query, engine, when)
    return {
        "query": q if isinstance(q, str) else "",
        "total": plan.total + len(cited),
        "facets": dict(sorted(plan.facets.items(), key=lambda kv: (-kv[1], kv[0]))),
        "results": [*cited[offset:offset + limit], *results][:limit],
        "did_you_mean": did_you_mean,
        "notice": notice,
        "parsed": parsed,
    }


@dataclass
class _Found:
    """What the codes, code prefixes and ranges of a query found."""

    missed: list[CodeTerm] = field(default_factory=list)  # code-shaped tokens that are words after all
    families: dict[CodeTerm, np.ndarray] = field(default_factory=dict)
    in_ranges: list[np.ndarray] = field(default_factory=list)
    range_words: list[str] = field(default_factory=list)  # ends of a range that holds no code
    named: list[int] = field(default_factory=list)  # a lexicon word that is also a code ("DM"): after the words


def _codes(conn: Any, engine: Engine, query: Query, flt: Filter, plan: Plan, keep: int) -> _Found:
    """Exact codes first, then ranges in code order; families are listed when there are no words."""
    out = _Found()
    for ct in query.codes:
        # "dm2" is a word here; "x3" in "cabg x3" is a count, not the chapter-sized prefix X3
        if lexicon.key((ct.compact.lower(),)) in lexicon.known_terms() or (len(ct.compact) < 3 and query.words):
            out.missed.append(ct)
            continue
        rows = engine.exact(conn, ct.compact, flt)
        plan.add((r[0] for r in rows), "code", ct.raw, engine)
        if not rows and not engine.has_family(conn, ct):
            out.missed.append(ct)
    for r in query.ranges:
        block = engine.exact(conn, systems_mod.compact(r.raw), flt)  # the block "E08-E13" itself
        plan.add((x[0] for x in block), "code", r.raw, engine)
        ids = engine.code_range(conn, r, flt, tuple(x[1] for x in block))
        out.in_ranges.append(ids)
        plan.add(ids, "range", r.raw, engine, keep=keep)
        if not block and not len(ids):
            out.range_words += [r.first.lower(), r.last.lower()]
    if not query.codes and not query.ranges and len(query.words) == 1 and _SINGLE_CODE.fullmatch(query.words[0]):
        named = [r[0] for r in engine.exact(conn, query.words[0].upper(), flt)]  # "LT" (a modifier)
        if lexicon.key(query.words) in lexicon.known_terms():  # "dm" is diabetes first
            out.named = named
        else:
            plan.add(named, "code", query.words[0].upper(), engine)
    out.families = {ct: engine.family(conn, ct, flt) for ct in query.codes if ct not in out.missed}
    if not query.words:  # codes only: list the families in code order
        for ct, ids in out.families.items():
            plan.add(ids, "family", ct.raw, engine, keep=keep)
    return out


def _cited(catalog: Catalog, missed: list[CodeTerm], wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    """Results for code-shaped tokens that are CPT codes no loaded data holds but a policy cites: their
    pages exist (app.codes.code_data), so a search for "22214" finds the page instead of "did you mean"."""
    out = []
    for ct, system, code in _licensed_shaped(missed, wanted):
        n = len(policies_for_code(catalog.store_path, system, code))
        if not n:
            continue
        name = systems_mod.SYSTEMS[system].name
        label = f"cited by {n} loaded {'policy' if n == 1 else 'policies'}"
        out.append({"system": system, "system_name": name, "code": code,
                    "title": f"{name} code {label}; its descriptor is licensed and not loaded",
                    "kind": "code", "billable": None, "deleted_in": None, "score": 1.0, "in_index": False,
                    "match": {"field": "code", "fragment": f"<mark>{escape(code)}</mark>",
                              "term": ct.raw, "how": "cited", "label": label}})
    return out


def _licensed_shaped(missed: list[CodeTerm], wanted: tuple[str, ...]) -> Iterable[tuple[CodeTerm, str, str]]:
    """(token, system, code) for each code-shaped token of the query that has the shape of a code of a
    licensed system (CPT) the search may answer in (no filter, or one that names it)."""
    licensed = systems_mod.LICENSED_SYSTEMS
    if wanted and not set(wanted) & licensed:
        return
    for ct in missed:
        for system in sorted(licensed):
            if systems_mod.looks_like(system, ct.compact):
                yield ct, system, systems_mod.normalize(system, ct.compact)


CONDITION_WORDS = 8  # words of a condition worth reading (a pasted page is not one condition)


def _family_history(engine: Engine, conn: Any, text: Any, flt: Filter) -> list[shorthand.Status]:
    """"FHx colon ca": the family history code of the block of the diagnosis the condition's words
    find first (family.py), where the family history titles do not name the condition."""
    named = family.condition(text) if isinstance(text, str) and (not flt.wanted or "icd10cm" in flt.wanted) else None
    return _by_block(engine, conn, named, family.FAMILY, "family history of", "history")


def _in_pregnancy(engine: Engine, conn: Any, text: Any, flt: Filter) -> list[shorthand.Status]:
    """"asthma while pregnant": the pregnancy code of the block of the diagnosis the condition's words find
    first (O99.51), where no title says the condition and the pregnancy together."""
    named = family.in_pregnancy(text) if isinstance(text, str) and (not flt.wanted or "icd10cm" in flt.wanted) \
        else None
    ws = tuple(parse(named).words)[:CONDITION_WORDS] if named else ()
    if not ws:
        return []
    # a condition the obstetric titles name themselves ("bleeding while pregnant": hemorrhage in pregnancy)
    said = engine.lexical(conn, (*ws, "pregnancy"), False, Filter(("icd10cm",)), candidates=SUGGEST_CANDIDATES).hits
    rows = fetch_rows(conn, [said[0].id]) if said and said[0].coverage >= 1.0 else []
    if rows and rows[0][2].startswith("O"):
        return []
    return _by_block(engine, conn, named, family.PREGNANCY, "in pregnancy,", "pregnancy")


def _by_block(engine: Engine, conn: Any, named: str | None, table: str, said: str,
              kind: str, cancer: bool = False) -> list[shorthand.Status]:
    ws = tuple(parse(named).words)[:CONDITION_WORDS] if named else ()
    if not ws:
        return []
    hits = engine.lexical(conn, ws, False, Filter(("icd10cm",)), candidates=SUGGEST_CANDIDATES).hits
    if cancer:  # the cancer itself, a malignant or in-situ neoplasm, saying every word asked
        whole = [h for h in hits if h.coverage >= 1.0]
        neoplasms = {row[0] for row in fetch_rows(conn, [h.id for h in whole]) if row[2].startswith(("C", "D"))}
        hits = [h for h in whole if h.id in neoplasms][:1]
    rows = fetch_rows(conn, [hits[0].id]) if hits else []
    rule = family.code_for(rows[0][2], table) if rows else None
    # says why: the condition as the query named it, and the diagnosis whose block gave the code
    return [shorthand.Status("icd10cm", rule.code, f"{said} {named}: {rows[0][2]} {rows[0][3]}", kind=kind)] \
        if rule else []


def _status_by_words(engine: Engine, conn: Any, text: Any, flt: Filter) -> list[shorthand.Status]:
    """"s/p R great toe amp", "s/p lobectomy", "s/p pancreas tx": a status status.tsv does not list,
    found among the status codes of its kind (shorthand.status_search) by the words of what was done."""
    asked = shorthand.status_search(text) if isinstance(text, str) and (
        not flt.wanted or "icd10cm" in flt.wanted) else None
    if asked is None:
        return []
    prefix, ws = asked
    scope = np.sort(engine.family(conn, CodeTerm(prefix, prefix.replace(".", "")), Filter(("icd10cm",))))
    if not len(scope):
        return []
    if prefix == "Z85":  # "PMHx sigmoid ca": the history code of the cancer's own category
        by_block = _by_block(engine, conn, shorthand.what_was_had(text), family.CANCER_HISTORY, "history of",
                             "history", cancer=True)
        if by_block:
            return by_block
        # "h/o BCC skin, excised": the words the history titles say; a site among them
        said = {w for row in fetch_rows(conn, [int(i) for i in scope]) for w in words(row[3])}
        ws = tuple(w for w in ws if w in said)
        if len(ws) < 3:
            return []
    hits = engine.lexical(conn, ws, False, Filter(("icd10cm",), flt.billable, flt.as_of, scope),
                          candidates=SUGGEST_CANDIDATES, index=False).hits
    if not hits or hits[0].coverage < 1.0:
        return []
    rows = fetch_rows(conn, [hits[0].id])
    return [shorthand.Status("icd10cm", rows[0][2], f"status: {rows[0][3]}", kind="status")] if rows else []


def _drug_alone(engine: Engine, q: Any) -> list[shorthand.Status]:
    """A drug's name alone, that no code set has a word for ("eliquis", "plavix"): its long-term use
    code (Z79.01), which is what the name means to a coder, where otherwise nothing would answer.
    Names the code sets know ("insulin", "heparin") keep what their words find."""
    if not isinstance(q, str):
        return []
    found = shorthand.drug_alone(q)
    if found is None or any(engine.vocab.known(w) for w in found[1]):
        return []
    return [found[0]]


def _licensed_notice(engine: Engine, conn: Any, missed: list[CodeTerm], cited: list[dict[str, Any]],
                     wanted: tuple[str, ...]) -> str | None:
    """What to tell a user who typed a code of a licensed system (CPT) that this index has no data for
    and no policy cites: where such codes come from, rather than only a look-alike code of another system."""
    shown = {c["code"] for c in cited}
    for _ct, system, code in _licensed_shaped(missed, wanted):
        if code in shown or engine.has_system(conn, system):
            continue
        name = systems_mod.SYSTEMS[system].name
        return (f"{code} has the shape of a {name} code. {name} descriptors are licensed and this index holds"
                f" none: load your own {name} files with `medcodes build --source {system}=PATH`.")
    return None


def _grouper(words: tuple[str, ...], wanted: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The words to search and the systems the query names: "diabetes drg" is diabetes, DRGs first."""
    asked = frozenset(wanted)
    named = [i for i, w in enumerate(words) if w in _GROUPER_WORDS]
    if not named or len(named) == len(words):
        return words, asked
    drop = set(named) | {i - 1 for i in named if i > 0 and words[i - 1] == "ms"}  # "MS-DRG"
    return tuple(w for i, w in enumerate(words) if i not in drop), asked | {"msdrg"}


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


def _words_to_search(query: Query, missed: list[CodeTerm]) -> tuple[str, ...]:
    """The query's words, with code candidates that matched no code put back as words ("b12")."""
    if not missed:
        return query.words
    missed_words = {m.compact.lower() for m in missed}
    return tuple(w for w in query.all_words if w in missed_words or w in query.words)


def _add_lexical(plan: Plan, lex: Lexical, engine: Engine, conn: Any, query: Query, flt: Filter,
                 need: int, asked: tuple[tuple[str, ...], bool] = ((), False),
                 combined: list[int] | None = None) -> None:
    scores = {c.id: c.score for c in lex.hits}
    ordered = [c.id for c in lex.hits]
    if combined:  # "X due to Y": codes that say both first, then the best code of each condition
        both = [c.id for c in lex.hits[:COMBINED_FIRST] if c.coverage >= 1.0]
        lead = [*both, *(i for i in combined if i not in both)]
        scores.update({i: scores.get(i, lex.hits[0].score if lex.hits else 1.0) for i in lead})
        ordered = [*lead, *(i for i in ordered if i not in set(lead))]
    gems = _legacy(plan, lex, engine, conn, flt, asked)
    if gems:  # the current equivalents first, then the ICD-9 code itself, then the rest
        old_id = next(iter(gems.values()))[0]
        first = [*gems, *([old_id] if old_id in scores else [])]
        top = max(scores.values(), default=0.0)
        scores.update(dict.fromkeys(first, top))
        ordered = [*first, *(i for i in ordered if i not in set(first))]
    fused = engine.fuse(conn, query, lex, flt, ordered, scores, len(plan.ids))
    if fused is not None:
        ordered, scores, semantic_only = fused
        plan.semantic = True
    else:
        semantic_only = set()
    rest = engine.more(conn, lex, flt, need + len(ordered)) if len(ordered) < need else []
    before = plan.total
    for by_meaning, run in groupby(ordered, key=semantic_only.__contains__):  # in fused order
        plan.add(list(run), "semantic" if by_meaning else "words", "", engine, scores)
    plan.add(rest, "words", "", engine, {})
    for i, (_, term) in gems.items():
        if plan.why.get(i, ("",))[0] in ("words", "semantic"):
            plan.why[i] = ("gems", term)
    extra = lex.total - (plan.total - before)
    if extra > 0:  # matches beyond what was ranked still count
        plan.total += extra
        for name, n in lex.facets.items():
            plan.facets[name] = max(plan.facets.get(name, 0), n)
    else:
        for name, n in lex.facets.items():
            plan.facets[name] = max(plan.facets.get(name, 0), n)


def _denied_by(conn: Any, system: str, code: str, said: tuple[str, ...]) -> bool:
    """Whether the code's descriptor says "without" something the query says."""
    row = conn.execute("SELECT title FROM codes WHERE system = ? AND code = ?", (system, code)).fetchone()
    without = rank._WITHOUT.search(row[0].lower()) if row else None  # as the re-scoring reads "without"
    return without is not None and bool(set(words(without.group(1))) & set(said) - rank.STOPWORDS)


ONE_SAYS_BOTH = 0.75  # the share of the query's groups a code says that makes it the code of both parts


def _one_says_both(lex: Lexical) -> bool:
    """Whether one code says the conditions a phrase joins ("AKI 2/2 ATN": N17.0, acute kidney failure with
    tubular necrosis), so that it, not the best code of each, comes first."""
    return bool(lex.hits) and lex.hits[0].coverage >= ONE_SAYS_BOTH


def _each_part(engine: Engine, conn: Any, reading: shorthand.Reading, lex: Lexical, flt: Filter) -> list[int]:
    """The best code of each condition a phrase names ("UTI due to klebsiella": N39.0, B96.1). What
    follows "due to" is a cause: where a code says it is "the cause of diseases classified
    elsewhere" (organisms), that code."""
    out: list[int] = []
    parts = reading.parts
    if len(parts) > 2 or sum(len(parse(p).words) for p in parts) > COMBINED_WORDS:
        return out  # a long description, not two conditions named in a note
    for i, part in enumerate(parts):
        ws = parse(part).words
        if not ws:
            continue
        hits: list[Any] = []
        if i > 0 and reading.cause:
            cause = engine.lexical(conn, (*ws, *CAUSE_WORDS), False, flt, index=False,
                                   candidates=SUGGEST_CANDIDATES).hits
            hits = [c for c in cause[:1] if c.coverage >= 1.0]
        if not hits:
            hits = engine.lexical(conn, ws, False, flt, candidates=SUGGEST_CANDIDATES).hits
        if hits and hits[0].system == PROCEDURES:
            return []  # "colonoscopy with polyp removal" is one procedure, not a scope and a removal
        if hits and hits[0].id not in out:
            out.append(hits[0].id)
    return out if len(out) >= 2 else []


def _legacy(plan: Plan, lex: Lexical, engine: Engine, conn: Any, flt: Filter,
            asked: tuple[tuple[str, ...], bool]) -> dict[int, tuple[int, str]]:
    """Current codes the GEMs give for the ICD-9 code the query names: id -> (the ICD-9 code's id,
    "ICD-9-CM 250.00")."""
    words, partial = asked
    if not words:
        return {}
    old = engine.legacy_match(conn, lex, words, partial, flt)
    if old is None:
        return {}
    name = systems_mod.SYSTEMS[old.system].name if old.system in systems_mod.SYSTEMS else old.system
    return {i: (old.id, f"{name} {old.code}") for i in engine.equivalents(conn, old.system, old.code, flt)
            if i not in plan.why}


def _corrected_text(query: Query, corrected: dict[str, str]) -> str:
    return " ".join(corrected.get(w, w) for w in query.words)


def _respell(engine: Engine, conn: Any, words: tuple[str, ...], flt: Filter) -> str | None:
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
    lex = engine.lexical(conn, tuple(fixed), False, flt, correct=False)
    return " ".join(fixed) if lex.total else None


# -- formatting ------------------------------------------------------------------
def _format(conn: Any, ids: list[int], plan: Plan, lex: Lexical, query: Query, engine: Engine,
            when: AsOf | None = None) -> list[dict[str, Any]]:
    rows = {r[0]: r for r in fetch_rows(conn, ids)}
    query_words = [w for g in lex.groups for alt in g.alternatives for w in alt]
    partial = query.partial and bool(lex.groups) and any(g.entry is None for g in lex.groups[-1:])
    coverage = rank.Coverage(lex.groups, partial)
    marks = rank.Highlighter(query_words, partial)
    titles = {c.id: c.coverage for c in lex.hits}  # the re-scoring measured the descriptors already
    said = {i: coverage(rows[i][3]) if titles.get(i) is None else titles[i] for i in ids
            if plan.why[i][0] not in _NAMED and i not in lex.paths}
    notes = engine.notes(conn, [i for i, cov in said.items() if cov < 1.0])  # one read for the page
    out = []
    for i in ids:
        r = rows[i]
        how, term = plan.why[i]
        out.append({
            "system": r[1], "system_name": systems_mod.SYSTEMS[r[1]].name if r[1] in systems_mod.SYSTEMS else r[1],
            "code": r[2], "title": r[3], "kind": r[4],
            "billable": None if r[5] is None else bool(r[5]),
            "deleted_in": r[6],
            "score": round(plan.score.get(i, 0.0), 4),
            "match": _why(r, how, term, lex, coverage, marks, said.get(i, 0.0), notes.get(i, ())),
        })
        if when is not None:
            out[-1]["as_of"] = when.mark(engine.events(conn, i), r)
    return out


def _why(r: tuple[Any, ...], how: str, term: str, lex: Lexical, coverage: rank.Coverage,
         marks: rank.Highlighter, cov_title: float, notes: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Why result `r` is there: the code typed, the index path, or the text (title, synonym, inclusion
    term, index term or note) that says most of the query (`cov_title`: how much the title says;
    `notes`: the code's other texts, read only when the title does not say everything)."""
    if how in ("code", "family", "range"):  # _NAMED: what the query named, not what a text says
        return {"field": "code", "fragment": _mark_code(r[2], term, how), "term": term, "how": how}
    if how == "status":  # "s/p CABG", "on eliquis": what the shorthand says of the patient
        return {"field": "shorthand", "fragment": escape(r[3]), "term": term, "how": how, "label": term}
    if how == "gems":  # a current equivalent of the ICD-9 code the words named
        return {"field": "gems", "fragment": escape(r[3]), "term": term, "how": how,
                "label": f"GEMs equivalent of {term}"}
    if r[0] in lex.paths:  # the official index led here: its path is why
        path, source = lex.paths[r[0]]
        return {"field": "index", "fragment": marks(path), "term": path, "how": "index",
                "index": paths.SOURCE_NAMES.get(source, source), "path": path}
    best = ("title", r[3], cov_title)
    notes = notes[:NOTE_TEXTS]
    said = [coverage.said(text) for _, text in notes]
    # no text says more than all of them together: when they all say no more than the title, none is
    # weighed alone (most codes found by meaning, whose notes lack the query's words)
    if notes and coverage.share(set().union(*said)) > cov_title:
        for (field_, text), words_said in zip(notes, said, strict=True):
            cov = coverage.share(words_said)
            if cov > best[2]:
                best = (field_, text, cov)
                if cov >= 1.0:  # nothing later can say more
                    break
    field_, text, cov = best
    out: dict[str, Any] = {"field": field_ if cov > 0 else ("semantic" if how == "semantic" else field_),
                           "fragment": marks(text),
                           "term": text if field_ != "title" else ""}
    shown = rank.word_set(text) if any(g.entry is not None for g in lex.groups) else ()
    used = [g.entry for g in lex.groups if g.entry is not None
            and any(rank.covers(alt, shown) for alt in g.alternatives[1:])]
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
    flt = Filter(query.systems, query.billable)
    for ct in query.codes:
        plan.add((r[0] for r in engine.exact(conn, ct.compact, flt)), "code", ct.raw, engine)
        plan.add(engine.family(conn, ct, flt)[:limit], "family", ct.raw, engine)
    lex = Lexical()
    if len(plan.ids) < limit and query.words:
        words, asked = _grouper(query.words, query.systems)
        lex = engine.lexical(conn, words, True, flt, asked=asked, candidates=SUGGEST_CANDIDATES)
        plan.add((c.id for c in lex.hits[:limit]), "words", "", engine)
    return _format(conn, plan.ids[:limit], plan, lex, query, engine)


__all__ = ["run_search", "run_suggest"]
