"""The OpenAPI 3.1 description of /api/v1, served at /openapi.json and rendered at /api/docs."""

from __future__ import annotations

import functools
import importlib.metadata
from typing import Any

from .. import systems
from ..app import params, services

# the limits this document states and the endpoints enforce (tests run schemathesis against both)
MAX_LIMIT = 100
MAX_SIMILAR = 50
MAX_POLICIES = 500
MAX_SUGGEST = 20
MAX_SKIP = 100_000  # offset into the policies of a code or a policy search
_ERROR = {"$ref": "#/components/schemas/Error"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": params.MAX_QUERY, "pattern": params.TEXT_PATTERN}
# a code as the API takes it (any case, dotted or not): letters, digits and . - – _ and spaces
_CODE = {"type": "string", "minLength": 1, "maxLength": 40,
         "pattern": "^[0-9A-Za-z.\\-\u2013_ ]*[0-9A-Za-z][0-9A-Za-z.\\-\u2013_ ]*$"}


def _int(lo: int, hi: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi, "default": default}


def _param(name: str, where: str, description: str, schema: dict[str, Any], required: bool = False,
           example: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "description": description, "schema": schema,
                           "required": required or where == "path"}
    if example is not None:
        out["example"] = example
    return out


def _errors(*statuses: int) -> dict[str, Any]:
    text = {400: "Bad input (a parameter, a malformed code)", 404: "Unknown system or code",
            413: "Request body too large"}
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": _ERROR}}}
            for s in statuses}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


_SYSTEM_IDS = {"type": "string", "enum": list(systems.SYSTEMS)}
_SYSTEM_OR_NULL = {"enum": [*systems.SYSTEMS, None]}
_SYSTEM_LIST = f"^({'|'.join(systems.SYSTEMS)})(,({'|'.join(systems.SYSTEMS)}))*$"
# any text with a character that is not blank, as the validation answers "not a well-formed code"
# for the rest
_VALIDATE_CODE = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "[^ \\t\\n\\r\\f\\v]"}
_SYSTEM_PATH = _param("system", "path", "code system id", _SYSTEM_IDS, example="icd10cm")
_CODE_PATH = _param("code", "path", "the code", _CODE, example="E11.9")
_AS_OF = _param("as_of", "query", "answer for this date of service (YYYY-MM-DD): the release in force then",
                {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}, example="2024-06-01")
_Q = _param("q", "query", f"words, abbreviations or a code (at most {params.MAX_QUERY} characters)",
            _TEXT, True, "type 2 diabetes")

