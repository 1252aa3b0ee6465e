"""Procedure words read by their parts (wordparts.py): body-part combining forms and operation suffixes,
the ICD-10-PCS Index's own operations first; anatomical names read as the PCS body part values (the
index's "use" references); and (slow, on the full index) the codes they lead to."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from medcodes import systems
from medcodes.index import Catalog
from medcodes.search import paths, search, wordparts


def test_a_procedure_word_is_read_as_operation_and_body_part() -> None:
    assert wordparts.meanings("nephrectomy") == (("resection", "kidney"), ("excision", "kidney"))
    assert ("inspection", "bladder") in wordparts.meanings("cystoscopy")  # cyst-o-scopy
    assert ("resection", "gallbladder") in wordparts.meanings("cholecystectomy")  # the longest form, not cyst
    assert ("resection", "colon") in wordparts.meanings("hemicolectomy")  # hemi- is not a body part
    chain = wordparts.meanings("salpingooophorectomy")
    assert ("resection", "fallopian", "tube") in chain and ("resection", "ovary") in chain


def test_the_pcs_index_names_the_operation_better_than_the_suffix() -> None:
    index = {"endarterectomy": (("extirpation",),), "mammography": (("plain", "radiography"),)}
    assert wordparts.meanings("endarterectomy", index) == (("extirpation", "artery"),)
    # an image is searched as its making, which the index names
    assert wordparts.meanings("mammogram", index) == (("mammography",), ("plain", "radiography", "breast"))


def test_words_not_made_of_known_parts_are_left_alone() -> None:
    for word in ("hemolysis", "fracture", "ectomy", "diabetes", "xyzectomy", "gram"):
        assert wordparts.meanings(word) == (), word


@pytest.mark.slow
@pytest.mark.parametrize("query, table", [("pneumonectomy", "0BT"), ("septoplasty", "09QM"),
                                          ("thoracentesis", "0W9"), ("mammogram", "BH0")])
def test_the_parts_lead_to_the_pcs_codes(full_index: Path, query: str, table: str) -> None:
    got = [systems.compact(r["code"]) for r in search(Catalog(full_index), query, systems=["icd10pcs"])["results"]]
    assert any(c.startswith(table) and len(c) > 3 for c in got), got


def test_the_pcs_index_use_references_name_body_parts() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE term_refs (system TEXT, term TEXT, path TEXT, kind TEXT, target TEXT, source TEXT)")
    conn.executemany("INSERT INTO term_refs VALUES ('icd10pcs', ?, '[]', 'use', ?, 'pcs-index')", [
        ("Anterior cruciate ligament (ACL)", "Knee Bursa and Ligament, Right"),
        ("Anterior cruciate ligament (ACL)", "Knee Bursa and Ligament, Left"),
        ("Advisa (MRI)", "Pacemaker, Dual Chamber for Insertion in Subcutaneous Tissue and Fascia"),
        ("3f (Aortic) Bioprosthesis valve", "Zooplastic Tissue in Heart and Great Vessels"),
        ("Scaphoid bone", "Carpal, Right"),
        ("Thyroid cartilage", "Larynx"),
        ("Cardiac plexus", "Thoracic Sympathetic Nerve"),
    ])
    conn.execute("CREATE TABLE codes (system TEXT, code TEXT, title TEXT, kind TEXT)")
    conn.execute("INSERT INTO codes VALUES ('icd10pcs', '0GTK0ZZ', 'Resection of Thyroid Gland, Open Approach',"
                 " 'code')")
    table = paths.body_parts(conn)
    assert table[("anterior", "cruciate", "ligament")] == (("knee", "bursa", "and", "ligament"),)  # the side left out
    assert table[("acl",)] == table[("anterior", "cruciate", "ligament")]  # its initials
    assert ("mri",) not in table and ("aortic",) not in table  # a note in parentheses is not a name
    assert ("3f", "bioprosthesis", "valve") not in table  # a device value stands for every such device
    assert table[("scaphoid",)] == (("carpal",),)  # a name's first word alone, as notes write it ("ORIF scaphoid")
    assert ("thyroid",) not in table  # a body part of its own (Thyroid Gland), not the larynx
    assert ("cardiac",) not in table  # an adjective opens many names


@pytest.mark.slow
@pytest.mark.parametrize("query, table", [("achilles tendon repair", "0LQ[NP]"), ("ACL repair", "0MQ[NP]"),
                                          ("ORIF R scaphoid fx", "0PSM"), ("ORIF L olecranon fx", "0PSL")])
def test_anatomical_names_lead_to_the_pcs_body_part(full_index: Path, query: str, table: str) -> None:
    got = [systems.compact(r["code"]) for r in search(Catalog(full_index), query, systems=["icd10pcs"])["results"]]
    assert got and re.match(table, got[0]), got
