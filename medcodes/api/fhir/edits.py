"""The coding edits of an ICD-10-CM/PCS code (the record's `edits`, from the official CMS tables) as
$lookup properties: CC/MCC designation and CC exclusion, the MS-DRGs and MDCs it can group to, its
CMS-HCC category, Medicare Code Editor edits. Each property's `description` names the fact and the
table and version it comes from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# property code -> (FHIR type, what it is); declared on the CodeSystem resources the server holds
EDIT_PROPERTIES: dict[str, tuple[str, str]] = {
    "cc-mcc": ("code", "CC or MCC designation of a secondary diagnosis (MS-DRG Table 6J/6I)"),
    "cc-exclusion": ("string", "CC exclusion collection: the principal diagnoses that cancel the CC/MCC "
                               "(MS-DRG Table 6K)"),
    "ms-drg": ("code", "an MS-DRG the code can group to"),
    "mdc": ("code", "a Major Diagnostic Category the code belongs to"),
    "hcc": ("code", "CMS-HCC payment category"),
    "mce": ("code", "a Medicare Code Editor edit that applies to the code"),
}


@dataclass(frozen=True)
class EditProperty:
    code: str
    value: Any
    kind: str  # FHIR type of value[x]: Code, String
    description: str


def edit_properties(edits: Mapping[str, Any] | None) -> list[EditProperty]:
    if not edits:
        return []
    out: list[EditProperty] = []
    cc = edits.get("cc_mcc")
    if cc and cc.get("level"):
        out.append(EditProperty("cc-mcc", cc["level"], "Code", f"{cc['level']} ({_cite(cc)})"))
    excl = edits.get("cc_exclusion")
    if excl and excl.get("collection"):
        count = excl.get("principal_count") or len(excl.get("principal_diagnoses") or [])
        out.append(EditProperty("cc-exclusion", str(excl["collection"]), "String",
                                f"not a {excl.get('level') or 'CC'} with any of {count} principal diagnoses "
                                f"of collection {excl['collection']} ({_cite(excl)})"))
    drg = edits.get("ms_drg")
    if drg:
        for m in drg.get("mdc") or []:
            out.append(EditProperty("mdc", str(m.get("mdc")), "Code", f"MDC {m.get('mdc')} {m.get('title', '')} "
                                                                      f"({_cite(drg)})"))
        seen: set[str] = set()
        for group in drg.get("groups") or []:
            for d in group.get("drgs") or []:
                if d.get("code") in seen:
                    continue
                seen.add(str(d.get("code")))
                out.append(EditProperty("ms-drg", str(d.get("code")), "Code",
                                        f"MS-DRG {d.get('code')} {d.get('title', '')} ({_cite(drg)})"))
    hcc = edits.get("hcc")
    if hcc:
        for c in hcc.get("categories") or []:
            out.append(EditProperty("hcc", str(c.get("hcc")), "Code",
                                    f"HCC {c.get('hcc')} {c.get('label', '')} ({hcc.get('model') or _cite(hcc)})"))
    mce = edits.get("mce")
    if mce:
        for e in mce.get("edits") or []:
            detail = f": {e['detail']}" if e.get("detail") else ""
            out.append(EditProperty("mce", str(e.get("list")), "Code", f"{e.get('edit', '')}{detail} ({_cite(mce)})"))
    return out


def _cite(fact: Mapping[str, Any]) -> str:
    source = fact.get("source") or {}
    return ", ".join(str(source[k]) for k in ("title", "version") if source.get(k))
