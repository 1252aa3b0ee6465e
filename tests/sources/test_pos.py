"""CMS Place of Service codes: the FHIR CodeSystem HL7 Terminology publishes, and its CSV flattening."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcodes import systems
from medcodes.errors import SourceError
from medcodes.model import Code, Note, Record, Release
from medcodes.sources import pos

DATA = Path(__file__).resolve().parents[1] / "data" / "pos"
XML = DATA / "CodeSystem-CMS-PlaceofServiceCodes.xml"
CSV = DATA / "place_of_service_codes.csv"
RELEASE = Release("pos", "CMS Place of Service codes 2024-05-02", "2024-05-02")


def codes(records: list[Record]) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code)}


def test_codesystem_xml() -> None:
    records = list(pos.read(XML))
    assert records[0] == RELEASE
    found = codes(records)
    assert list(found) == ["02", "11", "23", "66"]
    assert found["11"] == Code("pos", "11", "Office", kind="code", billable=True, notes=(Note(
        "definition", found["11"].notes[0].text),), attributes={})
    assert found["11"].notes[0].text.startswith("Location, other than a hospital")
    assert found["02"].attributes == {"effective": "2017-01-01"}  # the first date CMS gave it
    assert found["66"].attributes == {"effective": "2024-08-01"}
    assert found["23"].title == "Emergency Room – Hospital"


def test_csv_gives_the_same_codes_without_a_version() -> None:
    records = list(pos.read(CSV))
    assert records[0] == Release("pos", "CMS Place of Service codes", None)
    assert codes(records) == codes(list(pos.read(XML)))


def test_codesystem_json(tmp_path: Path) -> None:
    doc = {"resourceType": "CodeSystem", "url": pos.URI, "version": "20240502",
           "concept": [{"code": "11", "display": "Office", "definition": "An office. (Effective January 1, 2003)"}]}
    path = tmp_path / "CodeSystem-CMS-PlaceofServiceCodes.json"
    path.write_text(json.dumps(doc))
    records = list(pos.read(path))
    assert records[0] == RELEASE
    assert codes(records)["11"].attributes == {"effective": "2003-01-01"}


def test_the_system_is_registered() -> None:
    s = systems.get("pos")
    assert s.fhir_uri == pos.URI and s.name == "Place of Service"
    assert systems.normalize("pos", " 11 ") == "11" and systems.looks_like("pos", "02")
    assert not systems.looks_like("pos", "111")


@pytest.mark.parametrize(("text", "message"), [
    ('<CodeSystem xmlns="http://hl7.org/fhir"><url value="http://loinc.org"/></CodeSystem>', "not the CMS Place"),
    ("<Bundle/>", "is not a FHIR CodeSystem"),
    ('<CodeSystem xmlns="http://hl7.org/fhir"><url value="' + pos.URI + '"/><concept><code value="', "not well-formed"),
    ("code,name,description\n1,Pharmacy,x\n", "not a place of service"),
    ("code,name,description\n01,Pharmacy\n", "2 fields where the CSV has 3"),
    ("code,name,description\n", "no place of service codes"),
    ("hello", "not a Place of Service file"),
])
def test_bad_input_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pos.xml"
    path.write_text(text)
    with pytest.raises(SourceError, match=message) as e:
        list(pos.read(path))
    assert e.value.path == str(path)


@pytest.mark.realdata
def test_real_codesystem(shared_data: Path) -> None:
    records = list(pos.read(shared_data / "cms_place_of_service" / "CodeSystem-CMS-PlaceofServiceCodes.xml"))
    assert records[0] == RELEASE
    found = codes(records)
    assert len(found) == 52
    assert {"27", "49", "57", "66"} <= found.keys()
    assert codes(list(pos.read(shared_data / "cms_place_of_service" / "place_of_service_codes.csv"))) == found
