"""The records the policy layer passes between its steps: document -> mentions -> links -> store.

Documents are parsed into `Block`s (documents.py), blocks into `Mention`s (extract.py),
mentions into `Link`s and `RangeLink`s checked against the catalog (linking.py), and a
`PolicyRecord` carries one policy version to the store (store.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# What a policy says about a code, in the order a reader weighs them.
SECTIONS: dict[str, str] = {
    "covered": "Covered / medically necessary",
    "not_covered": "Not covered / not medically necessary",
    "investigational": "Experimental / investigational",
    "coding": "Coding table",
    "mentioned": "Mentioned",
}
# The three that say whether the plan pays: the "coverage" classes the bench scores.
COVERAGE_SECTIONS = ("covered", "not_covered", "investigational")
# A code named only in the policy's revision history ("Removed 0398T"): kept for the policy page, never linked.
HISTORY = "history"


@dataclass(frozen=True, slots=True)
class Block:
    """One unit of document text with its structural role.

    kind: "heading" (level 1-6), "label" (a bold line or a line ending in ':' that heads
    what follows), "para", "item" (list item or text line), "row" (table row; cells set),
    "caption" (table caption, acts as a label).
    """

    kind: str
    text: str
    level: int = 0
    cells: tuple[str, ...] = ()
    header: tuple[str, ...] = ()  # the header cells of the row's table


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed policy document: its text blocks, metadata hints and display HTML."""

    format: str  # "html", "pdf", "text"
    blocks: tuple[Block, ...]
    text: str  # plain text, the search body and the hash input
    title: str | None = None
    html: str | None = None  # sanitised HTML for display (HTML documents only)
    meta: Mapping[str, str] = field(default_factory=dict)  # author, publisher, site_name, pdf title...
    url: str | None = None
    source: str | None = None  # file path or URL it came from


@dataclass(frozen=True, slots=True)
class Mention:
    """A code (or range of codes) a document cites, as written, with what it says about it."""

    system: str
    code: str  # canonical first code
    last: str | None = None  # canonical last code of a range; None for one code
    subtree: bool = False  # "E11.-", "S42.001+": the code and everything under it
    section: str = "mentioned"
    snippet: str = ""
    raw: str = ""  # as written: "E08.00–E13.9"
    validated: bool = True  # False: the catalog holds no codes of this system (CPT)
    seventh: str | None = None  # range endpoints that both carry this 7th character (S42.00XA-S42.92XA)

    @property
    def key(self) -> tuple[str, str, str | None]:
        """(system, first, last); last is "*" for a code with its subtree ("E11.-")."""
        return (self.system, self.code, "*" if self.subtree and self.last is None else self.last)


@dataclass(frozen=True, slots=True)
class Link:
    system: str
    code: str
    section: str
    snippet: str
    mention: str  # the text that produced it ("E08.00–E13.9" for every code of that range)
    validated: bool = True


@dataclass(frozen=True, slots=True)
class RangeLink:
    """A range in a system the catalog does not hold (CPT): matched by string order at lookup."""

    system: str
    first: str
    last: str
    section: str
    snippet: str
    mention: str


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One version of one policy, ready for the store."""

    payer: str
    title: str
    kind: str  # "document", "map", "lcd", "article", "ncd"
    content_hash: str
    links: tuple[Link, ...] = ()
    ranges: tuple[RangeLink, ...] = ()
    policy_id: str | None = None  # None: the store derives one (source, then payer + number)
    number: str | None = None
    url: str | None = None
    source: str | None = None
    effective: str | None = None  # ISO date
    last_reviewed: str | None = None  # ISO date
    format: str | None = None
    text: str = ""
    html: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
