"""Code normalisation: every layer accepts dotted/undotted, any case."""

from __future__ import annotations

import pytest

from medcodes import systems
from medcodes.errors import NotFound


@pytest.mark.parametrize(
    ("system", "raw", "canonical"),
    [
        ("icd10cm", "e119", "E11.9"),
        ("icd10cm", " E11.9 ", "E11.9"),
        ("icd10cm", "s72001a", "S72.001A"),
        ("icd10cm", "E11", "E11"),
        ("icd10cm", "e08-e13", "E08-E13"),  # a block keeps its range form
        ("icd10pcs", "0sg00a1", "0SG00A1"),
        ("hcpcs", "j1100", "J1100"),
        ("icd9cm", "25000", "250.00"),
        ("icd9cm", "e8000", "E800.0"),
        ("icd9cm", "v011", "V01.1"),
        ("icd9pcs", "0001", "00.01"),
        ("msdrg", "1", "001"),
    ],
)
def test_normalize(system: str, raw: str, canonical: str) -> None:
    assert systems.normalize(system, raw) == canonical


def test_looks_like_is_about_shape_not_existence() -> None:
    assert systems.looks_like("icd10cm", "Z99.89")
    assert not systems.looks_like("icd10pcs", "0SG00A")  # six characters
    assert not systems.looks_like("hcpcs", "99213")  # CPT shape, not HCPCS Level II
    assert systems.looks_like("cpt", "0001F")


def test_unknown_system_is_a_clear_error() -> None:
    with pytest.raises(NotFound, match="unknown code system 'icd11'"):
        systems.get("icd11")


def test_fhir_uris_from_the_spec() -> None:
    assert systems.get("icd10cm").fhir_uri == "http://hl7.org/fhir/sid/icd-10-cm"
    assert systems.get("icd10pcs").fhir_uri == "http://www.cms.gov/Medicare/Coding/ICD10"
    assert systems.get("hcpcs").fhir_uri == "urn:oid:2.16.840.1.113883.6.285"
    assert systems.get("cpt").fhir_uri == "http://www.ama-assn.org/go/cpt"
    assert {s.id for s in systems.by_fhir_uri("http://hl7.org/fhir/sid/icd-9-cm")} == {"icd9cm", "icd9pcs"}
