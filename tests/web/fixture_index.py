"""A small hand-made index covering every system the web layer renders (CPT text is invented)."""

from __future__ import annotations

from pathlib import Path

from medcodes.app.build import build_from_records
from medcodes.model import Code, Note, Record, Relation, Release, Term

PCS_AXES = [
    {"position": 1, "name": "Section", "value": "0", "label": "Medical and Surgical"},
    {"position": 2, "name": "Body System", "value": "S", "label": "Lower Joints"},
    {"position": 3, "name": "Operation", "value": "G", "label": "Fusion"},
    {"position": 4, "name": "Body Part", "value": "0", "label": "Lumbar Vertebral Joint"},
    {"position": 5, "name": "Approach", "value": "0", "label": "Open"},
    {"position": 6, "name": "Device", "value": "A", "label": "Interbody Fusion Device"},
    {"position": 7, "name": "Qualifier", "value": "1", "label": "Posterior Approach, Anterior Column"},
]

OLD = [
    Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01"),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True),
    Code("icd10cm", "E11.8", "Type 2 diabetes mellitus with unspecified complications", parent="E11", billable=True),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia (old)", parent="E11", billable=True),
]

RECORDS: list[Record] = [
    Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01"),
    Code("icd10cm", "E00-E89", "Endocrine, nutritional and metabolic diseases", kind="chapter"),
    Code("icd10cm", "E08-E13", "Diabetes mellitus", kind="block", parent="E00-E89",
         notes=(Note("note", "Block level note for diabetes"),)),
    Code("icd10cm", "E11", "Type 2 diabetes mellitus", kind="category", parent="E08-E13", billable=False,
         notes=(Note("inclusion", "diabetes NOS"), Note("excludes1", "gestational diabetes (O24.4-)"),
                Note("use_additional", "code to identify insulin use (Z79.4)"))),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True,
         short_title="Type 2 diabetes mellitus w/o complications"),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia", parent="E11", billable=True),
    Code("icd10cm", "E11.2", "Type 2 diabetes mellitus with kidney complications", kind="subcategory",
         parent="E11", billable=False),
    Code("icd10cm", "E11.21", "Type 2 diabetes mellitus with diabetic nephropathy", parent="E11.2", billable=True),
    Code("icd10cm", "E10", "Type 1 diabetes mellitus", kind="category", parent="E08-E13", billable=False),
    Code("icd10cm", "E10.9", "Type 1 diabetes mellitus without complications", parent="E10", billable=True),
    Code("icd10cm", "I00-I99", "Diseases of the circulatory system", kind="chapter"),
    Code("icd10cm", "I20-I25", "Ischemic heart diseases", kind="block", parent="I00-I99"),
    Code("icd10cm", "I21", "Acute myocardial infarction", kind="category", parent="I20-I25", billable=False,
         synonyms=("heart attack",)),
    Code("icd10cm", "I21.9", "Acute myocardial infarction, unspecified", parent="I21", billable=True),
    Code("icd10cm", "S00-T88", "Injury, poisoning & certain other consequences", kind="chapter"),
    Code("icd10cm", "T14.8", "Other injury of <unspecified> body region & \"odd\" <script>x</script>",
         parent="S00-T88", billable=True),
    Term("icd10cm", "E11.9", "Diabetes, type 2", "index"),
    Term("icd10cm", "I21.9", "Attack, heart", "index"),
    Release("icd10pcs", "ICD-10-PCS FY2026", "2025-10-01"),
    Code("icd10pcs", "0", "Medical and Surgical", kind="section", billable=False),
    Code("icd10pcs", "0S", "Lower Joints", kind="body_system", parent="0", billable=False),
    Code("icd10pcs", "0SG", "Fusion of lower joints", kind="table", parent="0S", billable=False),
    Code("icd10pcs", "0SG00A1", "Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Posterior"
         " Approach, Anterior Column, Open Approach", parent="0SG", billable=True,
         attributes={"axes": PCS_AXES, "title_composed": False}),
    Release("hcpcs", "HCPCS 2026 January"),
    Release("hcpcs-mod", "HCPCS 2026 January"),
    Code("hcpcs", "J0120-J8499", "Drugs administered other than oral method", kind="section", billable=False),
    Code("hcpcs", "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", parent="J0120-J8499",
         billable=True, short_title="Dexamethasone sodium phos", attributes={"coverage": "C"}),
    Code("hcpcs", "E0100-E8002", "Durable medical equipment", kind="section", billable=False),
    Code("hcpcs", "K0001", "Standard wheelchair", parent="E0100-E8002", billable=True),
    Code("hcpcs-mod", "LT", "Left side (used to identify procedures performed on the left side of the body)",
         kind="modifier", billable=True),
    Release("cpt", "CPT test release (invented text)"),
    Code("cpt", "99999", "Invented evaluation visit for tests", billable=True),
    Release("icd9cm", "ICD-9-CM v32"),
    Code("icd9cm", "250.00", "Diabetes mellitus without mention of complication, type II", billable=True),
    Code("icd9cm", "451.3", "Invented phlebitis code for shape tests", billable=True),
    Code("icd9cm", "636.50", "Invented code that looks like CPT 63650 undotted", billable=True),
    Release("icd9pcs", "ICD-9-CM v32"),
    Code("icd9pcs", "45.13", "Other endoscopy of small intestine", billable=True),
    Code("icd9pcs", "81.08", "Lumbar and lumbosacral fusion, posterior technique", billable=True),
    Release("msdrg", "MS-DRG v43"),
    Code("msdrg", "250", "Percutaneous cardiovascular procedures without MCC", billable=True),
    Relation("gem", "icd9cm", "250.00", "icd10cm", "E11.9", {}),
    Relation("gem", "icd10cm", "E11.9", "icd9cm", "250.00", {}),
    Relation("gem", "icd10cm", "E11.65", "icd9cm", "250.00", {"approximate": True}),
    Relation("gem", "icd9pcs", "81.08", "icd10pcs", "0SG00A1", {"approximate": True}),
    Relation("gem", "icd10cm", "I21.9", "icd9cm", "", {"no_map": True}),
]


def build(path: Path) -> Path:
    build_from_records(RECORDS + OLD, path)
    return path
