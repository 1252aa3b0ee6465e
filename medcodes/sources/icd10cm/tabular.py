"""The ICD-10-CM tabular list XML (<ICD10CM.tabular>): chapters, blocks, codes, notes, 7th characters.

Tree. Chapter (code: its range, "E00-E89") > block (a <section>, code: its
id, "E08-E13") > category ("E11") > subcategory ("E11.6") > code ("E11.65").
Heading-only sections ("C00-C96 Malignant neoplasms", no categories of
their own) group the sections that follow them (`nest_blocks`). A section
naming one category ("C50 Malignant neoplasms of breast") would share its
code with that category, so the block becomes "C50-C50" (`block_code`);
a chapter whose range equals a block's code is told apart the same way
(`chapter_code`).

7th characters. A <sevenChrDef> applies to every leaf below it that is
shorter than 7 characters; the nearest one up the tree wins. Each such leaf
becomes a non-billable subcategory with one billable child a definition:
S72.001 -> S72.001A "..., initial encounter for closed fracture", padded
with the placeholder X to six characters first (T07 -> T07.XXXA). The
titles are word for word those of the CMS code files. One restriction is
stated only as prose in the tabular and is kept in
SEVENTH_CHARACTER_LIMITS. Checked against the FY2026 code file: exactly
its 74,719 billable codes.

Notes. Each node carries its own notes only, in file order; inheritance
from ancestors is resolved when the index is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from lxml import etree

from ...errors import SourceError
from ...model import Code, Note, Record, Release
from ...systems import compact
from .common import CATEGORY, SYSTEM, Source, canonical_code, iter_elements, text

# Tabular element -> Note.type
NOTE_TAGS: dict[str, str] = {
    "includes": "includes",
    "inclusionTerm": "inclusion",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional",
    "codeAlso": "code_also",
    "sevenChrNote": "seventh_character",
    "notes": "note",
}

# 7th characters a note narrows for some codes: (category, 6th character) -> the 7th characters that apply.
SEVENTH_CHARACTER_LIMITS: dict[tuple[str, str], frozenset[str]] = {
    # S06 (intracranial injury): "7th characters D and S do not apply to codes in category S06 with 6th
    # character 7 - death due to brain injury prior to regaining consciousness, or 8 - death due to other
    # cause prior to regaining consciousness." Without this the FY2026 tabular gives 76 codes too many.
    ("S06", "7"): frozenset("A"),
    ("S06", "8"): frozenset("A"),
}

SevenChrDefs = tuple[tuple[str, str], ...]  # (7th character, its meaning), in file order

_BLOCK_ID_RE = re.compile(rf"{CATEGORY}(?:-{CATEGORY})?")
_TRAILING_RANGE_RE = re.compile(rf"^(.*?)\s*\(({CATEGORY}(?:-{CATEGORY})?)\)$")
_CHAR_RE = re.compile(r"[0-9A-Z]")


# ---------------------------------------------------------------------------
# Domain rules


def seventh_character_codes(code: str, title: str, defs: SevenChrDefs) -> list[tuple[str, str, str]]:
    """The billable codes a leaf shorter than 7 characters expands to: (code, title, 7th character).

    The leaf is padded with the placeholder X to six characters, then each
    defined 7th character is added: ("T07", "Unspecified multiple injuries",
    (("A", "initial encounter"),)) -> [("T07.XXXA", "Unspecified multiple
    injuries, initial encounter", "A")].
    """
    stem = compact(code)
    if len(stem) >= 7:
        return []
    stem = stem.ljust(6, "X")
    allowed = SEVENTH_CHARACTER_LIMITS.get((stem[:3], stem[5]))
    return [(canonical_code(stem + char) or stem + char, f"{title}, {meaning}", char)
            for char, meaning in defs if allowed is None or char in allowed]


def block_code(section_id: str) -> str:
    """A block's code: its id, or "C50-C50" for a block of one category, whose id ("C50") is the category's."""
    return section_id if "-" in section_id else f"{section_id}-{section_id}"


def chapter_code(code_range: str, number: str, block_codes: set[str]) -> str:
    """A chapter's code: its range ("E00-E89"), told apart from a block with the same range if there is one."""
    return f"{code_range} (CHAPTER {number})" if code_range in block_codes else code_range


def split_range(desc: str) -> tuple[str, str | None]:
    """"Diabetes mellitus (E08-E13)" -> ("Diabetes mellitus", "E08-E13"): the code shows the range already."""
    m = _TRAILING_RANGE_RE.match(desc)
    return (m.group(1), m.group(2)) if m else (desc, None)


def _bounds(code: str) -> tuple[str, str]:
    first, _, last = code.partition("-")
    return first, last or first


def nest_blocks(blocks: Sequence[tuple[str, bool]]) -> list[str | None]:
    """The block each (block code, is heading-only) sits in, in file order; None: directly in the chapter.

    The tabular lists a heading-only section right before the sections it
    groups, so a block belongs to the nearest open heading whose range holds
    its own. Ranges compare as strings, which is code order for the 3-character
    bounds of sections ("C7A" falls between "C75" and "C76").
    """
    open_headings: list[tuple[str, str, str]] = []
    parents: list[str | None] = []
    for code, heading_only in blocks:
        first, last = _bounds(code)
        while open_headings and not (open_headings[-1][1] <= first and last <= open_headings[-1][2]):
            open_headings.pop()
        parents.append(open_headings[-1][0] if open_headings else None)
        if heading_only:
            open_headings.append((code, first, last))
    return parents


# ---------------------------------------------------------------------------
# Notes and 7th-character definitions


def seventh_definitions(label: str, elem: etree._Element | None) -> SevenChrDefs:
    if elem is None:
        return ()
    defs = []
    for ext in elem.iterchildren("extension"):
        char = (ext.get("char") or "").strip().upper()
        if not _CHAR_RE.fullmatch(char):
            raise SourceError(label, f"7th character {char!r} is not one letter or digit", ext.sourceline)
        defs.append((char, text(ext)))
    return tuple(defs)


def _seventh_notes(elem: etree._Element) -> list[Note]:
    """One note per definition, "A: initial encounter for closed fracture".

    A <note> between definitions says more about the one before it (B: "...
    type I or II", then "initial encounter for open fracture NOS"), so it is
    added to that one in parentheses.
    """
    lines: list[str] = []
    for child in elem.iterchildren("extension", "note"):
        body = text(child)
        if child.tag == "extension":
            lines.append(f"{(child.get('char') or '').strip().upper()}: {body}")
        elif lines and body:
            lines[-1] += f" ({body})"
    return [Note("seventh_character", line) for line in lines]


def own_notes(elem: etree._Element) -> tuple[Note, ...]:
    """The notes written at this node, in file order."""
    notes: list[Note] = []
    for child in elem.iterchildren(*NOTE_TAGS, "sevenChrDef"):
        if child.tag == "sevenChrDef":
            notes.extend(_seventh_notes(child))
            continue
        kind = NOTE_TAGS[child.tag]
        notes.extend(Note(kind, body) for note in child.iterchildren("note") if (body := text(note)))
    return tuple(notes)


# ---------------------------------------------------------------------------
# Records


def read_tabular(src: Source, release: Release) -> Iterator[Record]:
    """Yield the Release, then every chapter's nodes, chapter by chapter (each chapter is parsed whole)."""
    yield release
    found = False
    for chapter in iter_elements(src, ("chapter",)):
        found = True
        yield from chapter_records(src.label, chapter)
    if not found:
        raise SourceError(src.label, "tabular XML without a <chapter>: an empty or cut-down file?")


def chapter_records(label: str, chapter: etree._Element) -> Iterator[Code]:
    number = text(chapter.find("name"))
    title, code_range = split_range(text(chapter.find("desc")))
    sections = [(section, _section_id(label, section)) for section in chapter.iterchildren("section")]
    blocks = [block_code(section_id) for _, section_id in sections]
    if code_range is None and blocks:
        code_range = f"{_bounds(blocks[0])[0]}-{_bounds(blocks[-1])[1]}"  # no range in the title: its blocks'
    if code_range is None:
        raise SourceError(label, f"chapter {number or '?'} has neither a code range nor sections", chapter.sourceline)
    code = chapter_code(code_range, number, set(blocks))
    yield Code(SYSTEM, code, title, kind="chapter", billable=False, notes=own_notes(chapter),
               attributes={"chapter": number} if number else {})
    defs = seventh_definitions(label, chapter.find("sevenChrDef"))
    headings = {ref.get("id"): text(ref) for ref in chapter.iter("sectionRef")}
    nesting = nest_blocks([(block, next(section.iterchildren("diag"), None) is None)
                           for (section, _), block in zip(sections, blocks, strict=True)])
    for (section, section_id), block, parent in zip(sections, blocks, nesting, strict=True):
        block_title = split_range(text(section.find("desc")))[0] or headings.get(section_id, "")
        yield Code(SYSTEM, block, block_title, kind="block", billable=False, parent=parent or code,
                   notes=own_notes(section), attributes={"tabular_id": section_id} if block != section_id else {})
        section_defs = seventh_definitions(label, section.find("sevenChrDef")) or defs
        for diag in section.iterchildren("diag"):
            yield from diag_records(label, diag, block, section_defs)


def _section_id(label: str, section: etree._Element) -> str:
    section_id = (section.get("id") or "").strip().upper()
    if not _BLOCK_ID_RE.fullmatch(section_id):
        raise SourceError(label, f"<section> id {section_id!r} is not a category or a range of categories",
                          section.sourceline)
    return section_id


def diag_records(label: str, diag: etree._Element, parent: str, defs: SevenChrDefs) -> Iterator[Code]:
    """A <diag> and everything below it, with its 7th-character codes where a definition applies."""
    name = diag.find("name")
    raw, line = text(name), diag.sourceline if name is None else name.sourceline
    code = canonical_code(raw)
    if code is None or "-" in raw:
        raise SourceError(label, f"<diag> name {raw!r} is not an ICD-10-CM code", line)
    if "-" not in parent and not compact(code).startswith(compact(parent)):
        raise SourceError(label, f"{code} is filed under {parent}, which is not its stem", line)
    title = text(diag.find("desc"))
    defs = seventh_definitions(label, diag.find("sevenChrDef")) or defs
    children = list(diag.iterchildren("diag"))
    expanded = seventh_character_codes(code, title, defs) if not children else []
    kind = "category" if len(compact(code)) == 3 else "subcategory" if children or expanded else "code"
    yield Code(SYSTEM, code, title, kind=kind, billable=not children and not expanded, parent=parent,
               notes=own_notes(diag), attributes={"placeholder": True} if diag.get("placeholder") == "true" else {})
    for child in children:
        yield from diag_records(label, child, code, defs)
    for seventh, seventh_title, char in expanded:
        yield Code(SYSTEM, seventh, seventh_title, kind="code", billable=True, parent=code,
                   attributes={"seventh_character": char})
