"""A code's data, assembled: the official record from the index, then what the other layers add:
the explainer and similar codes (medcodes.content) and the policies that cite the code
(medcodes.policies), all read from the durable store beside the index.

`code_data()` is the one function behind `medcodes show --json`, the code page, its JSON twin and
FHIR $lookup (STYLE.md principle 1), so they all carry the same `explainer`, `similar` and `policies`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .. import systems
from ..content import queue
from ..content.explain import explainer
from ..content.similar import similar_cited, similar_codes
from ..edits.lookup import edits_for
from ..errors import NotFound
from ..index import Catalog
from ..memo import Memo, file_stamp
from ..policies.queries import policies_for_code
from ..policies.store import links_version
from ..record import CodeRecord, Explainer, PolicyCitation, PolicyMention, SimilarCode
from ..service_date import not_loaded
from ..storage import Location

SIMILAR_LIMIT = 10
POLICIES_SHOWN = 50  # a code cited by hundreds of Medicare articles: the page lists the strongest first


def code_data(catalog: Catalog, system: str, code: str, as_of: str | None = None, *,
              extra: bool = True, defer_similar: bool = False) -> CodeRecord:
    """Everything about one code. With `extra`, also what the other layers add (explainer, similar
    codes, policies); FHIR, which shows none of it, leaves it out. `defer_similar`: similar codes only
    if already found (the code page; see `add`).

    A code of a licensed system (CPT) that a policy cites has code data even when none of the
    system's data is loaded.
    """
    try:
        data = catalog.official(system, code)
        # official CMS tables, like the record itself: every rendering carries them, FHIR included
        data = replace(data, edits=edits_for(catalog.conn, data.system, data.code))
    except NotFound:
        cited = cited_only(catalog, system, code)
        if cited is None:
            raise
        data = cited
    if extra:
        data = add(catalog, data, defer_similar=defer_similar)
    if as_of:
        if data.in_index:
            data = replace(data, as_of=catalog.as_of(data.system, data.code, as_of))
        else:
            data = replace(data, as_of=not_loaded(as_of, data.system_name, data.code))
    return data


def code_keys(catalog: Catalog, text: str, system: str | None = None) -> list[tuple[str, str]]:
    """(system, code) of every code the user's text may mean, in `system` or any: the codes of the
    index, and a licensed code (CPT) that policies cite ("63650" is also ICD-9-CM 636.50)."""
    keys = [(r["system"], r["code"]) for r in catalog.find(text, system)]
    for licensed in [system] if system else sorted(systems.LICENSED_SYSTEMS):
        if any(k[0] == licensed for k in keys):
            continue
        cited = cited_only(catalog, licensed, text)
        if cited:
            keys.append((cited.system, cited.code))
    if not keys:
        raise NotFound(f"no code {text!r}" + (f" in {system}" if system else ""))
    return keys


def add(catalog: Catalog, data: CodeRecord, *, defer_similar: bool = False) -> CodeRecord:
    """With `defer_similar`, similar codes only when already remembered, else `similar` is None and
    `similar_deferred` True: the code page then loads them in a second request (they are most of a
    first visit's time, and the last section of the page)."""
    system, code, store = data.system, data.code, catalog.store_path
    deferred: bool | None = None
    if defer_similar:
        found_similar = remembered_similar(catalog, system, code, SIMILAR_LIMIT, in_index=data.in_index)
        deferred = found_similar is None
    else:
        found_similar = similar(catalog, system, code, SIMILAR_LIMIT, in_index=data.in_index)
    found = policies_for_code(store, system, code)
    return replace(data, explainer=code_explainer(catalog, data), similar=found_similar, similar_deferred=deferred,
                   policies=tuple(policy_entry(p) for p in found[:POLICIES_SHOWN]), policies_total=len(found))


def code_explainer(catalog: Catalog, data: CodeRecord) -> Explainer:
    """The explainer of a code's data; without generated text, also `pending`: the code's place in
    the on-demand queue (viewing it queues it when this server generates on demand), else None."""
    out = explainer(catalog.store_path, data)
    if out.generated is None and data.in_index:
        return replace(out, pending=queue.on_view(catalog.store_path, data.system, data.code))
    return out


def similar(catalog: Catalog, system: str, code: str, limit: int = SIMILAR_LIMIT, *,
            in_index: bool = True) -> tuple[SimilarCode, ...]:
    """Similar codes, remembered: they are most of a code page's time (a PCS table's thousand rows),
    and they change only with the index file (a rebuild is a new file) or the store's policy tables
    (an ingest or a removal)."""

    def find() -> tuple[SimilarCode, ...]:
        if in_index:
            found = similar_codes(catalog, system, code, limit, store=catalog.store_path)
        else:
            found = similar_cited(catalog, system, code, limit, store=catalog.store_path)
        return tuple(SimilarCode.from_json(s) for s in found)

    return _SIMILAR.get(catalog, _similar_key(catalog, system, code, limit, in_index), find)


def remembered_similar(catalog: Catalog, system: str, code: str, limit: int = SIMILAR_LIMIT, *,
                       in_index: bool = True) -> tuple[SimilarCode, ...] | None:
    """The similar codes `similar` has already found for this code and state, or None."""
    return _SIMILAR.peek(catalog, _similar_key(catalog, system, code, limit, in_index))


def _similar_key(catalog: Catalog, system: str, code: str, limit: int, in_index: bool) -> tuple[Any, ...]:
    return (_policies_version(catalog.store_path), system, code, limit, in_index)


_SIMILAR: Memo[tuple[SimilarCode, ...]] = Memo(20_000)  # entries: about 3 KB each


def _policies_version(where: Location) -> Any:
    """What similar codes read from the store: the policy tables' change counter, so that the content
    queue's writes to the same store keep them remembered."""
    version = links_version(where)
    if version is not None or not isinstance(where, Path):
        return version
    # a store file not migrated since the counter came: an ingest writes the WAL first and the main
    # file at a checkpoint, so either changing is a change
    return (file_stamp(where), file_stamp(where.with_name(where.name + "-wal")))


def policy_entry(p: dict[str, Any]) -> PolicyCitation:
    """One policy as the code data carries it: what it is and what it says about this code."""
    return PolicyCitation(
        policy_id=p["policy_id"], payer=p.get("payer"), title=p.get("title"), number=p.get("number"),
        kind=p.get("kind"), url=p.get("url"), effective=p.get("effective"), last_reviewed=p.get("last_reviewed"),
        version=p.get("version"), section=p.get("section"), section_label=p.get("section_label"),
        snippet=p.get("snippet"),
        mentions=tuple(PolicyMention(m["section"], m["section_label"], m["snippet"]) for m in p.get("mentions") or []))


def cited_only(catalog: Catalog, system: str, code: str) -> CodeRecord | None:
    """The code data of a licensed-system code the index lacks but a policy cites; None otherwise."""
    if system not in systems.LICENSED_SYSTEMS or not systems.looks_like(system, code):
        return None
    canonical = systems.normalize(system, code)
    if not policies_for_code(catalog.store_path, system, canonical):
        return None
    info = systems.get(system)
    return CodeRecord(system=system, system_name=info.name, system_label=info.label, fhir_system=info.fhir_uri,
                      code=canonical, in_index=False, title=None, short_title=None, kind="code", billable=None,
                      release=None, ancestors=(), children=(), notes=(), synonyms=(), index_terms=(), crosswalks=(),
                      attributes={}, deleted_in=None, history=())


def cited_key(catalog: Catalog, system: str, code: str) -> tuple[str, str]:
    """(system, canonical code) of a cited-only code, or NotFound in the catalog's words."""
    data = cited_only(catalog, system, code)
    if data is None:
        raise NotFound(f"{systems.get(system).name} code {code.strip()[:40]!r} not found")
    return data.system, data.code


def nearest(catalog: Catalog, system: str, text: str, limit: int = 8) -> list[dict[str, Any]]:
    """Real codes nearest a code that does not exist: those sharing its longest known beginning
    ("E11.99" -> E11.9 and its neighbours; "E11.Z" -> the codes under E11)."""
    compact = "".join(ch for ch in systems.compact(text) if ch.isalnum())

    def starting(prefix: str) -> list[dict[str, Any]]:
        return [dict(r) for r in catalog.conn.execute(
            "SELECT system, code, title, kind, billable FROM codes WHERE system=? AND compact LIKE ?"
            " AND deleted_in IS NULL ORDER BY length(compact), seq LIMIT ?", (system, prefix + "%", limit))]

    for size in range(len(compact), 1, -1):
        found = starting(compact[:size])
        if found:  # then the neighbours one character up, so a lone hit comes with its siblings
            seen = {r["code"] for r in found}
            found += [r for r in starting(compact[:size - 1]) if r["code"] not in seen] if size > 2 else []
            return found[:limit]
    return []
