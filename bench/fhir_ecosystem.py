"""Replay the HL7 terminology ecosystem tests against a running `medcodes serve` and print pass/fail
per suite.

    python bench/fhir_ecosystem.py --base http://127.0.0.1:8000/fhir [--tests DIR] [--filter TEXT]
        [--suite NAME] [--show N] [--json OUT]

Each test is sent the way the HL7 Java TxTester sends it: a POST of the request Parameters with the
suite's setup resources added as `tx-resource` parameters (and the default profile parameters), to
the operation's endpoint; the answer (or the OperationOutcome of an error) is scrubbed as TxTester
scrubs it (no text, meta, diagnostics or unmanaged extensions) and compared with the expected file by
the suite's rules: `$optional$` items and `$optional-properties$` may be absent, templates
(`$instant$`, `$uuid$`, `$id$`, `$external:n:fragments$`, `$fragments:..$`, `$choice:..$`) match
patterns, array order never matters. Modes run: general and flat (the suite's own tests for
SNOMED, OMOP, ICD-11 and tx.fhir.org internals are not applicable to a server without them).

The server speaks FHIR R4; TxTester converts R4 answers to R5 before comparing, so R5 elements carried
as R4 extensions are converted here the same way (Parameters parts, such as `$translate`'s
`equivalence`, are left as they are: the expected answers mark the R4 and R5 forms with `version:N`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = frozenset({"general", "flat"})
FHIR_VERSION = "4.0.1"
_ENDPOINTS = {
    "expand": "ValueSet/$expand", "validate-code": "ValueSet/$validate-code",
    "cs-validate-code": "CodeSystem/$validate-code", "lookup": "CodeSystem/$lookup",
    "translate": "ConceptMap/$translate", "batch-validate": "ValueSet/$batch-validate-code",
}
_MANAGED_EXTENSIONS = frozenset({
    "http://hl7.org/fhir/StructureDefinition/codesystem-alternate",
    "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/codesystem-label",
    "http://hl7.org/fhir/StructureDefinition/coding-sctdescid",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
    "http://hl7.org/fhir/StructureDefinition/translation",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    "http://hl7.org/fhir/StructureDefinition/valueset-label",
    "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
    "http://hl7.org/fhir/test/CodeSystem/de-multi",
    "http://hl7.org/fhir/test/CodeSystem/en-multi",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-1",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-3",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-4",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-5",
    "http://hl7.org/fhir/test/ValueSet/extensions-bad-supplement",
    "http://hl7.org/fhir/test/ValueSet/simple-all",
    "http://hl7.org/fhir/test/ValueSet/simple-enumerated",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-use",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-status",
    "http://hl7.org/fhir/test/ValueSet/simple-filter-isa",
})
# R5 elements an R4 server carries as extensions; TxTester's R4->R5 conversion turns them back
_R5_IN_R4 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-"


@dataclass
class Outcome:
    suite: str
    test: str
    passed: bool
    message: str = ""


@dataclass
class Tally:
    applicable: Counter[str] = field(default_factory=Counter)
    passed: Counter[str] = field(default_factory=Counter)
    failures: list[Outcome] = field(default_factory=list)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def applicable(test_dir: Path, suite_filter: str | None = None,
               name_filter: str | None = None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(suite, test) pairs run in modes general and flat, as TxTester selects them."""
    cases = load(test_dir / "test-cases.json")
    out = []
    for suite in cases["suites"]:
        if suite.get("disabled") or (suite.get("mode") and suite["mode"] not in MODES):
            continue
        if suite_filter and suite["name"] != suite_filter:
            continue
        for test in suite["tests"]:
            if test.get("disabled") or (test.get("mode") and test["mode"] not in MODES):
                continue
            if test.get("version") and not test["version"].startswith("4"):
                continue
            if name_filter and name_filter not in test["name"]:
                continue
            out.append((suite, test))
    return out


# --- sending -------------------------------------------------------------------------------------

