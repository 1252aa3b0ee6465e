"""The index's code systems as terminology code systems, read through the shared services.

Canonical URIs follow HL7 Terminology (THO); a system some clients name by another URI (HCPCS by its
CMS page as well as its OID) answers to both. ICD-9-CM diagnoses and procedures share one URI, as
HCPCS codes and modifiers do: a code is resolved to the system whose code shape it has.
A version is the name of a loaded release ("2026"); the newest is the default.
"""

from __future__ import annotations

import bisect
import heapq
import re
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

from ... import systems
from ...app import services
from ...index import Catalog
from ...record import CodeRecord
from .concepts import Concept, version_key, version_matches
from .edits import EDIT_PROPERTIES, EditProperty, edit_properties

EDIT_SYSTEMS = frozenset({"icd10cm", "icd10pcs"})  # systems whose records carry coding edits

GROUPING_KINDS = frozenset({"chapter", "block", "section", "body_system", "table", "mdc"})
HCPCS_URL = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
# Other names clients use for a system -> the URI the registry holds
ALIASES = {HCPCS_URL: "urn:oid:2.16.840.1.113883.6.285",
           "urn:oid:2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
           "urn:oid:2.16.840.1.113883.6.4": "http://www.cms.gov/Medicare/Coding/ICD10",
           "urn:oid:2.16.840.1.113883.6.12": "http://www.ama-assn.org/go/cpt",
           "urn:oid:2.16.840.1.113883.6.103": "http://hl7.org/fhir/sid/icd-9-cm",
           "urn:oid:2.16.840.1.113883.6.104": "http://hl7.org/fhir/sid/icd-9-cm"}


def system_ids(catalog: Catalog, url: str) -> list[str]:
    """The loaded systems a URI names (none when the URI is unknown or its systems are not loaded)."""
    target = ALIASES.get(url, url)
    counts = _counts(catalog)
    return [s.id for s in systems.by_fhir_uri(target) if counts.get(s.id)]


def _counts(catalog: Catalog) -> dict[str, int]:
    cache = getattr(catalog, "_fhir_counts", None)
    if cache is None:
        cache = catalog.counts()
        try:
            catalog._fhir_counts = cache  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return cache


_YEAR = re.compile(r"(?:FY\s?)?((?:19|20)[0-9]{2})")


def short_version(release: str) -> str:
    """The version a client sends back for a release: its (fiscal) year ("ICD-10-CM FY2026, April 2026
    update" -> "2026"), else the release name."""
    m = _YEAR.search(release)
    return m.group(1) if m else release


def index_versions(catalog: Catalog, url: str) -> list[str]:
    ids = system_ids(catalog, url)
    if not ids:
        return []
    releases = catalog.releases()
    return sorted({short_version(r) for s in ids for r in releases.get(s, [])}, key=version_key)


def _release_names(catalog: Catalog, url: str) -> dict[str, str]:
    releases = catalog.releases()
    return {r: short_version(r) for s in system_ids(catalog, url) for r in releases.get(s, [])}


def index_code_system(catalog: Catalog, url: str, version: str | None) -> IndexCodeSystem | None:
    ids = system_ids(catalog, url)
    if not ids:
        return None
    known = index_versions(catalog, url)
    if version:
        version = _release_names(catalog, url).get(version, version)  # a full release name works too
        matching = [v for v in known if v == version or version_matches(version, v)]
        if not matching:
            return None
        version = matching[-1]
    else:
        version = known[-1] if known else None
    return IndexCodeSystem(catalog, url, ids, version)


def concept_of(row: sqlite3.Row) -> Concept:
    c = Concept(code=row["code"], display=row["title"])
    c.abstract = row["kind"] in GROUPING_KINDS
    c.inactive = row["deleted_in"] is not None
    c.status = "retired" if c.inactive else None
    if row["parent"]:
        c.parents = [row["parent"]]
    return c