_PATHS: dict[str, Any] = {
    "/api/v1/search": {"get": {
        "summary": "Search every code system", "operationId": "search",
        "description": "The same answer as `medcodes search --json`.",
        "parameters": [
            _Q,
            _param("system", "query", "limit to these systems (separate with commas)",
                   {"type": "string", "pattern": _SYSTEM_LIST}, example="icd10cm"),
            _param("billable", "query", "only billable (true) or only non-billable (false) codes",
                   {"type": "string", "enum": list(params.BOOLEAN_WORDS)}),
            _param("limit", "query", "results per page", _int(1, MAX_LIMIT, 10)),
            _param("offset", "query", "results to skip", _int(0, params.MAX_OFFSET, 0)),
            _AS_OF,
        ],
        "responses": {**_ok("Results, best first, with a count per system",
                            {"$ref": "#/components/schemas/SearchResponse"}), **_errors(400)}}},
    "/api/v1/suggest": {"get": {
        "summary": "Suggestions while typing", "operationId": "suggest",
        "parameters": [_Q, _param("limit", "query", "how many", _int(1, MAX_SUGGEST, services.SUGGEST_LIMIT))],
        "responses": {**_ok("Suggestions", {"type": "object", "properties": {
            "query": {"type": "string"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}}}}), **_errors(400)}}},
    "/api/v1/codes/{system}/{code}": {"get": {
        "summary": "Everything about one code", "operationId": "code",
        "description": "The data the code page shows. Codes are accepted dotted or not, in any case; "
                       "the canonical address is in the `Link` header. Responses carry an `ETag`.",
        "parameters": [_SYSTEM_PATH, _CODE_PATH, _AS_OF],
        "responses": {**_ok("The code's data", {"$ref": "#/components/schemas/Code"}),
                      "304": {"description": "Not modified (If-None-Match)"}, **_errors(400, 404)}}},
    "/api/v1/codes/{system}/{code}/similar": {"get": {
        "summary": "Similar codes, each with its reason", "operationId": "similar",
        "description": "Siblings, codes the notes name, GEMs equivalents, codes cited by the same policies and"
                       " codes worded alike, best first (the code data's `similar` holds the first 10).",
        "parameters": [_SYSTEM_PATH, _CODE_PATH, _param("limit", "query", "how many", _int(1, MAX_SIMILAR, 10))],
        "responses": {**_ok("Similar codes", {"type": "object", "properties": {
            "system": {"type": "string"}, "code": {"type": "string"},
            "similar": {"type": "array", "items": {"$ref": "#/components/schemas/Similar"}}}}),
            **_errors(400, 404)}}},
    "/api/v1/codes/{system}/{code}/policies": {"get": {
        "summary": "Medical policies that cite the code", "operationId": "codePolicies",
        "description": "Every policy citing the code, strongest statement first (the code data holds the first"
                       " 50). A CPT code cited by a policy is answered even when no CPT data is loaded.",
        "parameters": [_SYSTEM_PATH, _CODE_PATH,
                       _param("limit", "query", "how many", _int(1, MAX_POLICIES, 100)),
                       _param("offset", "query", "policies to skip", _int(0, MAX_SKIP, 0))],
        "responses": {**_ok("Policies", {"type": "object", "properties": {
            "system": {"type": "string"}, "code": {"type": "string"}, "total": {"type": "integer"},
            "policies": {"type": "array", "items": {"$ref": "#/components/schemas/PolicyRef"}}}}),
            **_errors(400, 404)}}},
    "/api/v1/policies": {"get": {
        "summary": "Search medical policies by text or code", "operationId": "policies",
        "description": "All words must match the title, payer, number or text; a code finds the policies"
                       " citing it. Without `q`, every policy by payer and title.",
        "parameters": [_param("q", "query", "words or a code", _TEXT, example="sleep apnea"),
                       _param("payer", "query", "only this payer", _TEXT),
                       _param("limit", "query", "results per page", _int(1, MAX_LIMIT, 20)),
                       _param("offset", "query", "results to skip", _int(0, MAX_SKIP, 0))],
        "responses": {**_ok("Policies, best first", {"type": "object", "properties": {
            "query": {"type": "string"}, "payer": {"type": ["string", "null"]}, "offset": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/PolicySummary"}}}}),
            **_errors(400)}}},
    "/api/v1/policies/{policy_id}": {"get": {
        "summary": "One policy with every code it cites", "operationId": "policy",
        "description": "The data of the policy page `/policies/{policy_id}`, without the document itself.",
        "parameters": [_param("policy_id", "path", "the policy id", {
            "type": "string", "minLength": 1, "maxLength": 200, "pattern": params.POLICY_ID_PATTERN})],
        "responses": {**_ok("The policy", {"$ref": "#/components/schemas/Policy"}), **_errors(400, 404)}}},
    "/api/v1/changes": {"get": {
        "summary": "Releases with recorded changes, with counts", "operationId": "changeReleases",
        "responses": _ok("Releases", {"type": "object", "properties": {"releases": {"type": "array", "items": {
            "type": "object", "properties": {
                "system": {"type": "string"}, "release": {"type": "string"}, "effective": {"type": ["string", "null"]},
                "added": {"type": "integer"}, "revised": {"type": "integer"},
                "deleted": {"type": "integer"}}}}}})}},
    "/api/v1/changes/{system}/{release}": {"get": {
        "summary": "What a release added, revised and deleted", "operationId": "changes",
        "parameters": [_SYSTEM_PATH, _param("release", "path", "the release name", _TEXT,
                                            example="ICD-10-CM FY2026")],
        "responses": {**_ok("Changes", {"$ref": "#/components/schemas/Changes"}), **_errors(400, 404)}}},
    "/api/v1/validate": {"post": {
        "summary": "Check up to 1,000 codes at once", "operationId": "validate",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["codes"], "properties": {
                "system": {**_SYSTEM_OR_NULL, "description": "system of codes given as plain strings"},
                "codes": {"type": "array", "maxItems": services.MAX_VALIDATE, "items": {"oneOf": [
                    _VALIDATE_CODE,
                    {"type": "object", "required": ["code"],
                     "properties": {"system": _SYSTEM_OR_NULL, "code": _VALIDATE_CODE}}]}}}},
            "example": {"system": "icd10cm", "codes": ["E11.9", "e119", "Z99.99"]}}}},
        "responses": {**_ok("One answer per code, in order", {"type": "object", "properties": {
            "count": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Validation"}}}}),
            **_errors(400, 413)}}},
    "/api/v1/systems": {"get": {
        "summary": "Code systems loaded, with counts and FHIR URIs", "operationId": "systems",
        "responses": _ok("Systems", {"type": "object"})}},
    "/api/v1/sources": {"get": {
        "summary": "Loaded source files: releases, hashes, counts", "operationId": "sources",
        "responses": _ok("Sources", {"type": "object"})}},
    "/api/v1/health": {"get": {
        "summary": "Liveness and warm-up of the worker that answers", "operationId": "health",
        "responses": _ok("Health", {"type": "object", "properties": {
            "status": {"const": "ok"}, "warm": {"type": "boolean"}}})}},
}

_BRIEF: dict[str, Any] = {"type": "object", "properties": {
    "system": {"type": "string"}, "code": {"type": "string"}, "title": {"type": "string"},
    "kind": {"type": "string"}, "billable": {"type": ["boolean", "null"]}}}

_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["ok", "status", "error", "message"], "properties": {
        "ok": {"const": False}, "status": {"type": "integer"},
        "error": {"type": "string", "examples": ["not_found", "bad_request"]}, "message": {"type": "string"}}},
    "Result": {"type": "object", "properties": {
        **_BRIEF["properties"], "system_name": {"type": "string"}, "score": {"type": "number"},
        "match": {"type": "object", "properties": {
            "field": {"type": "string"}, "term": {"type": "string"},
            "fragment": {"type": "string", "description": "the matched text as HTML; only <mark> tags"}}},
        "as_of": {"type": "object", "description": "with as_of: what the code's page answers for that date",
                  "properties": {"date": {"type": "string"}, "valid": {"type": ["boolean", "null"]},
                                 "exists": {"type": ["boolean", "null"]}, "reason": {"type": ["string", "null"]},
                                 "title": {"type": "string", "description": "its title then, where it differs"}}}}},
    "SearchResponse": {"type": "object", "properties": {
        "query": {"type": "string"}, "total": {"type": "integer"},
        "facets": {"type": "object", "additionalProperties": {"type": "integer"}},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        "did_you_mean": {"type": ["string", "null"]},
        "notice": {"type": ["string", "null"],
                   "description": "a code typed of a licensed system (CPT) that the index has no data for"},
        "parsed": {"type": "object"}}},
    "Code": {"type": "object", "properties": {
        **_BRIEF["properties"], "system_name": {"type": "string"}, "system_label": {"type": "string"},
        "fhir_system": {"type": ["string", "null"]}, "short_title": {"type": ["string", "null"]},
        "release": {"type": ["string", "null"]}, "deleted_in": {"type": ["string", "null"]},
        "ancestors": {"type": "array", "items": _BRIEF}, "children": {"type": "array", "items": _BRIEF},
        "notes": {"type": "array", "items": {"type": "object", "properties": {
            "type": {"type": "string"}, "text": {"type": "string"}, "from": {"type": ["string", "null"]}}}},
        "synonyms": {"type": "array", "items": {"type": "string"}},
        "index_terms": {"type": "array", "items": {"type": "object"}},
        "crosswalks": {"type": "array", "items": {"type": "object"}},
        "attributes": {"type": "object"}, "history": {"type": "array", "items": {"type": "object"}},
        "edits": {"type": ["object", "null"], "description": "ICD-10-CM/PCS only: cc_mcc, cc_exclusion, ms_drg,"
                  " hcc (null: not in the table named in checked), each with its source table and version;"
                  " not_loaded: edits no loaded official table carries"},
        "in_index": {"type": "boolean", "description": "false: a CPT code cited by a policy, no CPT data loaded"},
        "explainer": {"type": "object", "properties": {
            "sections": {"type": "array", "items": {"$ref": "#/components/schemas/ExplainerSection"}},
            "generated": {"type": ["object", "null"]},
            "pending": {"type": ["object", "null"], "description": (
                "without generated text, when the server writes explainers on demand: status queued"
                " (writing: a worker has it), failed (reason, retry_after) or not_queued (the queue is full)")}}},
        "similar": {"type": "array", "items": {"$ref": "#/components/schemas/Similar"}},
        "policies": {"type": "array", "items": {"$ref": "#/components/schemas/PolicyRef"}},
        "policies_total": {"type": "integer"},
        "as_of": {"type": "object", "description": "with ?as_of: the answer for that date", "properties": {
            "date": {"type": "string"}, "valid": {"type": ["boolean", "null"],
                                                  "description": "null: no loaded release was in force then"},
            "exists": {"type": ["boolean", "null"]}, "title": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]}, "release": {"type": ["string", "null"]}}}}},
    "ExplainerSection": {"type": "object", "required": ["title", "text", "source"], "properties": {
        "title": {"type": "string"}, "text": {"type": "string"}, "items": {"type": "array"},
        "source": {"type": "object", "properties": {
            "type": {"enum": ["official", "generated"]}, "fields": {"type": "array"},
            "model": {"type": "string"}, "date": {"type": "string"}, "review_status": {"type": "string"}}}}},
    "Similar": {"type": "object", "properties": {
        "system": {"type": "string"}, "code": {"type": "string"}, "title": {"type": ["string", "null"]},
        "reason": {"type": "string"}, "reason_type": {"type": "string"}}},
    "PolicyRef": {"type": "object", "properties": {
        "policy_id": {"type": "string"}, "payer": {"type": "string"}, "title": {"type": "string"},
        "number": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]},
        "effective": {"type": ["string", "null"]}, "last_reviewed": {"type": ["string", "null"]},
        "version": {"type": "integer"}, "section": {"type": "string"}, "section_label": {"type": "string"},
        "snippet": {"type": "string", "description": "plain text, never HTML"},
        "mentions": {"type": "array", "items": {"type": "object"}}}},
    "PolicySummary": {"type": "object", "properties": {
        "policy_id": {"type": "string"}, "payer": {"type": "string"}, "title": {"type": "string"},
        "number": {"type": ["string", "null"]}, "url": {"type": ["string", "null"]}, "codes": {"type": "integer"},
        "snippet": {"type": "string"}}},
    "Policy": {"type": "object", "properties": {
        "policy_id": {"type": "string"}, "payer": {"type": "string"}, "title": {"type": "string"},
        "versions": {"type": "array", "items": {"type": "object"}},
        "codes": {"type": "array", "items": {"type": "object"}},
        "ranges": {"type": "array", "items": {"type": "object"}},
        "sections": {"type": "object"}}},
    "Changes": {"type": "object", "properties": {
        "system": {"type": "string"}, "release": {"type": "string"}, "effective": {"type": ["string", "null"]},
        "counts": {"type": "object"}, "changes": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "change": {"enum": ["added", "revised", "deleted"]},
            "old_title": {"type": ["string", "null"]}, "new_title": {"type": ["string", "null"]}}}}}},
    "Validation": {"type": "object", "properties": {
        "input": {"type": "string"}, "exists": {"type": "boolean"}, "system": {"type": ["string", "null"]},
        "code": {"type": ["string", "null"]}, "billable": {"type": ["boolean", "null"]},
        "title": {"type": ["string", "null"]},
        "matches": {"type": "array", "description": "when the code exists in several systems", "items": _BRIEF}}},
}


def version() -> str:
    try:
        return importlib.metadata.version("medcodes")
    except importlib.metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0"


@functools.cache
def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "medcodes API", "version": version(),
                 "description": "Search and look up medical codes. Every error is "
                                "`{\"ok\": false, \"status\", \"error\", \"message\"}`. "
                                "FHIR R4 terminology operations are under `/fhir` (see `/fhir/metadata`)."},
        "paths": _PATHS,
        "components": {"schemas": _SCHEMAS},
    }