def request_for(test_dir: Path, suite: dict[str, Any], test: dict[str, Any]) -> tuple[str, str, Any]:
    """(method, path, body) the way TxTester sends this test."""
    op = test["operation"]
    if op == "metadata":
        return "GET", "metadata", None
    if op == "term-caps":
        return "GET", "metadata?mode=terminology", None
    body = load(test_dir / test["request"])
    setup = [load(test_dir / s) for s in suite.get("setup", [])]
    profile = load(test_dir / test.get("profile", "parameters-default.json"))
    body.setdefault("parameter", [])
    body["parameter"] += [{"name": "tx-resource", "resource": r} for r in setup]
    body["parameter"] += profile.get("parameter", [])
    return "POST", _ENDPOINTS[op], body


def send(base: str, method: str, path: str, body: Any, lang: str | None, timeout: float = 60) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/fhir+json"}
    if data is not None:
        headers["Content-Type"] = "application/fhir+json"
    if lang:
        headers["Accept-Language"] = lang
    req = urllib.request.Request(f"{base.rstrip('/')}/{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        e.close()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, {"resourceType": "OperationOutcome", "issue": [], "_raw": raw[:200].decode(errors="replace")}


# --- R4 -> R5 and scrubbing as TxTester does ------------------------------------------------------

def to_r5(node: Any) -> Any:
    """The few R4 forms that TxTester's R4->R5 conversion changes."""
    if isinstance(node, list):
        return [to_r5(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in ("extension", "modifierExtension") and isinstance(v, list):
            kept = []
            for ext in v:
                url = ext.get("url", "") if isinstance(ext, dict) else ""
                if url.startswith(_R5_IN_R4):
                    element = url[len(_R5_IN_R4):].rsplit(".", 1)[-1]
                    out.setdefault(element, []).append(_r5_element(ext))
                else:
                    kept.append(to_r5(ext))
            if kept:
                out[k] = kept
        else:
            out[k] = to_r5(v)
    return out


def _r5_element(ext: dict[str, Any]) -> Any:
    value = next((v for k, v in ext.items() if k.startswith("value")), None)
    if value is not None:
        return value
    parts: dict[str, Any] = {}
    for sub in ext.get("extension", []):
        typed = next(((k, x) for k, x in sub.items() if k.startswith("value")), None)
        if sub.get("url") == "value" and typed is not None:  # value[x] keeps its type in R5
            parts[typed[0]] = typed[1]
            continue
        v = typed[1] if typed is not None else _r5_element(sub)
        key = sub.get("url", "")
        if key in parts:
            parts[key] = [*parts[key], v] if isinstance(parts[key], list) else [parts[key], v]
        elif key in ("property", "subProperty", "designation", "contains"):
            parts[key] = [v]
        else:
            parts[key] = v
    return parts


def _managed(url: str) -> bool:
    return not url.startswith(("http:", "https:", "urn:")) or url in _MANAGED_EXTENSIONS


def scrub(node: Any, *, in_compose: bool = False) -> Any:
    if isinstance(node, list):
        return [scrub(x, in_compose=in_compose) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in ("text", "meta") and "resourceType" in node:
            continue
        if k == "diagnostics":
            continue
        if k in ("extension", "modifierExtension") and not in_compose and isinstance(v, list):
            v = [e for e in v if not isinstance(e, dict) or _managed(str(e.get("url", "")))]
            if not v:
                continue
        if k == "issue" and node.get("resourceType") == "OperationOutcome" and isinstance(v, list):
            v = [i for i in v if not (isinstance(i, dict) and "diagnostics" in i and "details" not in i)]
        out[k] = scrub(v, in_compose=in_compose or k == "compose")
    return out


# --- comparing by the suite's rules --------------------------------------------------------------

_TEMPLATES = {
    "$instant$": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                            r"(Z|[+-][0-9]{2}:[0-9]{2})"),
    "$uuid$": re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
    "$id$": re.compile(r"[A-Za-z0-9\-.]{1,64}"),
    "$url$": re.compile(r"(https?|urn):\S+"),
    "$token$": re.compile(r"\S+"),
    "$string$": re.compile(r"\s*\S[\s\S]*"),
    "$date$": re.compile(r"[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?(T[0-9:.+\-Z]+)?"),
    "$semver$": re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.\-]+)?(\+[0-9A-Za-z.\-]+)?"),
}


def string_matches(actual: str, expected: str) -> bool:
    if "$version$" in expected and expected != "$version$":  # a variable within a longer string
        expected = expected.replace("$version$", FHIR_VERSION)
    if not (len(expected) > 1 and expected.startswith("$") and expected.endswith("$")):
        return actual == expected
    body = expected[1:-1]
    if body.startswith("choice:"):
        return actual in body[7:].split("|")
    if body.startswith("fragments:"):
        return all(f.lower() in actual.lower() for f in body[10:].split("|"))
    if body.startswith("external:"):
        cmd = body.split(":", 2)
        return len(cmd) <= 2 or all(f.lower() in actual.lower() for f in cmd[2].split("|"))
    if expected == "$$":
        return True
    if expected == "$version$":
        return actual == FHIR_VERSION
    pattern = _TEMPLATES.get(expected)
    return bool(pattern and pattern.fullmatch(actual))


def is_optional(node: Any) -> bool:
    """An array item the server may leave out, as TxTester's filter reads `$optional$` in the modes run:
    true; "!mode" unless that mode is run; "version:N" when the server's FHIR version is N; "warning:...";
    or a mode that is run."""
    if not isinstance(node, dict) or "$optional$" not in node:
        return False
    token = node["$optional$"]
    if isinstance(token, bool):
        return token
    token = str(token)
    if token.startswith("!"):
        return token[1:] not in MODES
    if token.startswith("version:"):  # "version:4": optional for a server of that FHIR version
        return FHIR_VERSION.startswith(token[8:])
    return token.startswith("warning:") or token in MODES


def compare(expected: Any, actual: Any, path: str = "", *, pattern: bool = False) -> str | None:
    """None when `actual` matches `expected`, else where and how it differs."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {json.dumps(actual)[:80]}"
        optional = set(expected.get("$optional-properties$", []))
        count_only = set(expected.get("$count-arrays$", []))
        for k, v in actual.items():
            if k not in expected:
                if pattern:
                    continue
                return f"{path}: unexpected property {k!r}"
            if k in count_only:
                if not isinstance(v, list) or len(v) != len(expected[k]):
                    return f"{path}.{k}: array count differs"
                continue
            diff = compare(expected[k], v, f"{path}.{k}", pattern=pattern)
            if diff:
                return diff
        for k, v in expected.items():
            # an array of optional items only (the message-id extension TxTester scrubs) may be absent
            if k.startswith("$") or k in optional or (isinstance(v, list) and v and all(map(is_optional, v))):
                continue
            if k not in actual:
                return f"{path}: missing property {k!r}"
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected an array"
        return _compare_unordered(expected, actual, path, pattern)
    if isinstance(expected, str) and isinstance(actual, str):
        return None if string_matches(actual, expected) else f"{path}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, bool) or isinstance(actual, bool):
        return None if expected is actual else f"{path}: expected {expected}, got {actual}"
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return None if expected == actual else f"{path}: expected {expected}, got {actual}"
    if expected == actual:
        return None
    return f"{path}: expected {json.dumps(expected)[:80]}, got {json.dumps(actual)[:80]}"


def _compare_unordered(expected: list[Any], actual: list[Any], path: str, pattern: bool) -> str | None:
    """Each actual item matches a distinct expected item; every required expected item is used."""
    required = [i for i, e in enumerate(expected) if not is_optional(e)]
    if not pattern and (len(actual) > len(expected) or len(actual) < len(required)):
        return f"{path}: {len(actual)} items, expected {len(required)}..{len(expected)}"
    candidates = [[i for i, e in enumerate(expected) if compare(e, a, path, pattern=pattern) is None]
                  for a in actual]
    used: dict[int, int] = {}

    def assign(a: int, seen: set[int]) -> bool:  # bipartite matching (augmenting paths)
        for e in candidates[a]:
            if e in seen:
                continue
            seen.add(e)
            if e not in used or assign(used[e], seen):
                used[e] = a
                return True
        return False

    for a in range(len(actual)):
        if not assign(a, set()) and not pattern:
            why = _nearest(expected, actual[a], path)
            return f"{path}: no expected item matches {json.dumps(actual[a])[:160]}{why}"
    missing = [i for i in required if i not in used]
    if missing:
        return f"{path}: expected item not found: {json.dumps(expected[missing[0]])[:200]}"
    return None


def _nearest(expected: list[Any], item: Any, path: str) -> str:
    """Why the likeliest expected item (same name, or the only one) does not match."""
    same = [e for e in expected if isinstance(e, dict) and isinstance(item, dict) and
            all(e.get(k) == item.get(k) for k in ("name", "code", "severity") if k in item)]
    if len(same) == 1 or len(expected) == 1:
        return f" ({compare((same or expected)[0], item, path)})"
    return ""


def http_ok(expected: str, status: int) -> bool:
    return str(status).startswith(expected[0])


def run_test(base: str, test_dir: Path, suite: dict[str, Any], test: dict[str, Any]) -> Outcome:
    method, path, body = request_for(test_dir, suite, test)
    # a flat server reads the flat answer where the suite has one (two are named but not shipped)
    flat = test.get("response:flat")
    response_file = flat if flat and (test_dir / flat).exists() else test["response"]
    expected = load(test_dir / response_file)
    try:
        status, actual = send(base, method, path, body, test.get("Accept-Language"))
    except OSError as e:
        return Outcome(suite["name"], test["name"], False, f"no answer: {e}")
    if not http_ok(test.get("http-code", "2xx"), status):
        return Outcome(suite["name"], test["name"], False, f"HTTP {status}, expected {test.get('http-code', '2xx')}")
    actual = scrub(to_r5(actual))
    if isinstance(actual, dict):
        actual.pop("_raw", None)
    diff = compare(expected, actual, pattern=test["operation"] in ("metadata", "term-caps"))
    return Outcome(suite["name"], test["name"], diff is None, diff or "")


def run(base: str, test_dir: Path, suite: str | None = None, name: str | None = None) -> Tally:
    tally = Tally()
    for s, t in applicable(test_dir, suite, name):
        result = run_test(base, test_dir, s, t)
        tally.applicable[s["name"]] += 1
        if result.passed:
            tally.passed[s["name"]] += 1
        else:
            tally.failures.append(result)
    return tally


def report(tally: Tally) -> str:
    lines = [f"{'suite':<26}{'applicable':>11}{'passed':>8}{'failed':>8}"]
    for name, n in tally.applicable.items():
        lines.append(f"{name:<26}{n:>11}{tally.passed[name]:>8}{n - tally.passed[name]:>8}")
    total, ok = sum(tally.applicable.values()), sum(tally.passed.values())
    share = 100 * ok / total if total else 0.0
    lines.append(f"{'all':<26}{total:>11}{ok:>8}{total - ok:>8}   ({share:.1f}% passed)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="FHIR base URL, e.g. http://127.0.0.1:8000/fhir")
    ap.add_argument("--tests", type=Path, default=here.parent / "shared" / "peer-tests" / "fhir-tx-ecosystem" / "tests",
                    help="the suite's tests folder (default: ../shared/peer-tests/fhir-tx-ecosystem/tests)")
    ap.add_argument("--suite")
    ap.add_argument("--filter")
    ap.add_argument("--show", type=int, default=0, help="print the first N failures")
    ap.add_argument("--json", type=Path, help="write every failure here")
    a = ap.parse_args(argv)
    tally = run(a.base, a.tests, a.suite, a.filter)
    print(report(tally))
    for f in tally.failures[:a.show]:
        print(f"FAIL {f.suite}/{f.test}: {f.message[:400]}")
    if a.json:
        a.json.write_text(json.dumps([f.__dict__ for f in tally.failures], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