class IndexCodeSystem:
    """One URI's loaded systems (one, or two sharing the URI)."""

    content = "complete"
    case_sensitive = False
    language = "en"
    status = "active"
    experimental = False
    resource: dict[str, Any] | None = None

    def __init__(self, catalog: Catalog, url: str, ids: list[str], version: str | None) -> None:
        self.catalog = catalog
        self.url = url
        self.ids = ids
        self.version = version
        self.name = systems.get(ids[0]).name
        self.title = self.name
        self._rows: dict[str, sqlite3.Row | None] = {}

    def row(self, code: str) -> sqlite3.Row | None:
        """The code in the system it has the shape of; a dotted code must match its dots."""
        if code in self._rows:
            return self._rows[code]
        typed = code.strip().upper()
        found = None
        if typed and len(typed) <= 40:
            candidates = [s for s in self.ids if "." not in typed or systems.normalize(s, typed) == typed]
            candidates.sort(key=lambda s: not systems.looks_like(s, typed))
            for system in candidates:
                rows = self.catalog.find(typed, system)
                if rows:
                    found = rows[0]
                    break
        self._rows[code] = found
        return found

    def get(self, code: str) -> Concept | None:
        row = self.row(code)
        return concept_of(row) if row is not None else None

    def system_name(self, code: str) -> str:
        row = self.row(code)
        return systems.get(row["system"]).name if row is not None else self.name

    def data(self, code: str) -> CodeRecord:
        row = self.row(code)
        assert row is not None
        return services.code_data(self.catalog, row["system"], row["code"], extra=False)

    def ancestors(self, code: str) -> list[str]:
        row = self.row(code)
        return [a["code"] for a in self.catalog.ancestors(row)] if row is not None else []

    def children_of(self, code: str) -> list[Concept]:
        row = self.row(code)
        return [concept_of(r) for r in self.catalog.children(row["system"], row["code"])] if row is not None else []

    def concepts(self) -> Iterator[Concept]:
        for system in self.ids:
            for row in self.catalog.children(system, None):
                yield concept_of(row)
                yield from self._subtree(row)

    def _subtree(self, row: sqlite3.Row) -> Iterator[Concept]:
        for r in _subtree_rows(self.catalog, row):
            yield concept_of(r)

    def roots(self) -> list[str]:
        return [r["code"] for s in self.ids for r in self.catalog.children(s, None)]

    def size(self) -> int:
        counts = _counts(self.catalog)
        return sum(counts.get(s, 0) for s in self.ids)

    def descendants(self, code: str) -> Iterator[Concept]:
        row = self.row(code)
        if row is not None:
            yield from self._subtree(row)

    def property_defs(self) -> list[dict[str, Any]]:
        return [{"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean"},
                {"code": "notSelectable", "uri": "http://hl7.org/fhir/concept-properties#notSelectable",
                 "type": "boolean"},
                {"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
                {"code": "child", "uri": "http://hl7.org/fhir/concept-properties#child", "type": "code"},
                {"code": "kind", "type": "code"}, {"code": "billable", "type": "boolean"},
                *({"code": code, "type": kind, "description": text} for code, (kind, text) in EDIT_PROPERTIES.items()
                  if any(s in EDIT_SYSTEMS for s in self.ids))]

    def properties(self, code: str) -> list[tuple[str, Any, str]]:
        """(property, value, FHIR type) of one code: what $lookup and expansions show."""
        d = self.data(code)
        props: list[tuple[str, Any, str]] = [("kind", d.kind, "Code")]
        if d.billable is not None:
            props.append(("billable", d.billable, "Boolean"))
        props += [("notSelectable", d.kind in GROUPING_KINDS, "Boolean"),
                  ("inactive", d.deleted_in is not None, "Boolean")]
        if d.deleted_in:
            props.append(("status", "retired", "Code"))
        if d.ancestors:
            props.append(("parent", d.ancestors[-1].code, "Code"))
        props += [("child", c.code, "Code") for c in d.children]
        return props

    def edit_properties(self, code: str) -> list[EditProperty]:
        """The coding edits of an ICD-10-CM/PCS code (CC/MCC, MS-DRGs, HCC, MCE) as properties."""
        return edit_properties(self.data(code).edits)

    def designations(self, code: str) -> list[dict[str, Any]]:
        d = self.data(code)
        out = []
        if d.short_title and d.short_title != d.title:
            out.append({"language": "en", "use": {"system": "http://terminology.hl7.org/CodeSystem/designation-usage",
                                                  "code": "display"}, "value": d.short_title})
        out += [{"language": "en", "value": s} for s in d.synonyms if s and s != d.title]
        return out

    def expansion_page(self, root: str | None, words: list[str], count: int, offset: int,
                       active_only: bool) -> tuple[int, list[Concept]]:
        """A page of the system (or of one code's subtree) in code order, words matched as prefixes of
        title words or of the code: the fast path of implicit and simple value sets."""
        conn = self.catalog.conn
        if words:
            return self._filtered_page(root, words, count, offset, active_only)
        where = [f"system IN ({','.join('?' * len(self.ids))})"]
        args: list[Any] = list(self.ids)
        if root is not None:
            row = self.row(root)
            if row is None:
                return 0, []
            end = _subtree_end(self.catalog, row)
            where.append("system=? AND seq>=? AND seq<?")
            args += [row["system"], row["seq"], end]
        if active_only:
            where.append("deleted_in IS NULL")
        sql = " AND ".join(where)
        total = conn.execute(f"SELECT COUNT(*) FROM codes WHERE {sql}", args).fetchone()[0]
        rows = conn.execute(f"SELECT system, code, title, kind, deleted_in, parent FROM codes WHERE {sql}"
                            " ORDER BY system, seq LIMIT ? OFFSET ?", [*args, count, offset]).fetchall()
        return total, [concept_of(r) for r in rows]


    def _filtered_page(self, root: str | None, words: list[str], count: int, offset: int,
                       active_only: bool) -> tuple[int, list[Concept]]:
        """Codes whose title has a word starting with each of `words` (or whose code starts with it),
        from a word index of the system held per process: a title scan per request costs ~0.7 s on
        ICD-10-CM, the index a few milliseconds."""
        lo_hi = None
        if root is not None:
            row = self.row(root)
            if row is None:
                return 0, []
            lo_hi = (row["system"], row["seq"], _subtree_end(self.catalog, row))
        found_by_system: list[tuple[_WordIndex, set[int] | frozenset[int]]] = []
        for system in self.ids:
            if lo_hi is not None and lo_hi[0] != system:
                continue
            index = _word_index(self.catalog, system)
            found: set[int] | frozenset[int] = index.matching(words)
            if lo_hi is not None:
                lo, hi = bisect.bisect_left(index.seqs, lo_hi[1]), bisect.bisect_left(index.seqs, lo_hi[2])
                found = {r for r in found if lo <= r < hi}
            if active_only:
                found = found - index.deleted
            found_by_system.append((index, found))
        total = sum(len(f) for _, f in found_by_system)
        # only the page is put in order: ranks follow code order, so the smallest are the page
        wanted = offset + count
        page: list[int] = []
        for index, hits in found_by_system:
            if wanted <= 0:
                break
            ranks = heapq.nsmallest(wanted, hits) if len(hits) > wanted else sorted(hits)
            page += [index.ids[r] for r in ranks]
            wanted -= len(ranks)
        page = page[offset:offset + count]
        if not page:
            return total, []
        rows = {r["id"]: r for r in self.catalog.conn.execute(
            f"SELECT id, system, code, title, kind, deleted_in, parent FROM codes WHERE id IN "
            f"({','.join('?' * len(page))})", page)}
        return total, [concept_of(rows[i]) for i in page if i in rows]


class _WordIndex:
    """One system's title words (and compact codes) -> the codes that have them, each code named by
    its rank in code order (so a page is the smallest ranks, and a subtree a range of them)."""

    MAX_CACHED = 4096  # prefix -> codes matched, kept: "dia" unions hundreds of words' postings

    def __init__(self, rows: list[sqlite3.Row]) -> None:
        rows = sorted(rows, key=lambda r: r["seq"])
        self.ids = [r["id"] for r in rows]
        self.seqs = [r["seq"] for r in rows]
        self.deleted = frozenset(rank for rank, r in enumerate(rows) if r["deleted_in"])
        postings: dict[str, set[int]] = {}
        for rank, r in enumerate(rows):
            for w in {*_TOKEN.findall(r["title"].lower()), r["compact"].lower()}:
                postings.setdefault(w, set()).add(rank)
        self.words = sorted(postings)
        self.postings = [frozenset(postings[w]) for w in self.words]
        self._prefixes: dict[str, frozenset[int]] = {}
        self._lock = threading.Lock()

    def prefix(self, w: str) -> frozenset[int]:
        found = self._prefixes.get(w)
        if found is not None:
            return found
        i = bisect.bisect_left(self.words, w)
        j = bisect.bisect_left(self.words, w + "\uffff")
        found = self.postings[i] if j == i + 1 else frozenset().union(*self.postings[i:j])
        with self._lock:
            if len(self._prefixes) >= self.MAX_CACHED:
                self._prefixes.clear()
            self._prefixes[w] = found
        return found

    def matching(self, words: list[str]) -> frozenset[int]:
        sets = sorted((self.prefix(w.lower()) for w in words), key=len)
        if not sets:
            return frozenset()
        out = sets[0]
        for other in sets[1:]:
            if not out:
                break
            out = out & other
        return out


_TOKEN = re.compile(r"[0-9a-z]+")
_WORD_INDEXES: dict[tuple[str, Any, str], _WordIndex] = {}
_WORD_LOCK = threading.Lock()


def _word_index(catalog: Catalog, system: str) -> _WordIndex:
    # one per file (a rebuilt index replaced at the same path is another file) and system
    key = (str(catalog.path), getattr(catalog, "stamp", None), system)
    with _WORD_LOCK:
        found = _WORD_INDEXES.get(key)
        if found is None:
            for old in [k for k in _WORD_INDEXES if k[0] == key[0] and k[1] != key[1]]:
                del _WORD_INDEXES[old]  # the replaced file's
            rows = catalog.conn.execute("SELECT id, seq, compact, title, deleted_in FROM codes WHERE system=?",
                                        (system,)).fetchall()
            found = _WORD_INDEXES[key] = _WordIndex(rows)
        return found


def warm(catalog: Catalog, system_ids: list[str]) -> None:
    """Build the word indexes of the systems a filtered $expand reads, ahead of the first request
    (about a second of CPU for ICD-10-CM), as the server warms up."""
    for system in system_ids:
        if systems.get(system).fhir_uri:
            _word_index(catalog, system)


def _subtree_end(catalog: Catalog, row: sqlite3.Row) -> float:
    """A code's descendants are the code-order interval up to the next code no deeper than it."""
    return float(catalog.conn.execute(
        "SELECT COALESCE(MIN(seq), 1e18) FROM codes WHERE system=? AND seq>? AND depth<=?",
        (row["system"], row["seq"], row["depth"])).fetchone()[0])


def _subtree_rows(catalog: Catalog, row: sqlite3.Row) -> list[sqlite3.Row]:
    end = _subtree_end(catalog, row)
    return catalog.conn.execute(
        "SELECT system, code, title, kind, deleted_in, parent FROM codes WHERE system=? AND seq>? AND seq<?"
        " ORDER BY seq", (row["system"], row["seq"], end)).fetchall()
