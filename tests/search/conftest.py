"""A small hand-made index for search tests (lexical only: semantic search is tested apart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.app.build import build_from_records
from medcodes.index import Catalog
from medcodes.model import Code, Note, Record, Release, Term

PCS_TITLE = ("Fusion of Lumbar Vertebral Joint with Interbody Fusion Device, Posterior Approach, Anterior Column,"
             " Open Approach")

RECORDS: list[Record] = [
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


def build_lexical_index(records: list[Record], path: Path) -> Path:
    """An index of `records` with the lexical search tables only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDCODES_SEMANTIC", "off")
        build_from_records(records, path)
    return path


def two_releases() -> list[Record]:
    """Cholera codes in ICD-10-CM FY2025 and FY2026: A00 a header, A00.0 revised, A00.1 deleted,
    A00.2 added, A00.9 in both (the history and date-of-service tests)."""
    def release(name: str, effective: str, codes: dict[str, str]) -> list[Record]:
        return [Release("icd10cm", name, effective),
                Code("icd10cm", "A00", "Cholera", kind="category", billable=False)] + [
            Code("icd10cm", c, t, parent="A00", billable=True) for c, t in codes.items()]

    return release("FY2025", "2024-10-01", {"A00.0": "Cholera due to Vibrio cholerae old", "A00.1": "Cholera gone",
                                            "A00.9": "Cholera, unspecified"}) + \
        release("FY2026", "2025-10-01", {"A00.0": "Cholera due to Vibrio cholerae", "A00.2": "Cholera added",
                                         "A00.9": "Cholera, unspecified"})


@pytest.fixture(scope="session")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lexical_index(RECORDS, tmp_path_factory.mktemp("search") / "index.sqlite")


@pytest.fixture(scope="session")
def catalog(index_path: Path) -> Catalog:
    return Catalog(index_path)


