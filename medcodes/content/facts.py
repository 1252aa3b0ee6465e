"""Layer one of an explainer: facts said plainly from the official data, no model involved.

Every section names the code-data fields its sentences come from (`source.fields`), so a reader
or a test can trace each sentence back to the official file. The wording around the facts is
fixed text; the facts themselves are quoted, never paraphrased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import systems
from ..record import CodeRecord, Crosswalk
from .sections import section_set_name

Fact = dict[str, Any]

# What each ICD-10-CM instructional note means, from the Official Guidelines (section I.A).
NOTE_MEANINGS: dict[str, tuple[str, str]] = {
    "definition": ("Definition", "The official definition:"),
    "includes": ("Includes", "The official “includes” note lists conditions this code covers:"),
    "inclusion": ("Inclusion terms", "Other conditions the official tabular list codes here:"),
    "excludes1": ("Excludes1",
                  "Excludes1 means “not coded here”: these are never coded together with this code,"
                  " because they cannot occur together or are coded elsewhere:"),
    "excludes2": ("Excludes2",
                  "Excludes2 means “not included here”: a patient may have both, and both may then be coded:"),
    "code_first": ("Code first", "Code the underlying condition first, before this code:"),
    "use_additional": ("Use additional code", "Add another code to give the full picture:"),
    "code_also": ("Code also", "A second code may be needed as well; the order depends on the encounter:"),
    "seventh_character": ("7th characters", "A 7th character is added to codes here:"),
    "note": ("Note", "An official note applies:"),
}

_KIND_NAMES = {"body_system": "body system", "mdc": "major diagnostic category"}
_DRG_TYPES = {"MED": "medical", "SURG": "surgical", "M": "medical", "P": "surgical"}

_GEM_FLAGS = {"approximate": "approximate match", "no_map": "no equivalent", "combination": "combination",
              "scenario": "scenario", "choice_list": "choice list"}


def _fact(title: str, text: str, fields: list[str], items: list[str] | None = None) -> Fact:
    """A section. `text` is always complete on its own; with `items`, `lead` is the sentence
    before the list and `items` the list, for renderings that show lists as lists."""
    if not items:
        return {"title": title, "text": text, "source": {"type": "official", "fields": fields}}
    lead = text[:-1] + ":" if text.endswith(".") else text
    full = f"{lead} {'; '.join(items)}" + ("" if items[-1].endswith((".", ")")) else ".")
    return {"title": title, "text": full, "lead": text, "items": items,
            "source": {"type": "official", "fields": fields}}


def explainer_facts(code_data: CodeRecord) -> list[Fact]:
    """The official facts of one code said plainly, under the seed's section names for its kind.

    The official notes are not repeated here: the page shows them once, in their own section. A
    "Coding notes" section only says which kinds of note apply.
    """
    kind = section_set_name(code_data) if code_data.title is not None else "licensed"
    if code_data.kind in _GROUPING_KINDS:
        kind = "grouping"
    out: list[Fact] = []
    builders = _by_system(code_data) if kind not in ("grouping", "licensed") else None
    for build in builders or _BY_KIND.get(kind, [_summary]):
        out.extend(build(code_data))
    return out


def _summary(d: CodeRecord) -> list[Fact]:
    """What the code is, whether it is billed, where it sits, and the index words that lead to it."""
    text, fields = _description(d)
    placement = _placement(d)
    if placement:
        text += " " + placement
        fields.append("ancestors")
    terms = _index_term_list(d)
    if terms:
        shown = ", ".join(f"“{t}”" for t in terms[:6])
        more = f" and {len(terms) - 6} more" if len(terms) > 6 else ""
        text += f" The official index leads here from {shown}{more}."
        fields.append("index_terms")
    title = "What it is" if section_set_name(d) in ("supply", "drug") else "Summary"
    return [_fact(title, text, fields)]


def _description(d: CodeRecord) -> tuple[str, list[str]]:
    if d.kind in _GROUPING_KINDS:
        label = f"{d.system_name or d.system} {_KIND_NAMES.get(d.kind, d.kind)}"
    else:
        label = d.system_label or d.system
    if d.title is None:
        # a licensed code (CPT) that policies cite, with none of its system's data loaded
        name = d.system_name or d.system
        return (f"{d.code} is a {label}. Its descriptor is not shown: {name} text is licensed, and no {name}"
                " data loaded here includes it.", ["in_index"])
    text = f"{d.code} is the {label} for “{d.title}”."
    fields = ["title"]
    if d.short_title and d.short_title != d.title:
        text += f" Its short form is “{d.short_title}”."
        fields.append("short_title")
    if d.deleted_in:
        text += f" It was deleted in {d.deleted_in} and is no longer valid for new claims."
        fields.append("deleted_in")
    elif d.system == "msdrg" or d.kind in _GROUPING_KINDS:
        pass  # a DRG is assigned by a grouper, a chapter or block is a heading: neither is "billed"
    elif d.billable is True:
        text += " It is valid for submission on a claim."
        fields.append("billable")
    elif d.billable is False and d.children:
        text += (f" It is a header, not valid for submission: one of the {len(d.children)} more specific"
                 " codes below it is used instead.")
        fields += ["billable", "children"]
    elif d.billable is False:
        text += " It is not valid for submission."
        fields.append("billable")
    return text, fields


def _placement(d: CodeRecord) -> str:
    if not d.ancestors:
        return ""
    chain = ", ".join(f"{_KIND_NAMES.get(a.kind, a.kind)} {a.code} “{a.title}”" for a in d.ancestors)
    return f"It sits in {chain}."


def _index_term_list(d: CodeRecord) -> list[str]:
    return list(dict.fromkeys(t.term for t in d.index_terms))


def _coding_notes(d: CodeRecord) -> list[Fact]:
    """Which kinds of official note apply, said once; the notes themselves are in the Notes section."""
    counts: dict[str, int] = {}
    for n in d.notes:
        counts[n.type] = counts.get(n.type, 0) + 1
    if not counts:
        return []
    parts = []
    for note_type, count in counts.items():
        name = NOTE_MEANINGS.get(note_type, (note_type.replace("_", " ").capitalize(), ""))[0]
        parts.append(f"{name} ({count})")
    text = ("Official instructional notes apply to this code, from it or the codes above it: "
            f"{', '.join(parts)}. They are listed once, under Notes, with what each kind means.")
    fields = [f"notes[{t}]" for t in counts]
    return [_fact("Coding notes", text, fields)]


@dataclass(slots=True)
class CrosswalkLink:
    """The crosswalk rows to one code taken together: a GEM pair often runs both ways (E11.9 -> 250.00
    and back). A row with no code (a "no map" GEM) is a link of its own."""

    first: Crosswalk
    directions: set[str]
    attributes: list[Mapping[str, Any]]

    def flags(self, labels: Callable[[Mapping[str, Any]], list[str]]) -> list[str]:
        """The labels `labels` gives each row's attributes, each once, in the order the rows give them."""
        out: list[str] = []
        for a in self.attributes:
            out += [f for f in labels(a) if f not in out]
        return out


