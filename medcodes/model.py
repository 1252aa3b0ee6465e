"""The one model every code system is read into.

Importers yield these records; the index builder stores them; every
rendering (CLI, web, API, FHIR) reads them back as plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# Note types, in the order a coder reads them on a page.
NOTE_TYPES: tuple[str, ...] = (
    "definition",
    "includes",
    "inclusion",
    "excludes1",
    "excludes2",
    "code_first",
    "use_additional",
    "code_also",
    "seventh_character",
    "note",
)

# Kinds of nodes. ICD-10-CM uses the first five; PCS, HCPCS and MS-DRG use
# their own grouping levels so a browse page can label them honestly.
KINDS: tuple[str, ...] = (
    "chapter",
    "block",
    "category",
    "subcategory",
    "code",
    "section",  # PCS section (1st character), HCPCS section (first letter)
    "body_system",  # PCS 2nd character
    "table",  # PCS table (first three characters)
    "modifier",  # HCPCS Level II modifier
    "mdc",  # MS-DRG major diagnostic category
)

# How an index entry refers to another: "see" (look there instead), "see_also" (look there too),
# "use" (PCS: the body part or device value to use for this term).
REFERENCE_KINDS: tuple[str, ...] = ("see", "see_also", "use")

# What a release can do to a code, in the order a release's changes are listed.
CHANGE_TYPES: tuple[str, ...] = ("added", "deleted", "revised")


@dataclass(frozen=True, slots=True)
class Note:
    """One instructional note line, e.g. ("excludes1", "gestational diabetes (O24.4-)")."""

    type: str
    text: str


@dataclass(frozen=True, slots=True)
class Code:
    """A code (or grouping node) of one system.

    Several sources may describe the same code (tabular XML gives notes, the
    order file gives short titles); the builder folds them with `merged_with`,
    so fields a source does not know stay None/empty.
    """

    system: str
    code: str  # canonical display form: "E11.9", "0SG00A1", "J1100", "E08-E13"
    title: str = ""  # long descriptor
    kind: str = "code"
    billable: bool | None = None  # valid for submission; None = source does not say
    parent: str | None = None  # canonical code of the parent node, same system
    short_title: str | None = None
    notes: tuple[Note, ...] = ()
    synonyms: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def merged_with(self, other: Code) -> Code:
        """Fold a later source's view of the same code into this one.

        Later non-empty scalar values win; notes, synonyms and attributes are
        unioned so no source can erase what another contributed.
        """
        notes = self.notes + tuple(n for n in other.notes if n not in self.notes)
        synonyms = self.synonyms + tuple(s for s in other.synonyms if s not in self.synonyms)
        # A title composed from PCS axes never replaces an official one, whatever the file order.
        keep = (bool(self.title) and other.attributes.get("title_composed") is True
                and self.attributes.get("title_composed") is False)
        attributes = {**self.attributes, **other.attributes}
        if keep:
            attributes["title_composed"] = False
        return replace(
            self,
            title=self.title if keep else (other.title or self.title),
            kind=other.kind if other.kind != "code" or self.kind == "code" else self.kind,
            billable=other.billable if other.billable is not None else self.billable,
            parent=other.parent or self.parent,
            short_title=other.short_title or self.short_title,
            notes=notes,
            synonyms=synonyms,
            attributes=attributes,
        )


@dataclass(frozen=True, slots=True)
class Term:
    """An index term (alphabetic index, drug table, neoplasm table...) pointing at a code."""

    system: str
    code: str
    term: str  # the entry as a coder reads it: levels joined by ", ", a table's column after " — "
    source: str  # "index", "eindex", "drug", "neoplasm", "pcs-index", "hcpcs-index"
    # The entry's levels, main term first, then each subterm; for the drug and neoplasm tables the
    # column heading comes last. Empty where a source has no levels.
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """An index entry that sends the coder to another entry instead of (or besides) a code.

    "Infarct" -> see "Infarction"; "Abnormal, abnormality" -> see also "Anomaly"; PCS "Abdominal
    aorta" -> use "Abdominal Aorta". `target` is the other entry's text as the index prints it.
    """

    system: str
    term: str  # the entry that refers, in Term.term form
    kind: str  # one of REFERENCE_KINDS
    target: str
    source: str  # as Term.source
    path: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed link between codes, e.g. a GEM row ICD-9-CM 250.00 -> ICD-10-CM E11.9."""

    type: str  # "gem"
    source_system: str
    source_code: str
    target_system: str
    target_code: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Release:
    """Which release a source file carries; yielded once per system a file feeds."""

    system: str
    name: str  # "ICD-10-CM FY2026, April 2026 update"
    effective: str | None = None  # ISO date the release takes effect


@dataclass(frozen=True, slots=True)
class Change:
    """What one release did to one code: added it, revised its title, or deleted it.

    Importers yield these from official change lists (ICD-10-CM addenda, HCPCS
    action codes); the builder derives the same from two loaded code lists
    (source "release diff") and lets an official record win (issue 7).
    "deleted" means no longer valid for submission: an ICD-10-CM code that
    became a header is deleted although the header stays.
    """

    system: str
    code: str  # canonical display form
    release: str  # Release.name of the release that made the change
    change: str  # one of CHANGE_TYPES
    old_title: str | None = None  # the title before (revised, deleted); None where the source does not say
    new_title: str | None = None  # the title after (added, revised)
    source: str = ""  # where it comes from: "addenda", "hcpcs action code C", "release diff"
    effective: str | None = None  # ISO date it took effect; None: the release's own date


Record = Code | Term | Reference | Relation | Release | Change
