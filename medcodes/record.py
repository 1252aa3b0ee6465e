"""One code's data, typed: what the CLI, the pages, the JSON API and FHIR all render.

The index fills the official part (`Catalog.official()`); the application layer adds the explainer,
similar codes, policies and the answer for a date of service (medcodes.app.codes). `to_json()` is the
one JSON form: `medcodes show --json` and `/api/v1/codes/{system}/{code}` print it as it is, keys
in this order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CodeRef:
    """Another code named on this one's page: an ancestor or a child."""

    system: str
    code: str
    title: str | None
    kind: str
    billable: bool | None

    def to_json(self) -> JSON:
        return {"system": self.system, "code": self.code, "title": self.title, "kind": self.kind,
                "billable": self.billable}


@dataclass(frozen=True, slots=True)
class Note:
    type: str  # "includes", "excludes1", "code_first", ... (model.NOTE_TYPES)
    text: str
    inherited_from: str | None  # the ancestor the note is written on; None: the code's own

    def to_json(self) -> JSON:
        return {"type": self.type, "text": self.text, "from": self.inherited_from}


@dataclass(frozen=True, slots=True)
class IndexRef:
    """An index entry that sends the coder to another: "see", "see_also" or "use" (PCS)."""

    kind: str
    term: str  # the entry that refers, as printed
    target: str  # the entry it sends to

    def to_json(self) -> JSON:
        return {"kind": self.kind, "term": self.term, "target": self.target}


@dataclass(frozen=True, slots=True)
class IndexTerm:
    term: str
    source: str
    path: tuple[str, ...] = ()  # main term, subterms..., a table's column heading last
    refs: tuple[IndexRef, ...] = ()  # what the entry, or an entry above it, sends the coder to as well
    referred_by: tuple[IndexRef, ...] = ()  # entries that send the coder here ("Abdominalgia — see Pain, abdominal")

    def to_json(self) -> JSON:
        return {"term": self.term, "source": self.source, "path": list(self.path),
                "refs": [r.to_json() for r in self.refs], "referred_by": [r.to_json() for r in self.referred_by]}


@dataclass(frozen=True, slots=True)
class Crosswalk:
    """A relation to or from another code (a GEMs mapping, a cross-reference)."""

    direction: str  # "to": this code is the source; "from": the target
    type: str
    system: str
    code: str
    attributes: Mapping[str, Any]  # the mapping's flags, as the source file gives them
    title: str | None  # the other code's title; None when the index lacks it

    def to_json(self) -> JSON:
        return {"direction": self.direction, "type": self.type, "system": self.system, "code": self.code,
                "attributes": dict(self.attributes), "title": self.title}


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    release: str
    effective: str | None
    change: str  # "added", "revised", "deleted"
    old_title: str | None
    new_title: str | None
    source: str | None
    replaced_by: tuple[str, ...] | None = None  # deleted codes only: what the same release added in their place

    def to_json(self) -> JSON:
        out: JSON = {"release": self.release, "effective": self.effective, "change": self.change,
                     "old_title": self.old_title, "new_title": self.new_title, "source": self.source}
        if self.replaced_by is not None:
            out["replaced_by"] = list(self.replaced_by)
        return out


@dataclass(frozen=True, slots=True)
class AsOf:
    """The code on a date of service. `valid` and `exists` are None when no loaded release tells."""

    date: str
    valid: bool | None
    exists: bool | None
    title: str | None
    reason: str | None
    release: str | None
    replaced_by: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        out: JSON = {"date": self.date, "valid": self.valid, "exists": self.exists, "title": self.title,
                     "reason": self.reason, "release": self.release}
        if self.replaced_by:
            out["replaced_by"] = list(self.replaced_by)
        return out


@dataclass(frozen=True, slots=True)
class SimilarCode:
    system: str
    code: str
    title: str | None
    reason: str  # every reason, strongest first, joined with "; "
    reason_type: str  # the strongest reason's kind: "family", "note", "gem", "policy", ...

    def to_json(self) -> JSON:
        return {"system": self.system, "code": self.code, "title": self.title, "reason": self.reason,
                "reason_type": self.reason_type}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SimilarCode:
        return cls(d["system"], d["code"], d["title"], d["reason"], d["reason_type"])


@dataclass(frozen=True, slots=True)
class PolicyMention:
    section: str
    section_label: str
    snippet: str

    def to_json(self) -> JSON:
        return {"section": self.section, "section_label": self.section_label, "snippet": self.snippet}


@dataclass(frozen=True, slots=True)
class PolicyCitation:
    """A policy that cites the code: what it is and what it says about the code."""

    policy_id: str
    payer: str | None
    title: str | None
    number: str | None
    kind: str | None
    url: str | None
    effective: str | None
    last_reviewed: str | None
    version: int | None
    section: str | None  # the strongest section that cites the code
    section_label: str | None
    snippet: str | None
    mentions: tuple[PolicyMention, ...] = ()

    def to_json(self) -> JSON:
        return {"policy_id": self.policy_id, "payer": self.payer, "title": self.title, "number": self.number,
                "kind": self.kind, "url": self.url, "effective": self.effective,
                "last_reviewed": self.last_reviewed, "version": self.version, "section": self.section,
                "section_label": self.section_label, "snippet": self.snippet,
                "mentions": [m.to_json() for m in self.mentions]}


