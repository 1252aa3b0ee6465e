"""The terminology server: supplied resources (tx-resource, inline valueSet), ValueSet $validate-code,
versions, canonical URIs, $lookup properties, expansions, batches, capabilities, and every bad input
answered by an OperationOutcome."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from .test_fhir import CM, FHIR_JSON, HCPCS, ok, outcome, props, values

if TYPE_CHECKING:
    from starlette.testclient import TestClient

HCPCS_URL = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
TEST_CS = "http://example.org/fhir/CodeSystem/colours"
TEST_VS = "http://example.org/fhir/ValueSet/warm"
COLOURS: dict[str, Any] = {
    "resourceType": "CodeSystem", "url": TEST_CS, "version": "1.0.0", "name": "Colours", "status": "active",
    "content": "complete", "language": "en", "caseSensitive": True,
    "property": [{"code": "notSelectable", "type": "boolean"}, {"code": "status", "type": "code"}],
    "concept": [
        {"code": "warm", "display": "Warm colours", "property": [{"code": "notSelectable", "valueBoolean": True}],
         "concept": [{"code": "red", "display": "Red", "designation": [{"language": "de", "value": "Rot"}]},
                     {"code": "orange", "display": "Orange",
                      "property": [{"code": "status", "valueCode": "retired"}]}]},
        {"code": "blue", "display": "Blue"}]}
WARM: dict[str, Any] = {"resourceType": "ValueSet", "url": TEST_VS, "version": "2", "status": "active",
                        "compose": {"include": [{"system": TEST_CS,
                                                 "filter": [{"property": "concept", "op": "is-a", "value": "warm"}]}]}}


def body(*params: dict[str, Any], resources: tuple[dict[str, Any], ...] = (COLOURS, WARM)) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [*params, *({"name": "tx-resource", "resource": r}
                                                                   for r in resources)]}


def post(client: TestClient, path: str, payload: Any) -> Any:
    return client.post(f"/fhir/{path}", json=payload, headers={"Content-Type": FHIR_JSON})


def issues(params: dict[str, Any]) -> list[dict[str, Any]]:
    found = [p["resource"]["issue"] for p in params["parameter"] if p["name"] == "issues"]
    return found[0] if found else []


def tx_types(params: dict[str, Any]) -> set[str]:
    return {c["code"] for i in issues(params) for c in i.get("details", {}).get("coding", [])}


# -- ValueSet/$validate-code --------------------------------------------------------------------

def test_value_set_validate_code_with_supplied_resources(client: TestClient) -> None:
    good = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": TEST_VS}, {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red"}})))
    assert values(good, "result") == [True] and values(good, "display") == ["Red"]
    assert values(good, "version") == ["1.0.0"]
    out = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": TEST_VS}, {"name": "code", "valueCode": "blue"},
        {"name": "system", "valueUri": TEST_CS})))
    assert values(out, "result") == [False] and tx_types(out) == {"not-in-vs"}
    assert "was not found in the value set 'http://example.org/fhir/ValueSet/warm|2'" in values(out, "message")[0]
    unknown = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": TEST_VS}, {"name": "code", "valueCode": "purple"},
        {"name": "system", "valueUri": TEST_CS})))
    assert tx_types(unknown) == {"not-in-vs", "invalid-code"}


def test_inline_value_set_and_inferred_system(client: TestClient) -> None:
    inline = {**WARM, "url": "urn:uuid:6e1c5d1e-2b7f-4c55-9a7e-0f1f4d1d2b01"}
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "valueSet", "resource": inline}, {"name": "code", "valueCode": "orange"}, resources=(COLOURS,))))
    assert values(p, "result") == [True] and values(p, "system") == [TEST_CS]
    assert values(p, "inactive") == [True] and "retired and inactive" in values(p, "message")[0]
    assert values(p, "status") == ["retired"]


def test_display_checking_and_lenient_mode(client: TestClient) -> None:
    def check(display: str, *extra: dict[str, Any]) -> dict[str, Any]:
        return ok(post(client, "ValueSet/$validate-code", body(
            {"name": "url", "valueUri": TEST_VS},
            {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red", "display": display}}, *extra)))

    assert values(check("Red"), "result") == [True]
    assert values(check("Rot"), "result") == [True]  # a designation is a valid display
    wrong = check("Crimson")
    assert values(wrong, "result") == [False] and tx_types(wrong) == {"invalid-display"}
    assert "Valid display is one of 2 choices: 'Red' (en) or 'Rot' (de)" in values(wrong, "message")[0]
    lenient = check("Crimson", {"name": "lenient-display-validation", "valueBoolean": True})
    assert values(lenient, "result") == [True] and issues(lenient)[0]["severity"] == "warning"
    spaces = check("Red ")
    assert "Wrong whitespace" in values(spaces, "message")[0]


def test_abstract_codes(client: TestClient) -> None:
    params = ({"name": "url", "valueUri": TEST_VS}, {"name": "code", "valueCode": "warm"},
              {"name": "system", "valueUri": TEST_CS})
    assert values(ok(post(client, "ValueSet/$validate-code", body(*params))), "result") == [True]
    refused = ok(post(client, "ValueSet/$validate-code", body(*params, {"name": "abstract", "valueBoolean": False})))
    assert values(refused, "result") == [False] and "abstract" in values(refused, "message")[0]


def test_indexed_codes_normalised_inactive_and_hcpcs_canonical(client: TestClient) -> None:
    vs = f"{CM}?fhir_vs"
    for typed in ("E119", "e11 9", "E11.9"):
        p = ok(client.get("/fhir/ValueSet/$validate-code", params={"url": vs, "system": CM, "code": typed}))
        assert values(p, "result") == [True] and values(p, "code") == [typed], typed
        assert values(p, "normalized-code") == ([] if typed == "E11.9" else ["E11.9"]), typed
    deleted = ok(client.get("/fhir/ValueSet/$validate-code", params={"url": vs, "system": CM, "code": "E11.8"}))
    assert values(deleted, "result") == [True] and values(deleted, "inactive") == [True]
    assert issues(deleted)[0]["severity"] == "warning"
    for uri in (HCPCS, HCPCS_URL):
        p = ok(client.get("/fhir/CodeSystem/$validate-code", params={"url": uri, "code": "J1100"}))
        assert values(p, "result") == [True], uri


def test_unknown_system_is_a_result_not_a_404(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$validate-code", params={"url": "http://example.org/nope", "code": "x"}))
    assert values(p, "result") == [False] and tx_types(p) == {"not-found"}
    assert values(p, "x-caused-by-unknown-system") == ["http://example.org/nope"]
    assert issues(p)[0]["details"]["text"].startswith("A definition for CodeSystem 'http://example.org/nope'")


def test_versions(client: TestClient) -> None:
    good = ok(client.get("/fhir/CodeSystem/$validate-code", params={"url": CM, "code": "E11.9", "version": "2026"}))
    assert values(good, "result") == [True] and values(good, "version") == ["2026"]
    bad = ok(client.get("/fhir/CodeSystem/$validate-code", params={"url": CM, "code": "E11.9", "version": "1999"}))
    assert values(bad, "result") == [False]
    assert "version '1999' could not be found" in values(bad, "message")[0] and "2026" in values(bad, "message")[0]
    versions = ok(client.get("/fhir/$versions"))
    assert values(versions, "default") == ["4.0.1"]


# -- $lookup, $subsumes, $translate ---------------------------------------------------------------

def test_lookup_supplied_system_with_every_property(client: TestClient) -> None:
    p = ok(post(client, "CodeSystem/$lookup", body({"name": "system", "valueUri": TEST_CS},
                                                   {"name": "code", "valueCode": "red"},
                                                   {"name": "property", "valueCode": "*"})))
    assert values(p, "display") == ["Red"] and values(p, "version") == ["1.0.0"]
    assert props(p)["parent"] == ["warm"] and props(p)["inactive"] == [False]
    # the display itself is the preferred designation in the code system's language, then its own designations
    assert [x for d in values(p, "designation") for x in d if x["name"] == "language"] == [
        {"name": "language", "valueCode": "en"}, {"name": "language", "valueCode": "de"}]
    only = ok(post(client, "CodeSystem/$lookup", body({"name": "system", "valueUri": TEST_CS},
                                                      {"name": "code", "valueCode": "warm"},
                                                      {"name": "property", "valueCode": "child"})))
    assert set(props(only)) == {"child"} and values(only, "abstract") == [True]


def test_lookup_indexed_every_property(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11", "property": "*"}))
    assert {"parent", "child", "inactive", "notSelectable", "billable"} <= set(props(p))


def test_subsumes_in_a_supplied_system(client: TestClient) -> None:
    p = ok(post(client, "CodeSystem/$subsumes", body({"name": "system", "valueUri": TEST_CS},
                                                     {"name": "codeA", "valueCode": "warm"},
                                                     {"name": "codeB", "valueCode": "orange"})))
    assert values(p, "outcome") == ["subsumes"]


def test_translate_with_a_supplied_concept_map_and_r5_names(client: TestClient) -> None:
    cm = {"resourceType": "ConceptMap", "url": "http://example.org/cm", "version": "1", "status": "active",
          "group": [{"source": TEST_CS, "target": "http://example.org/other",
                     "element": [{"code": "red", "target": [{"code": "R", "relationship": "equivalent"}]}]}]}
    p = ok(post(client, "ConceptMap/$translate", body(
        {"name": "sourceCoding", "valueCoding": {"system": TEST_CS, "code": "red"}},
        {"name": "url", "valueUri": "http://example.org/cm"}, resources=(COLOURS, cm))))
    assert values(p, "result") == [True]
    reverse = ok(post(client, "ConceptMap/$translate", body(
        {"name": "system", "valueUri": "http://example.org/other"}, {"name": "code", "valueCode": "R"},
        {"name": "reverse", "valueBoolean": True}, resources=(COLOURS, cm))))
    concept = next(x["valueCoding"] for m in values(reverse, "match") for x in m if x["name"] == "concept")
    assert concept["code"] == "red"


# -- $expand ------------------------------------------------------------------------------------

def test_expand_supplied_value_set(client: TestClient) -> None:
    vs = ok(post(client, "ValueSet/$expand", body({"name": "url", "valueUri": TEST_VS},
                                                  {"name": "excludeNested", "valueBoolean": True})), "ValueSet")
    e = vs["expansion"]
    assert [c["code"] for c in e["contains"]] == ["warm", "red", "orange"] and e["total"] == 3
    assert e["contains"][0]["abstract"] is True and e["contains"][2]["inactive"] is True
    assert {"name": "used-codesystem", "valueUri": f"{TEST_CS}|1.0.0"} in e["parameter"]
    assert {"name": "excludeNested", "valueBoolean": True} in e["parameter"]
    active = ok(post(client, "ValueSet/$expand", body({"name": "url", "valueUri": TEST_VS},
                                                      {"name": "activeOnly", "valueBoolean": True})), "ValueSet")
    assert [c["code"] for c in active["expansion"]["contains"]] == ["warm", "red"]
    german = ok(post(client, "ValueSet/$expand", body({"name": "url", "valueUri": TEST_VS},
                                                      {"name": "displayLanguage", "valueCode": "de"})), "ValueSet")
    assert german["expansion"]["contains"][1]["display"] == "Rot"
    german = ok(post(client, "ValueSet/$expand", body({"name": "url", "valueUri": TEST_VS},
                                                      {"name": "displayLanguage", "valueCode": "de"},
                                                      {"name": "includeDesignations", "valueBoolean": True})),
                "ValueSet")
    red = german["expansion"]["contains"][1]
    # the German display is no longer a designation; the code system's English display is one
    assert [(d.get("language"), d["value"]) for d in red["designation"]] == [("en", "Red")]


def test_expansion_with_nothing_has_no_empty_contains(client: TestClient) -> None:
    e = expand_json(client, {"url": f"{CM}?fhir_vs", "filter": "zzzzqqq"})
    assert e["total"] == 0 and "contains" not in e


def expand_json(client: TestClient, params: dict[str, str]) -> dict[str, Any]:
    return ok(client.get("/fhir/ValueSet/$expand", params=params), "ValueSet")["expansion"]  # type: ignore[no-any-return]


def test_exclude_and_filters(client: TestClient) -> None:
    vs = {**WARM, "compose": {"include": [{"system": TEST_CS}],
                              "exclude": [{"system": TEST_CS, "concept": [{"code": "orange"}]}]}}
    e = ok(post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": vs}, resources=(COLOURS,))),
           "ValueSet")["expansion"]
    assert [c["code"] for c in e["contains"]] == ["warm", "red", "blue"]
    regex = {**WARM, "compose": {"include": [{"system": TEST_CS, "filter": [
        {"property": "code", "op": "regex", "value": "(r+e*)+d"}]}]}}
    e = ok(post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": regex}, resources=(COLOURS,))),
           "ValueSet")["expansion"]
    assert [c["code"] for c in e["contains"]] == ["red"]


# -- batches and capabilities -------------------------------------------------------------------

def test_batch_bundle_and_batch_validate(client: TestClient) -> None:
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"CodeSystem/$validate-code?url={CM}&code=E11.9"}},
        {"request": {"method": "POST", "url": "ValueSet/$validate-code"},
         "resource": body({"name": "url", "valueUri": TEST_VS}, {"name": "code", "valueCode": "red"},
                          {"name": "system", "valueUri": TEST_CS})},
        {"request": {"method": "POST", "url": "ValueSet/$expand"},
         "resource": {"resourceType": "Parameters", "parameter": [{"name": "url", "valueUri": "urn:nope"}]}}]}
    b = ok(post(client, "", bundle), "Bundle")
    assert b["type"] == "batch-response"
    assert [e["response"]["status"] for e in b["entry"]] == ["200", "200", "404"]
    assert b["entry"][2]["resource"]["resourceType"] == "OperationOutcome"
    p = ok(post(client, "ValueSet/$batch-validate-code", body(
        {"name": "url", "valueUri": TEST_VS},
        {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red"}}]}},
        {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "blue"}}]}})))
    results = [values(v["resource"], "result") for v in p["parameter"]]
    assert results == [[True], [False]]


def test_terminology_capabilities_and_holdings(client: TestClient) -> None:
    tc = ok(client.get("/fhir/metadata", params={"mode": "terminology"}), "TerminologyCapabilities")
    uris = {c["uri"] for c in tc["codeSystem"]}
    assert {CM, HCPCS, HCPCS_URL} <= uris
    found = ok(client.get("/fhir/CodeSystem", params={"url": CM}), "Bundle")
    assert found["total"] == 1 and found["entry"][0]["resource"]["content"] == "not-present"
    read = ok(client.get(f"/fhir/CodeSystem/{found['entry'][0]['resource']['id']}"), "CodeSystem")
    assert read["url"] == CM
    assert ok(client.get("/fhir/ValueSet", params={"url": f"{CM}?fhir_vs"}), "Bundle")["total"] == 1
    assert ok(client.get("/fhir/ConceptMap"), "Bundle")["total"] >= 1
    outcome(client.get("/fhir/CodeSystem/nope"), 404, "not-found")


# -- bad input: always an OperationOutcome, never a 500 or a hang ---------------------------------

def test_lone_surrogates_are_refused(client: TestClient) -> None:
    raw = b'{"resourceType": "Parameters", "parameter": [{"name": "code", "valueCode": "\\ud800"},' \
          b' {"name": "system", "valueUri": "http://hl7.org/fhir/sid/icd-10-cm"}]}'
    for path in ("CodeSystem/$lookup", "ValueSet/$validate-code", "ValueSet/$expand", ""):
        r = client.post(f"/fhir/{path}", content=raw, headers={"Content-Type": FHIR_JSON})
        assert r.status_code == 400, (path, r.text[:200])
        assert r.json()["resourceType"] == "OperationOutcome"


def test_deeply_nested_parts_are_refused(client: TestClient) -> None:
    part: dict[str, Any] = {"name": "x", "valueString": "y"}
    for _ in range(40):
        part = {"name": "x", "part": [part]}
    r = post(client, "ValueSet/$expand", {"resourceType": "Parameters", "parameter": [part]})
    outcome(r, 400, "too-costly")


def test_value_set_including_itself_is_refused(client: TestClient) -> None:
    loop = {"resourceType": "ValueSet", "url": "http://example.org/loop", "status": "active",
            "compose": {"include": [{"valueSet": ["http://example.org/loop"]}]}}
    r = post(client, "ValueSet/$expand", body({"name": "url", "valueUri": "http://example.org/loop"},
                                              resources=(loop,)))
    assert "circularity" in outcome(r, 400, "processing")


def test_expansion_of_every_code_is_too_costly(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from medcodes.api.fhir import valuesets

    monkeypatch.setattr(valuesets, "MAX_EXPANSION", 5)  # the fixture index is small; the guard is the same
    vs = {"resourceType": "ValueSet", "url": "http://example.org/all-cm", "status": "active",
          "compose": {"include": [{"system": CM}], "exclude": [{"system": CM, "concept": [{"code": "E11.9"}]}]}}
    r = post(client, "ValueSet/$expand", body({"name": "url", "valueUri": "http://example.org/all-cm"},
                                              {"name": "count", "valueInteger": 3}, resources=(vs,)))
    assert "too many codes" in outcome(r, 400, "too-costly")


def test_huge_and_malformed_supplied_resources(client: TestClient) -> None:
    many = {**COLOURS, "concept": [{"code": f"c{i}", "display": "x"} for i in range(60_000)]}
    r = client.post("/fhir/ValueSet/$expand", content=json.dumps(body({"name": "url", "valueUri": TEST_VS},
                                                                      resources=(many, WARM))),
                    headers={"Content-Type": FHIR_JSON})
    assert r.status_code in (400, 413) and r.json()["resourceType"] == "OperationOutcome"
    broken = {**WARM, "compose": {"include": [{"system": TEST_CS, "filter": [{"property": "concept",
                                                                               "op": "is-a"}]}]}}
    r = post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": broken}, resources=(COLOURS,)))
    assert "has no value" in outcome(r, 400, "invalid")
    bad_regex = {**WARM, "compose": {"include": [{"system": TEST_CS, "filter": [
        {"property": "code", "op": "regex", "value": "(a)\\1"}]}]}}
    r = post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": bad_regex}, resources=(COLOURS,)))
    assert "is not valid" in outcome(r, 400, "invalid")
    r = post(client, "ValueSet/$expand", body({"name": "url", "valueUri": "http://example.org/none"}))
    assert "could not be found" in outcome(r, 404, "not-found")


def test_validating_against_a_value_set_that_includes_a_missing_one(client: TestClient) -> None:
    vs = {**WARM, "compose": {"include": [{"valueSet": ["http://example.org/fhir/ValueSet/missing"]}]}}
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": TEST_VS}, {"name": "code", "valueCode": "red"},
        {"name": "system", "valueUri": TEST_CS}, resources=(COLOURS, vs))))
    assert values(p, "result") == [False] and tx_types(p) == {"not-found"}
    assert "'http://example.org/fhir/ValueSet/missing' could not be found" in values(p, "message")[0]
