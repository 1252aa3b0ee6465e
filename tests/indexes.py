"""The small test indexes, one function for all: `build_index(path, variant, **options)`.

Each variant is a hand-made record set (CPT codes and descriptors are invented; CPT text is licensed
and never written here):
- "web": every system the web layer renders, with an older ICD-10-CM release (tests/web, tests/api);
- "search": lexical search and ranking (built with semantic search off: it is tested apart);
- "content": every kind of code, notes, PCS axes and GEMs for the content layer;
- "policies": the codes the policy corpus cites (tests/data/policies/catalog.tsv);
- "releases": cholera codes in two ICD-10-CM releases, for history and date-of-service tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from medcodes import systems
from medcodes.app.build import build_from_records
from medcodes.model import Code, Note, Record, Relation, Release, Term

POLICY_DATA = Path(__file__).resolve().parent / "data" / "policies"

# The web variant.

PCS_AXES = [
    {"position": 1, "name": "Section", "value": "0", "label": "Medical and Surgical"},
    {"position": 2, "name": "Body System", "value": "S", "label": "Lower Joints"},
    {"position": 3, "name": "Operation", "value": "G", "label": "Fusion"},
    {"position": 4, "name": "Body Part", "value": "0", "label": "Lumbar Vertebral Joint"},
    {"position": 5, "name": "Approach", "value": "0", "label": "Open"},
    {"position": 6, "name": "Device", "value": "A", "label": "Interbody Fusion Device"},
    {"position": 7, "name": "Qualifier", "value": "1", "label": "Posterior Approach, Anterior Column"},
]

WEB_OLD: list[Record] = [
    Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01"),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True),
    Code("icd10cm", "E11.8", "Type 2 diabetes mellitus with unspecified complications", parent="E11", billable=True),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia (old)", parent="E11", billable=True),
]

WEB_RECORDS: list[Record] = [
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


# The search variant.

PCS_TITLE = ("Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Posterior Approach, Anterior Column,"
             " Open Approach")

SEARCH_RECORDS: list[Record] = [
    Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01"),
    Code("icd10cm", "E00-E89", "Endocrine, nutritional and metabolic diseases", kind="chapter"),
    Code("icd10cm", "E08-E13", "Diabetes mellitus", kind="block", parent="E00-E89"),
    Code("icd10cm", "E10", "Type 1 diabetes mellitus", kind="category", parent="E08-E13", billable=False,
         notes=(Note("inclusion", "juvenile onset diabetes"),)),
    Code("icd10cm", "E10.9", "Type 1 diabetes mellitus without complications", parent="E10", billable=True),
    Code("icd10cm", "E11", "Type 2 diabetes mellitus", kind="category", parent="E08-E13", billable=False,
         notes=(Note("excludes1", "gestational diabetes (O24.4-)"),)),
    Code("icd10cm", "E11.2", "Type 2 diabetes mellitus with kidney complications", kind="subcategory",
         parent="E11", billable=False),
    Code("icd10cm", "E11.21", "Type 2 diabetes mellitus with diabetic nephropathy", parent="E11.2", billable=True),
    Code("icd10cm", "E11.22", "Type 2 diabetes mellitus with diabetic chronic kidney disease", parent="E11.2",
         billable=True),
    Code("icd10cm", "E11.65", "Type 2 diabetes mellitus with hyperglycemia", parent="E11", billable=True),
    Code("icd10cm", "E11.9", "Type 2 diabetes mellitus without complications", parent="E11", billable=True),
    Code("icd10cm", "E16.2", "Hypoglycemia, unspecified", billable=True),
    Code("icd10cm", "I00-I99", "Diseases of the circulatory system", kind="chapter"),
    Code("icd10cm", "I10", "Essential (primary) hypertension", kind="category", parent="I00-I99", billable=True,
         notes=(Note("inclusion", "high blood pressure"),)),
    Code("icd10cm", "I21", "Acute myocardial infarction", kind="category", parent="I00-I99", billable=False),
    Code("icd10cm", "I21.4", "Non-ST elevation (NSTEMI) myocardial infarction", parent="I21", billable=True),
    Code("icd10cm", "I21.9", "Acute myocardial infarction, unspecified", parent="I21", billable=True),
    Code("icd10cm", "I25.2", "Old myocardial infarction", parent="I00-I99", billable=True),
    Code("icd10cm", "I50.9", "Heart failure, unspecified", parent="I00-I99", billable=True,
         notes=(Note("inclusion", "Congestive heart disease"),)),
    Code("icd10cm", "I82.40", "Acute embolism and thrombosis of unspecified deep veins of lower extremity",
         parent="I00-I99", billable=True),
    Code("icd10cm", "H10", "Conjunctivitis", kind="category", billable=False),
    Code("icd10cm", "H10.9", "Unspecified conjunctivitis", parent="H10", billable=True),
    Code("icd10cm", "M25.46", "Effusion, knee", kind="subcategory", billable=False),
    Code("icd10cm", "M25.461", "Effusion, right knee", parent="M25.46", billable=True),
    Code("icd10cm", "M25.50", "Pain in unspecified joint", billable=True),
    Code("icd10cm", "M25.511", "Pain in right shoulder", billable=True),
    Code("icd10cm", "M25.579", "Pain in unspecified ankle and joints of unspecified foot", billable=True),
    Code("icd10cm", "M25.60", "Stiffness of unspecified joint, not elsewhere classified", billable=True),
    Code("icd10cm", "N39.0", "Urinary tract infection, site not specified", billable=True),
    Code("icd10cm", "S52.5", "Fracture of lower end of radius", kind="subcategory", billable=False),
    Code("icd10cm", "S52.50", "Unspecified fracture of the lower end of radius", parent="S52.5", billable=False),
    Code("icd10cm", "S52.501", "Unspecified fracture of the lower end of right radius", parent="S52.50",
         billable=False),
    Code("icd10cm", "S52.501A", "Unspecified fracture of the lower end of right radius, initial encounter for"
         " closed fracture", parent="S52.501", billable=True),
    Code("icd10cm", "S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter for"
         " closed fracture", billable=True),
    Code("icd10cm", "T14.8", "Other injury of <unspecified> body region & \"odd\"", billable=True),
    Term("icd10cm", "I21.9", "Attack, heart", "index"),
    Release("icd10pcs", "ICD-10-PCS FY2026", "2025-10-01"),
    Code("icd10pcs", "0", "Medical and Surgical", kind="section", billable=False),
    Code("icd10pcs", "0S", "Lower Joints", kind="body_system", parent="0", billable=False),
    Code("icd10pcs", "0SG", "Fusion", kind="table", parent="0S", billable=False,
         notes=(Note("definition", "Joining together portions of an articular body part"),)),
    Code("icd10pcs", "0SG00A1", PCS_TITLE, parent="0SG", billable=True),
    Code("icd10pcs", "0SR", "Replacement", kind="table", parent="0S", billable=False),
    Code("icd10pcs", "0SRC0JZ", "Replacement of Right Knee Joint with Synthetic Substitute, Open Approach",
         parent="0SR", billable=True),
    Code("icd10pcs", "0F", "Hepatobiliary System and Pancreas", kind="body_system", parent="0", billable=False),
    Code("icd10pcs", "0FT", "Resection", kind="table", parent="0F", billable=False),
    Code("icd10pcs", "0FT44ZZ", "Resection of Gallbladder, Percutaneous Endoscopic Approach", parent="0FT",
         billable=True),
    Term("icd10pcs", "0SG", "Arthrodesis", "pcs-index"),
    Release("hcpcs", "HCPCS 2025 January"),
    Release("hcpcs-mod", "HCPCS 2025 January"),
    Code("hcpcs", "A0021-A0999", "Transportation Services Including Ambulance", kind="section", billable=False),
    Code("hcpcs", "A0021", "Ambulance service, outside state per mile, transport (medicaid only)",
         parent="A0021-A0999", billable=True, short_title="Outside state ambulance serv"),
    Code("hcpcs", "A0080", "Non-emergency transportation, per mile - vehicle provided by volunteer",
         parent="A0021-A0999", billable=True),
    Code("hcpcs", "A0999", "Unlisted ambulance service", parent="A0021-A0999", billable=True),
    Code("hcpcs", "E0601", "Continuous positive airway pressure (cpap) device", billable=True,
         short_title="Cont airway pressure device"),
    Code("hcpcs", "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", billable=True,
         short_title="Dexamethasone sodium phos"),
    Code("hcpcs", "K0001", "Standard wheelchair", billable=True),
    Code("hcpcs-mod", "LT", "Left side (used to identify procedures performed on the left side of the body)",
         kind="modifier", billable=True),
    Release("icd9cm", "ICD-9-CM v32"),
    Code("icd9cm", "250.00", "Diabetes mellitus without mention of complication, type II", billable=True),
    Release("msdrg", "MS-DRG v43"),
    Code("msdrg", "250", "Percutaneous cardiovascular procedures without MCC", billable=True),
]


# The content variant.

_CONTENT_AXES = [
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
    axes = [dict(a) for a in _CONTENT_AXES]
    axes[6].update(value=qualifier[0], label=qualifier[1])
    return Code("icd10pcs", code, title, parent="0SR", billable=True, attributes={"axes": axes})


CONTENT_RECORDS: list[Record] = [
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


# The policies variant.

def catalog_records(path: Path = POLICY_DATA / "catalog.tsv") -> Iterator[Record]:
    """ICD-10-CM codes hang under their longest listed prefix, as in the tabular list."""
    rows = [line.rstrip("\n").split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    present = {(s, systems.compact(c)) for s, c, _, _ in rows}
    for system in sorted({r[0] for r in rows}):
        yield Release(system, f"{systems.get(system).name} policy test sample")
    for system, code, billable, title in rows:
        compact, parent = systems.compact(code), None
        if system == "icd10cm":
            for n in range(len(compact) - 1, 2, -1):
                if (system, compact[:n]) in present:
                    parent = systems.normalize(system, compact[:n])
                    break
        kind = "category" if system == "icd10cm" and len(compact) == 3 else "code"
        yield Code(system, code, title, kind=kind, billable=billable == "1", parent=parent)


# The releases variant.

def two_releases() -> list[Record]:
    """Cholera codes in ICD-10-CM FY2025 and FY2026: A00 a header, A00.0 revised, A00.1 deleted,
    A00.2 added, A00.9 in both (the history and date-of-service tests)."""
    def release(name: str, effective: str, codes: dict[str, str]) -> list[Record]:
        header: list[Record] = [Release("icd10cm", name, effective),
                                Code("icd10cm", "A00", "Cholera", kind="category", billable=False)]
        return header + [Code("icd10cm", c, t, parent="A00", billable=True) for c, t in codes.items()]

    return release("FY2025", "2024-10-01", {"A00.0": "Cholera due to Vibrio cholerae old", "A00.1": "Cholera gone",
                                            "A00.9": "Cholera, unspecified"}) + \
        release("FY2026", "2025-10-01", {"A00.0": "Cholera due to Vibrio cholerae", "A00.2": "Cholera added",
                                         "A00.9": "Cholera, unspecified"})


VARIANTS: dict[str, Callable[[], list[Record]]] = {
    "web": lambda: WEB_RECORDS + WEB_OLD,
    "search": lambda: SEARCH_RECORDS,
    "content": lambda: CONTENT_RECORDS,
    "policies": lambda: list(catalog_records()),
    "releases": two_releases,
}
# Search tests measure the lexical engine alone; the other variants build as a user's default would.
SEMANTIC: dict[str, str] = {"search": "off", "releases": "off"}


def build_index(path: Path, variant: str = "web", *, records: Iterable[Record] | None = None,
                extra: Iterable[Record] = (), semantic: str | None = None) -> Path:
    """Build the index of `variant` at `path`: its records (or `records` instead), then `extra`.

    `semantic` sets MEDCODES_SEMANTIC for the build ("on", "off", "auto"); None takes the variant's
    default, and leaves the environment alone where it has none.
    """
    chosen = list(records) if records is not None else VARIANTS[variant]()
    mode = semantic if semantic is not None else SEMANTIC.get(variant)
    with pytest.MonkeyPatch.context() as mp:
        if mode is not None:
            mp.setenv("MEDCODES_SEMANTIC", mode)
        build_from_records([*chosen, *extra], path)
    return path