def crosswalk_links(crosswalks: Iterable[Crosswalk]) -> list[CrosswalkLink]:
    links: dict[tuple[str, str], CrosswalkLink] = {}
    for i, x in enumerate(crosswalks):
        key = (x.system, x.code or f"\0{i}")
        link = links.get(key)
        if link is None:
            links[key] = CrosswalkLink(x, {x.direction}, [x.attributes or {}])
        else:
            link.directions.add(x.direction)
            link.attributes.append(x.attributes or {})
    return list(links.values())


def _gem_labels(attributes: Mapping[str, Any]) -> list[str]:
    return [label for key, label in _GEM_FLAGS.items() if attributes.get(key) is True]


def crosswalk_items(d: CodeRecord) -> list[str]:
    """One line per linked code, saying which way the official map runs."""
    items = []
    for link in crosswalk_links(d.crosswalks):
        x = link.first
        if not x.code:
            continue
        arrow = ("maps both ways to" if len(link.directions) == 2
                 else {"to": "maps to", "from": "is mapped from"}.get(x.direction, ""))
        title = f" “{x.title}”" if x.title else ""
        flags = link.flags(_gem_labels)
        marks = f" ({', '.join(flags)})" if flags else ""
        items.append(f"{arrow} {_system_name(x.system)} {x.code}{title}{marks}")
    return items


