"""A code's official notes as a page shows them: grouped by kind, each kind said once in plain words,
the codes a note names linked to their pages, and where a note was written said once per group."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..content.facts import NOTE_MEANINGS
from ..index import Catalog
from ..model import NOTE_TYPES
from ..record import CodeRef, Note

# A code as notes write it: E11.9, E11.A, O24.4- (the codes under O24.4), E10.- (the codes under E10),
# and ranges such as P70-P74 or E16-E31. Only inside parentheses or lists, where notes name codes.
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
FAR_KINDS = frozenset({"chapter", "block", "section"})
_REFERENCE = re.compile(rf"(?<![\w.-])({_CODE})(?:(\.?-)|-({_CODE}))?(?![\w])")


@dataclass(slots=True)
class NoteOrigin:
    """The notes of one kind written on one code: the code itself (None), or an ancestor. Notes a
    chapter or block writes for all its codes are `far`: a page folds them, they are rarely the point."""

    code: str | None
    far: bool
    items: list[Markup] = field(default_factory=list)


@dataclass(slots=True)
class NoteGroup:
    """One kind of note ("Excludes1"), what it means, and its notes by the code they were written on."""

    type: str
    label: str
    meaning: str
    origins: list[NoteOrigin] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(o.items) for o in self.origins)


def note_groups(catalog: Catalog, system: str, notes: Iterable[Note], code_url: str,
                ancestors: Iterable[CodeRef] = ()) -> list[NoteGroup]:
    """Notes by kind in the order a coder reads them, each note's codes linked where the code exists.

    `code_url` is the code page address with "{code}" in place of the code."""
    notes = list(notes)
    far = {a.code for a in ancestors if a.kind in FAR_KINDS}
    targets = _existing(catalog, system, (ref for n in notes for ref in _references(n.text)))
    groups: dict[str, NoteGroup] = {}
    for n in notes:
        label, meaning = NOTE_MEANINGS.get(n.type, (n.type.replace("_", " ").capitalize(), ""))
        group = groups.setdefault(n.type, NoteGroup(n.type, label, meaning.rstrip(":") + "." if meaning else ""))
        origin = n.inherited_from
        if not group.origins or group.origins[-1].code != origin:
            group.origins.append(NoteOrigin(origin, origin in far))
        group.origins[-1].items.append(linked(n.text, targets, code_url))
    order = {t: i for i, t in enumerate(NOTE_TYPES)}
    return sorted(groups.values(), key=lambda g: order.get(g.type, len(order)))


def _references(text: str) -> Iterable[str]:
    for m in _REFERENCE.finditer(text):
        yield m.group(1)


def _existing(catalog: Catalog, system: str, codes: Iterable[str]) -> dict[str, str]:
    """{code as written: code page path part} for the codes the index has."""
    wanted = sorted(set(codes))
    found = catalog.titles([(system, c) for c in wanted])
    return {c: c for c in wanted if (system, c) in found}


def linked(text: str, targets: Mapping[str, str], code_url: str) -> Markup:
    """The note's text, escaped, with each known code (and the first code of a range) a link."""
    out: list[str] = []
    last = 0
    for m in _REFERENCE.finditer(text):
        code = m.group(1)
        if code not in targets:
            continue
        out.append(str(escape(text[last:m.start()])))
        href = code_url.replace("{code}", targets[code])
        out.append(f'<a class="code" href="{escape(href)}">{escape(m.group(0))}</a>')
        last = m.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))