@dataclass(frozen=True, slots=True)
class SectionSource:
    """Where an explainer section comes from: the official fields it quotes, or the model that wrote it."""

    type: str  # "official" or "generated"
    fields: tuple[str, ...] = ()
    model: str | None = None
    date: str | None = None
    review_status: str | None = None
    prompt_version: str | None = None

    def to_json(self) -> JSON:
        if self.type == "official":
            return {"type": self.type, "fields": list(self.fields)}
        return {"type": self.type, "model": self.model, "date": self.date, "review_status": self.review_status,
                "prompt_version": self.prompt_version}


@dataclass(frozen=True, slots=True)
class ExplainerSection:
    title: str
    text: str  # complete on its own
    source: SectionSource
    lead: str | None = None  # official sections written as a list: the sentence before it
    items: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        if self.source.type == "official":
            if not self.items:
                return {"title": self.title, "text": self.text, "source": self.source.to_json()}
            return {"title": self.title, "text": self.text, "lead": self.lead, "items": list(self.items),
                    "source": self.source.to_json()}
        out: JSON = {"title": self.title, "text": self.text, "source": self.source.to_json()}
        if self.items:
            out["items"] = list(self.items)
        return out


@dataclass(frozen=True, slots=True)
class Generated:
    """The stored generated text of an explainer: who wrote it, when, and whether a person reviewed it."""

    label: str
    model: str
    date: str
    created: str
    prompt_version: str
    review_status: str
    reviewed_at: str | None
    origin: str | None
    stale: bool  # the official data changed since the text was written

    def to_json(self) -> JSON:
        return {"label": self.label, "model": self.model, "date": self.date, "created": self.created,
                "prompt_version": self.prompt_version, "review_status": self.review_status,
                "reviewed_at": self.reviewed_at, "origin": self.origin, "stale": self.stale}


@dataclass(frozen=True, slots=True)
class Explainer:
    sections: tuple[ExplainerSection, ...]
    generated: Generated | None
    # without generated text, where the server writes it on demand: the code's state in the queue
    # (status queued / failed / not_queued; see medcodes.content.queue)
    pending: Mapping[str, Any] | None = None

    def to_json(self) -> JSON:
        return {"sections": [s.to_json() for s in self.sections],
                "generated": None if self.generated is None else self.generated.to_json(),
                "pending": None if self.pending is None else dict(self.pending)}


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """Everything about one code. The official part always; the rest when the application layer adds it
    (None: not asked for)."""

    system: str
    system_name: str
    system_label: str
    fhir_system: str | None
    code: str
    in_index: bool  # False: a licensed code (CPT) that policies cite, with no loaded data of its own
    title: str | None
    short_title: str | None
    kind: str
    billable: bool | None
    release: str | None
    ancestors: tuple[CodeRef, ...]
    children: tuple[CodeRef, ...]
    notes: tuple[Note, ...]  # own notes first, then the ancestors' that apply below them, nearest first
    synonyms: tuple[str, ...]
    index_terms: tuple[IndexTerm, ...]
    crosswalks: tuple[Crosswalk, ...]
    attributes: Mapping[str, Any]  # what a system's files say beyond the common fields (axes, BETOS, ...)
    deleted_in: str | None
    history: tuple[HistoryEvent, ...]
    # coding edits of an ICD-10-CM/PCS code from the official CMS tables (medcodes.edits.lookup: each fact
    # with its table and version); None for other systems and indexes built without them
    edits: Mapping[str, Any] | None = None
    explainer: Explainer | None = None
    similar: tuple[SimilarCode, ...] | None = None  # None with `similar_deferred`: not found yet
    similar_deferred: bool | None = None  # set only when the similar codes were left for a second request
    policies: tuple[PolicyCitation, ...] | None = None
    policies_total: int | None = None
    as_of: AsOf | None = None

    @classmethod
    def bare(cls, system: str, code: str, title: str | None = None, **fields: Any) -> CodeRecord:
        """A record with only the given fields, the rest empty: a made-up code (the prompt's sample)."""
        empty: JSON = dict(system_name="", system_label="", fhir_system=None, in_index=True, short_title=None,
                           kind="", billable=None, release=None, ancestors=(), children=(), notes=(), synonyms=(),
                           index_terms=(), crosswalks=(), attributes={}, deleted_in=None, history=())
        return cls(system=system, code=code, title=title, **{**empty, **fields})

    def to_json(self) -> JSON:
        out: JSON = {
            "system": self.system, "system_name": self.system_name, "system_label": self.system_label,
            "fhir_system": self.fhir_system, "code": self.code, "in_index": self.in_index, "title": self.title,
            "short_title": self.short_title, "kind": self.kind, "billable": self.billable, "release": self.release,
            "ancestors": [a.to_json() for a in self.ancestors],
            "children": [c.to_json() for c in self.children],
            "notes": [n.to_json() for n in self.notes],
            "synonyms": list(self.synonyms),
            "index_terms": [t.to_json() for t in self.index_terms],
            "crosswalks": [x.to_json() for x in self.crosswalks],
            "attributes": dict(self.attributes),
            "deleted_in": self.deleted_in,
            "history": [h.to_json() for h in self.history],
        }
        if self.edits is not None:
            out["edits"] = dict(self.edits)
        if self.explainer is not None:
            out["explainer"] = self.explainer.to_json()
        if self.explainer is not None or self.similar is not None:
            out["similar"] = None if self.similar is None else [s.to_json() for s in self.similar]
        if self.similar_deferred is not None:
            out["similar_deferred"] = self.similar_deferred
        if self.policies is not None:
            out["policies"] = [p.to_json() for p in self.policies]
            out["policies_total"] = self.policies_total
        if self.as_of is not None:
            out["as_of"] = self.as_of.to_json()
        return out