def _system_name(system: str) -> str:
    try:
        return systems.get(system).name
    except Exception:  # an unknown system id in a crosswalk is shown as written
        return system


def note_lines(d: CodeRecord) -> list[str]:
    """The notes a writer of plain language needs, one line each: the code's own notes and its
    category's, not a chapter's long lists of other chapters (which read as causes of this code)."""
    near = {d.code} | {a.code for a in d.ancestors if a.kind in ("category", "code")}
    lines = []
    for n in d.notes:
        if n.inherited_from and n.inherited_from not in near:
            continue
        name = NOTE_MEANINGS.get(n.type, (n.type.replace("_", " ").capitalize(), ""))[0]
        lines.append(f"{name}: {n.text}")
    return list(dict.fromkeys(lines))


# -- ICD-10-PCS: the seven axes -------------------------------------------------
def _pcs(d: CodeRecord) -> list[Fact]:
    axes = sorted(d.attributes.get("axes") or [], key=lambda a: int(a.get("position", 0)))
    summary, fields = _description(d)
    if axes:
        summary += " " + _compose_axes(d.code, axes)
        fields.append("attributes.axes")
    out = [_fact("Summary", summary, fields)]
    if axes:
        items = []
        for a in axes:
            line = f"Character {a['position']} · {a['name']}: {a['value']} = {a['label']}"
            if a.get("definition"):
                line += f" — {a['definition']}"
            items.append(line)
        out.append(_fact("Procedure Description", "What each character of the code says, with the official"
                         " definitions.", ["attributes.axes"], items))
    out.append(_fact("Setting", "ICD-10-PCS codes report procedures done for patients admitted to a hospital"
                     " (inpatient stays); the same work in an office or outpatient department is reported"
                     " with CPT or HCPCS codes.", ["system"]))
    return out


def _compose_axes(code: str, axes: list[Mapping[str, Any]]) -> str:
    """One readable sentence from the axes ("No Device", "No Qualifier" and "None" left out)."""
    section = next((a for a in axes if int(a["position"]) == 1), None)
    system = next((a for a in axes if int(a["position"]) == 2), None)
    rest = [a for a in axes if int(a["position"]) >= 3 and not _says_none(a["label"])]
    where = ""
    if section and system:
        where = f" in the {section['label']} section, {system['label']} body system"
    parts = [f"{a['name'].lower()} “{a['label']}”" for a in rest]
    text = f"Read character by character, {code} is a procedure{where}: {', '.join(parts)}."
    op = next((a for a in rest if int(a["position"]) == 3 and a.get("definition")), None)
    if op:
        text += f" {op['label']} is officially defined as: {_sentence(op['definition'])}"
    return text


def _says_none(label: Any) -> bool:
    """"No Device", "No Qualifier", "None": an axis value that adds nothing to a sentence."""
    text = str(label).strip().lower()
    return text == "none" or text.startswith("no ")


