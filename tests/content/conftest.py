"""A small hand-made index for the content layer: every kind of code, notes, axes, GEMs.

Titles follow the official style; the CPT code and its descriptor are invented (CPT text is
licensed and never written here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes.app.build import build_from_records
from medcodes.content.fakellm import FakeLLM
from medcodes.index import Catalog
from medcodes.model import Code, Note, Relation, Release, Term

_AXES = [
    {"position": 1, "name": "Section", "value": "0", "label": "Medical and Surgical", "definition": None},
    {"position": 2, "name": "Body System", "value": "S", "label": "Lower Joints", "definition": None},
    {"position": 3, "name": "Root Operation", "value": "R", "label": "Replacement",
     "definition": "Putting in or on biological or synthetic material that physically takes the place and/or"
                   " function of all or a portion of a body part"},
    {"position": 4, "name": "Body Part", "value": "9", "label": "Hip Joint, Right", "definition": None},
    {"position": 5, "name": "Approach", "value": "0", "label": "Open",
     "definition": "Cutting through the skin or mucous membrane and any other body layers necessary to expose"
                   " the site of the procedure"},
    {"position": 6, "name": "Device", "value": "1", "label": "Synthetic Substitute, Metal on Polyethylene",
     "definition": None},
    {"position": 7, "name": "Qualifier", "value": "9", "label": "Cemented", "definition": None},
]


def _pcs(code: str, title: str, qualifier: tuple[str, str]) -> Code:
    axes = [dict(a) for a in _AXES]
    axes[6].update(value=qualifier[0], label=qualifier[1])
    return Code("icd10pcs", code, title, parent="0SR", billable=True, attributes={"axes": axes})


RECORDS = [
    Release("icd10cm", "ICD-10-CM test release"),
    Code("icd10cm", "E00-E89", "Endocrine, nutritional and metabolic diseases", kind="chapter"),
    Code("icd10cm", "E08-E13", "Diabetes mellitus", kind="block", parent="E00-E89",
         notes=(Note("note", "block note"),)),
    Code("icd10cm", "E10", "Type 1 diabetes mellitus", kind="category", parent="E08-E13", billable=False),
    Code("icd10cm", "E10.9", "Type 1 diabetes mellitus without complications", parent="E10", billable=True),
    Code("icd10cm", "E11", "Type 2 diabetes mellitus", kind="category", parent="E08-E13", billable=False,
         notes=(Note("inclusion", "diabetes NOS"), Note("excludes1", "gestational diabetes (O24.4-)"),
                Note("use_additional", "code to identify control using insulin (Z79.4)"))),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia", parent="E11", billable=True),
    Code("icd10cm", "E11.8", "Type 2 diabetes mellitus with unspecified complications", parent="E11", billable=True),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True),
    Code("icd10cm", "E13", "Other specified diabetes mellitus", kind="category", parent="E08-E13", billable=False),
    Code("icd10cm", "E13.9", "Other specified diabetes mellitus without complications", parent="E13",
         billable=True),
    Code("icd10cm", "M00-M99", "Diseases of the musculoskeletal system and connective tissue", kind="chapter"),
    Code("icd10cm", "M16", "Osteoarthritis of hip", kind="category", parent="M00-M99", billable=False),
    Code("icd10cm", "M16.11", "Unilateral primary osteoarthritis, right hip", parent="M16", billable=True),
    Code("icd10cm", "M16.12", "Unilateral primary osteoarthritis, left hip", parent="M16", billable=True),
    Code("icd10cm", "O00-O9A", "Pregnancy, childbirth and the puerperium", kind="chapter"),
    Code("icd10cm", "O24", "Diabetes mellitus in pregnancy, childbirth, and the puerperium", kind="category",
         parent="O00-O9A", billable=False),
    Code("icd10cm", "O24.4", "Gestational diabetes mellitus", kind="subcategory", parent="O24", billable=False),
    Code("icd10cm", "O24.41", "Gestational diabetes mellitus in pregnancy", parent="O24.4", billable=True),
    Code("icd10cm", "S00-T88", "Injury, poisoning and certain other consequences of external causes", kind="chapter"),
    Code("icd10cm", "S72", "Fracture of femur", kind="category", parent="S00-T88", billable=False,
         notes=(Note("seventh_character", "A initial encounter for closed fracture"),
                Note("seventh_character", "D subsequent encounter for closed fracture with routine healing"))),
    Code("icd10cm", "S72.001", "Fracture of unspecified part of neck of right femur", kind="subcategory",
         parent="S72", billable=False),
    Code("icd10cm", "S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter for closed"
                                " fracture", parent="S72.001", billable=True),
    Code("icd10cm", "S72.001D", "Fracture of unspecified part of neck of right femur, subsequent encounter for"
                                " closed fracture with routine healing", parent="S72.001", billable=True),
    Code("icd10cm", "S72.002", "Fracture of unspecified part of neck of left femur", kind="subcategory",
         parent="S72", billable=False),
    Code("icd10cm", "S72.002A", "Fracture of unspecified part of neck of left femur, initial encounter for closed"
                                " fracture", parent="S72.002", billable=True),
    Code("icd10cm", "S72.002D", "Fracture of unspecified part of neck of left femur, subsequent encounter for"
                                " closed fracture with routine healing", parent="S72.002", billable=True),
    Code("icd10cm", "Z77-Z99", "Persons with potential health hazards", kind="block"),
    Code("icd10cm", "Z79", "Long term (current) drug therapy", kind="category", parent="Z77-Z99", billable=False),
    Code("icd10cm", "Z79.4", "Long term (current) use of insulin", parent="Z79", billable=True),
    Term("icd10cm", "E11.9", "Diabetes, type 2", "index"),
    Release("icd9cm", "ICD-9-CM test release"),
    Code("icd9cm", "250.00", "Diabetes mellitus without mention of complication, type II or unspecified type,"
                             " not stated as uncontrolled", billable=True),
    Code("icd9cm", "250.01", "Diabetes mellitus without mention of complication, type I [juvenile type],"
                             " not stated as uncontrolled", billable=True),
    Relation("gem", "icd9cm", "250.00", "icd10cm", "E11.9", {"approximate": False}),
    Relation("gem", "icd9cm", "250.01", "icd10cm", "E10.9", {"approximate": False}),
    Relation("gem", "icd10cm", "E11.9", "icd9cm", "250.00", {"approximate": False}),
    Release("icd10pcs", "ICD-10-PCS test release"),
    Code("icd10pcs", "0SR", "Medical and Surgical, Lower Joints, Replacement", kind="table"),
    _pcs("0SR9019", "Replacement of Right Hip Joint with Metal on Polyethylene Synthetic Substitute, Cemented,"
                    " Open Approach", ("9", "Cemented")),
    _pcs("0SR901A", "Replacement of Right Hip Joint with Metal on Polyethylene Synthetic Substitute, Uncemented,"
                    " Open Approach", ("A", "Uncemented")),
    _pcs("0SR901Z", "Replacement of Right Hip Joint with Metal on Polyethylene Synthetic Substitute, Open Approach",
         ("Z", "No Qualifier")),
    Release("hcpcs", "HCPCS test release"),
    Code("hcpcs", "E0100-E9999", "Durable Medical Equipment", kind="section"),
    Code("hcpcs", "E0100", "Cane, includes canes of all materials, adjustable or fixed, with tip", parent="E0100-E9999",
         billable=True, attributes={"betos": "D1E", "betos_label": "Other DME", "coverage": "D",
                                    "coverage_label": "Special coverage instructions apply",
                                    "cross_references": ["E0105"], "added": "1985-01-01"}),
    Code("hcpcs", "E0105", "Cane, quad or three prong, includes canes of all materials, adjustable or fixed, with"
                           " tips", parent="E0100-E9999", billable=True, attributes={"betos": "D1E"}),
    Code("hcpcs", "G0000-G9999", "Procedures/Professional Services (Temporary)", kind="section"),
    Code("hcpcs", "G0008", "Administration of influenza virus vaccine", parent="G0000-G9999", billable=True,
         attributes={"betos": "O1G", "betos_label": "Immunizations/Vaccinations"}),
    Code("hcpcs", "J0100-J8499", "Drugs Administered Other Than Oral Method", kind="section"),
    Code("hcpcs", "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", parent="J0100-J8499", billable=True,
         attributes={"betos": "O1E", "betos_label": "Other drugs", "coverage": "C",
                     "coverage_label": "Carrier judgment"}),
    Release("cpt", "CPT test release (invented)"),
    Code("cpt", "12345", "Invented repair of a test structure, first unit", billable=True),
    Release("msdrg", "MS-DRG test release"),
    Code("msdrg", "MDC 05", "Diseases and Disorders of the Circulatory System", kind="mdc"),
    Code("msdrg", "291", "Heart failure and shock with MCC", parent="MDC 05", billable=True,
         attributes={"mdc": "05", "type": "MED", "weight": 1.2, "gmlos": 3.9, "amlos": 4.8}),
    Code("msdrg", "292", "Heart failure and shock with CC", parent="MDC 05", billable=True,
         attributes={"mdc": "05", "type": "MED"}),
    Release("hcpcs-mod", "HCPCS modifiers test release"),
    Code("hcpcs-mod", "LT", "Left side (used to identify procedures performed on the left side of the body)",
         kind="modifier", billable=True),
]


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("content") / "idx.sqlite"
    build_from_records(RECORDS, out)
    return out


@pytest.fixture(scope="session")
def catalog(index_path: Path) -> Catalog:
    return Catalog(index_path)


@pytest.fixture()
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM(slow_seconds=0.5) as llm:
        yield llm
