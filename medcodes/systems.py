"""The registry of code systems: ids, labels, FHIR URIs and code normalisation.

Every layer that accepts a code from a user (CLI, search, API, FHIR, policy
extraction) goes through `normalize()` so "e119", "E11.9" and " E11.9 " are
the same code everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import NotFound


@dataclass(frozen=True, slots=True)
class System:
    id: str
    name: str  # short name: "ICD-10-CM"
    label: str  # what a code page calls one of its codes: "ICD-10-CM code"
    fhir_uri: str | None
    pattern: re.Pattern[str]  # matches the compact (undotted, upper-case) form of a leaf code
    dotted: Callable[[str], str]  # compact -> canonical display form
    kind: str  # "diagnosis", "procedure", "supply", "modifier", "drg", "setting", "observation", "drug"
    # The descriptors are licensed (CPT): a code of the system that a policy cites has a page of its own
    # even when none of the system's data is loaded, showing the policies and similar codes.
    licensed: bool = False


def _no_dots(compact: str) -> str:
    return compact


def _dot_after(n: int) -> Callable[[str], str]:
    def dotted(compact: str) -> str:
        return compact if len(compact) <= n else f"{compact[:n]}.{compact[n:]}"

    return dotted


_NDC10 = re.compile(r"([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})")


def ndc_eleven(ndc10: str) -> str | None:
    """FDA 10-digit NDC (4-4-2, 5-3-2 or 5-4-1) -> the 11-digit 5-4-2 form claims use: each segment
    zero-padded ("0002-1433-80" -> "00002-1433-80"); None for anything else."""
    m = _NDC10.fullmatch(ndc10.strip())
    if not m or len(m.group(1) + m.group(2) + m.group(3)) not in (10, 11):
        return None
    return f"{m.group(1).zfill(5)}-{m.group(2).zfill(4)}-{m.group(3).zfill(2)}"


def ndc_canonical(compact: str) -> str:
    # every NDC form a user may type (10 digits hyphenated 4-4-2, 5-3-2, 5-4-1; 11 digits) -> 5-4-2
    if compact.isdigit() and len(compact) == 11:
        return f"{compact[:5]}-{compact[5:9]}-{compact[9:]}"
    return ndc_eleven(compact) or compact


def _icd9_dx_dotted(compact: str) -> str:
    # E-codes (external causes) carry four characters before the dot: E800.0
    return _dot_after(4 if compact.startswith("E") else 3)(compact)


SYSTEMS: dict[str, System] = {
    s.id: s
    for s in (
        System("icd10cm", "ICD-10-CM", "ICD-10-CM code", "http://hl7.org/fhir/sid/icd-10-cm",
               re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}"), _dot_after(3), "diagnosis"),
        System("icd10pcs", "ICD-10-PCS", "ICD-10-PCS code", "http://www.cms.gov/Medicare/Coding/ICD10",
               re.compile(r"[0-9A-HJ-NP-Z]{7}"), _no_dots, "procedure"),
        System("hcpcs", "HCPCS Level II", "HCPCS Level II code", "urn:oid:2.16.840.1.113883.6.285",
               re.compile(r"[A-CEGHJ-MP-V][0-9]{4}"), _no_dots, "procedure"),
        System("hcpcs-mod", "HCPCS modifier", "HCPCS Level II modifier", "urn:oid:2.16.840.1.113883.6.285",
               re.compile(r"[0-9A-Z]{2}"), _no_dots, "modifier"),
        System("cpt", "CPT", "CPT® code", "http://www.ama-assn.org/go/cpt",
               re.compile(r"[0-9]{4}[0-9AFMTU]"), _no_dots, "procedure", licensed=True),
        System("icd9cm", "ICD-9-CM", "ICD-9-CM diagnosis code", "http://hl7.org/fhir/sid/icd-9-cm",
               re.compile(r"(?:[0-9]{3}|V[0-9]{2}|E[0-9]{3})[0-9]{0,2}"), _icd9_dx_dotted, "diagnosis"),
        System("icd9pcs", "ICD-9-CM Vol. 3", "ICD-9-CM procedure code", "http://hl7.org/fhir/sid/icd-9-cm",
               re.compile(r"[0-9]{2}[0-9]{0,2}"), _dot_after(2), "procedure"),
        System("loinc", "LOINC", "LOINC term", "http://loinc.org",
               re.compile(r"[0-9]{1,7}-[0-9]"), _no_dots, "observation"),
        System("ndc", "NDC", "National Drug Code", "http://hl7.org/fhir/sid/ndc",
               re.compile(r"[0-9]{11}|[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}"), ndc_canonical, "drug"),
        System("rxnorm", "RxNorm", "RxNorm concept", "http://www.nlm.nih.gov/research/umls/rxnorm",
               re.compile(r"[0-9]{1,8}"), _no_dots, "drug"),
        System("msdrg", "MS-DRG", "MS-DRG", "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software",
               re.compile(r"[0-9]{3}"), _no_dots, "drg"),
        System("pos", "Place of Service", "Place of Service code",
               "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
               re.compile(r"[0-9]{2}"), _no_dots, "setting"),
    )
}


LICENSED_SYSTEMS = frozenset(s.id for s in SYSTEMS.values() if s.licensed)


def get(system_id: str) -> System:
    try:
        return SYSTEMS[system_id]
    except KeyError:
        raise NotFound(f"unknown code system {system_id!r}; known: {', '.join(SYSTEMS)}") from None


def compact(code: str) -> str:
    """Upper-case, no dots, no white space: the form codes are matched in."""
    return "".join(code.split()).replace(".", "").upper()  # a regex here costs seconds a build


def normalize(system_id: str, code: str) -> str:
    """Canonical display form of `code` in `system_id` ("e119" -> "E11.9").

    Grouping nodes that are not code-shaped (blocks such as "E08-E13",
    chapters) are returned upper-cased and otherwise untouched.
    """
    system = get(system_id)
    c = compact(code)
    if system_id == "msdrg" and c.isdigit() and len(c) < 3:
        c = c.zfill(3)
    if system.pattern.fullmatch(c):
        return system.dotted(c)
    return code.strip().upper()


def looks_like(system_id: str, code: str) -> bool:
    """Whether `code` has the shape of a code of this system (not whether it exists)."""
    return bool(get(system_id).pattern.fullmatch(compact(code)))


def by_fhir_uri(uri: str) -> list[System]:
    return [s for s in SYSTEMS.values() if s.fhir_uri == uri]
