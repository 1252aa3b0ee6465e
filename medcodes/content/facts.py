"""Layer one of an explainer: facts said plainly from the official data, no model involved.

Every section names the code-data fields its sentences come from (`source.fields`), so a reader
or a test can trace each sentence back to the official file. The wording around the facts is
fixed text; the facts themselves are quoted, never paraphrased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..record import CodeRecord

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
    """The official facts of one code, as explainer sections (issue layer one)."""
    out = [_description(code_data)]
    builders: list[Callable[[CodeRecord], Iterable[Fact]]] = [_placement]
    builders += _BY_SYSTEM.get(code_data.system, [])
    builders += [_index_terms, _crosswalks]
    for build in builders:
        out.extend(build(code_data))
    return out


# -- every system --------------------------------------------------------------
def _description(d: CodeRecord) -> Fact:
    if d.kind in ("chapter", "block", "section", "body_system", "table", "mdc"):
        label = f"{d.system_name or d.system} {_KIND_NAMES.get(d.kind, d.kind)}"
    else:
        label = d.system_label or d.system
    if d.title is None:
        # a licensed code (CPT) that policies cite, with none of its system's data loaded (issue 6)
        name = d.system_name or d.system
        return _fact("Official description", f"{d.code} is a {label}. Its descriptor is not shown: {name}"
                     f" text is licensed, and no {name} data loaded here includes it.", ["in_index"])
    text = f"{d.code} is the {label} for “{d.title}”."
    fields = ["title"]
    if d.short_title and d.short_title != d.title:
        text += f" Its short form is “{d.short_title}”."
        fields.append("short_title")
    if d.billable is True:
        text += " It is valid for submission."
        fields.append("billable")
    elif d.billable is False and d.children:
        text += (f" It is a header, not valid for submission: one of the {len(d.children)} more specific"
                 " codes below it is used instead.")
        fields += ["billable", "children"]
    elif d.billable is False:
        text += " It is not valid for submission."
        fields.append("billable")
    if d.deleted_in:
        text += f" It was deleted in {d.deleted_in}."
        fields.append("deleted_in")
    return _fact("Official description", text, fields)


def _placement(d: CodeRecord) -> list[Fact]:
    if not d.ancestors:
        return []
    chain = ", ".join(f"{_KIND_NAMES.get(a.kind, a.kind)} {a.code} “{a.title}”" for a in d.ancestors)
    return [_fact("Where it sits", f"It sits in {chain}.", ["ancestors"])]


def _index_terms(d: CodeRecord) -> list[Fact]:
    terms = list(dict.fromkeys(t.term for t in d.index_terms))
    if not terms:
        return []
    shown = terms[:12]
    more = f" (and {len(terms) - len(shown)} more)" if len(terms) > len(shown) else ""
    text = f"The official index leads here from {_count(len(terms), 'entry', 'entries')}{more}."
    return [_fact("Index entries", text, ["index_terms"], shown)]


def _crosswalks(d: CodeRecord) -> list[Fact]:
    # A GEM pair often runs both ways (E11.9 -> 250.00 and 250.00 -> E11.9): one line per code.
    links: dict[tuple[str, str], dict[str, Any]] = {}
    for x in d.crosswalks:
        if not x.code:
            continue
        link = links.setdefault((x.system, x.code), {"title": x.title, "directions": set(), "flags": []})
        link["directions"].add(x.direction)
        attrs = x.attributes or {}
        link["flags"] += [label for key, label in _GEM_FLAGS.items() if attrs.get(key) is True
                          and label not in link["flags"]]
    items = []
    for (system, code), link in links.items():
        arrow = {"to": "maps to", "from": "is mapped from"}.get(next(iter(link["directions"])), "")
        arrow = "maps both ways to" if len(link["directions"]) == 2 else arrow
        title = f" “{link['title']}”" if link["title"] else ""
        flags = f" ({', '.join(link['flags'])})" if link["flags"] else ""
        items.append(f"{arrow} {_system_name(system)} {code}{title}{flags}")
    if not items:
        return []
    kinds = {x.type for x in d.crosswalks}
    source = "The CMS General Equivalence Mappings (GEMs)" if kinds == {"gem"} else "Official crosswalks"
    return [_fact("Crosswalks", f"{source} link this code to {_count(len(items), 'code')} in other systems.",
                  ["crosswalks"], items[:20])]


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _system_name(system: str) -> str:
    from .. import systems

    try:
        return systems.get(system).name
    except Exception:  # an unknown system id in a crosswalk is shown as written
        return system


# -- ICD-10-CM and ICD-9-CM: notes ----------------------------------------------
def _notes(d: CodeRecord) -> list[Fact]:
    by_type: dict[str, list[str]] = {}
    for n in d.notes:
        where = f" (written on {n.inherited_from}, applies to the codes below it)" if n.inherited_from else ""
        by_type.setdefault(n.type, []).append(n.text + where)
    out = []
    for note_type, (title, lead) in NOTE_MEANINGS.items():
        if note_type in by_type:
            out.append(_fact(title, lead, [f"notes[{note_type}]"], by_type[note_type]))
    for note_type in sorted(set(by_type) - set(NOTE_MEANINGS)):
        out.append(_fact(note_type.replace("_", " ").capitalize(), "An official note applies:",
                         [f"notes[{note_type}]"], by_type[note_type]))
    synonyms = list(d.synonyms)
    if synonyms:
        out.append(_fact("Also called", "The official files also describe this code as:", ["synonyms"], synonyms))
    return out


# -- ICD-10-PCS: the seven axes -------------------------------------------------
def _axes(d: CodeRecord) -> list[Fact]:
    axes = sorted(d.attributes.get("axes") or [], key=lambda a: int(a.get("position", 0)))
    if not axes:
        return []
    items = []
    for a in axes:
        line = f"Character {a['position']} · {a['name']}: {a['value']} = {a['label']}"
        if a.get("definition"):
            line += f" — {a['definition']}"
        items.append(line)
    return [_fact("What each character means", _compose_axes(d.code, axes), ["attributes.axes"], items)]


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


# -- HCPCS Level II: descriptor, coverage, BETOS ---------------------------------
def _hcpcs(d: CodeRecord) -> list[Fact]:
    a = d.attributes
    out = []
    coverage = []
    fields = []
    if a.get("coverage"):
        coverage.append(f"Medicare coverage code {a['coverage']}: {a.get('coverage_label') or 'see the HCPCS file'}.")
        fields.append("attributes.coverage")
    if a.get("pricing_indicators_labels"):
        labels = [x for x in a["pricing_indicators_labels"] if x]
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
    if coverage:
        out.append(_fact("Coverage", " ".join(coverage), fields))
    category = []
    fields = []
    if a.get("betos"):
        category.append(f"BETOS category {a['betos']}: {a.get('betos_label') or 'unlabelled'}.")
        fields.append("attributes.betos")
    if a.get("types_of_service_labels"):
        category.append(f"Type of service: {'; '.join(x for x in a['types_of_service_labels'] if x)}.")
        fields.append("attributes.types_of_service")
    if category:
        out.append(_fact("Category", " ".join(category), fields))
    out += _hcpcs_dates(a) + _hcpcs_notes(d)
    return out


def _hcpcs_dates(a: Mapping[str, Any]) -> list[Fact]:
    parts, fields = [], []
    for key, label in (("added", "Added"), ("action_effective", "Last change effective"),
                       ("terminated", "Terminated")):
        if a.get(key):
            parts.append(f"{label} {a[key]}.")
            fields.append(f"attributes.{key}")
    return [_fact("Dates", " ".join(parts), fields)] if parts else []


def _hcpcs_notes(d: CodeRecord) -> list[Fact]:
    out = []
    notes = [n.text for n in d.notes]
    if notes:
        out.append(_fact("Processing notes", "The HCPCS file attaches these notes:", ["notes"], notes))
    xrefs = d.attributes.get("cross_references") or []
    if xrefs:
        out.append(_fact("Cross-references", f"The HCPCS file cross-refers to {', '.join(xrefs)}.",
                         ["attributes.cross_references"]))
    return out


# -- MS-DRG: MDC, type and payment figures ---------------------------------------
def _drg(d: CodeRecord) -> list[Fact]:
    a = d.attributes
    out = []
    parts, fields = [], []
    if a.get("mdc"):
        mdc_title = a.get("mdc_title") or next(
            (x.title for x in d.ancestors if x.kind == "mdc"), None)
        parts.append(f"It belongs to major diagnostic category (MDC) {a['mdc']}"
                     + (f" “{mdc_title}”." if mdc_title else "."))
        fields.append("attributes.mdc")
    if a.get("type"):
        kind = _DRG_TYPES.get(str(a["type"]).upper(), str(a["type"]).lower())
        parts.append(f"It is a {kind} DRG.")
        fields.append("attributes.type")
    if parts:
        out.append(_fact("Grouping", " ".join(parts), fields))
    figures, fields = [], []
    for key, label in (("weight", "relative weight"), ("gmlos", "geometric mean length of stay (days)"),
                       ("amlos", "arithmetic mean length of stay (days)")):
        if a.get(key) not in (None, ""):
            figures.append(f"{label} {a[key]}")
            fields.append(f"attributes.{key}")
    if figures:
        out.append(_fact("Payment figures", f"CMS publishes: {'; '.join(figures)}.", fields))
    return out


_BY_SYSTEM: dict[str, list[Callable[[CodeRecord], Iterable[Fact]]]] = {
    "icd10cm": [_notes],
    "icd9cm": [_notes],
    "icd10pcs": [_axes, _notes],
    "hcpcs": [_hcpcs],
    "msdrg": [_drg],
    "cpt": [_notes],
}