def _sentence(text: str) -> str:
    text = str(text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


# -- HCPCS Level II: what it is, who bills it, coverage basics -------------------
def _hcpcs(d: CodeRecord) -> list[Fact]:
    a = d.attributes
    summary = _summary(d)[0]
    category, fields = [], list(summary["source"]["fields"])
    if a.get("betos"):
        category.append(f"Its BETOS category is {a['betos']}: {a.get('betos_label') or 'unlabelled'}.")
        fields.append("attributes.betos")
    xrefs = a.get("cross_references") or []
    if xrefs:
        category.append(f"The HCPCS file cross-refers to {', '.join(xrefs)}.")
        fields.append("attributes.cross_references")
    if category:
        summary = _fact(summary["title"], f"{summary['text']} {' '.join(category)}", fields)
    out = [summary]
    if a.get("types_of_service_labels"):
        who = "; ".join(x for x in a["types_of_service_labels"] if x)
        if who:
            title = "Who uses it" if summary["title"] == "What it is" else "Personnel"
            out.append(_fact(title, f"Medicare type of service: {who}.", ["attributes.types_of_service"]))
    coverage, fields = [], []
    if a.get("coverage"):
        coverage.append(f"Medicare coverage code {a['coverage']}: {a.get('coverage_label') or 'see the HCPCS file'}.")
        fields.append("attributes.coverage")
    labels = [x for x in a.get("pricing_indicators_labels") or [] if x]
    if labels:
        coverage.append(f"Pricing: {'; '.join(labels)}.")
        fields.append("attributes.pricing_indicators")
    if a.get("statute"):
        coverage.append(f"Statute: {a['statute']}.")
        fields.append("attributes.statute")
    refs = [*(a.get("coverage_issues_manual_refs") or []), *(a.get("carriers_manual_refs") or [])]
    if refs:
        coverage.append(f"Medicare manual references: {', '.join(refs)}.")
        fields += ["attributes.coverage_issues_manual_refs", "attributes.carriers_manual_refs"]
    for key, label in (("added", "Added"), ("action_effective", "Last change effective"),
                       ("terminated", "Terminated")):
        if a.get(key):
            coverage.append(f"{label} {a[key]}.")
            fields.append(f"attributes.{key}")
    if coverage:
        out.append(_fact("Coverage basics", " ".join(coverage), fields))
    return out


# -- MS-DRG: what the group means and the expected stay --------------------------
def _drg(d: CodeRecord) -> list[Fact]:
    a = d.attributes
    text, fields = _description(d)
    text = text.replace(" is the MS-DRG for ", " is the Medicare Severity Diagnosis Related Group for ")
    text += (" A DRG is not put on a claim by a coder: the hospital's grouper software assigns it to an"
             " inpatient stay from its diagnosis and procedure codes, and Medicare pays the stay by it.")
    if a.get("mdc"):
        mdc_title = a.get("mdc_title") or next(
            (x.title for x in d.ancestors if x.kind == "mdc"), None)
        text += (f" It belongs to major diagnostic category (MDC) {a['mdc']}"
                 + (f" “{mdc_title}”." if mdc_title else "."))
        fields.append("attributes.mdc")
    if a.get("type"):
        kind = _DRG_TYPES.get(str(a["type"]).upper(), str(a["type"]).lower())
        text += f" It is a {kind} DRG."
        fields.append("attributes.type")
    if a.get("weight") not in (None, ""):
        text += f" Its relative weight is {a['weight']} (1.0 is an average Medicare stay)."
        fields.append("attributes.weight")
    out = [_fact("Summary", text, fields)]
    stay, fields = [], []
    if a.get("gmlos") not in (None, ""):
        stay.append(f"geometric mean {a['gmlos']} days")
        fields.append("attributes.gmlos")
    if a.get("amlos") not in (None, ""):
        stay.append(f"arithmetic mean {a['amlos']} days")
        fields.append("attributes.amlos")
    if stay:
        out.append(_fact("Duration", f"Expected length of stay published by CMS: {'; '.join(stay)}.", fields))
    return out


_GROUPING_KINDS = ("chapter", "block", "section", "body_system", "table", "mdc")

_BY_KIND: dict[str, list[Callable[[CodeRecord], Iterable[Fact]]]] = {
    "diagnosis": [_summary, _coding_notes],
    "procedure": [_summary, _coding_notes],
    "supply": [_summary],
    "drug": [_summary],
    "encounter": [_summary, _coding_notes],
    "modifier": [_summary],
    "drg": [_drg],
    "grouping": [_summary, _coding_notes],
    "licensed": [_summary],
}


_BY_SYSTEM: dict[str, list[Callable[[CodeRecord], Iterable[Fact]]]] = {"icd10pcs": [_pcs], "hcpcs": [_hcpcs]}


def _by_system(d: CodeRecord) -> list[Callable[[CodeRecord], Iterable[Fact]]] | None:
    return _BY_SYSTEM.get(d.system)
