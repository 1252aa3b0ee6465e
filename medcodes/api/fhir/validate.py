"""$validate-code for CodeSystem and ValueSet: code + system, Coding or CodeableConcept; display checking
(lenient or not), inactive and abstract codes, versions; the answer names the code, system, version
and display it settled on and lists every issue found."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from .concepts import CodeSystemView, Concept, is_wildcard, present_versions, version_key, version_matches
from .context import Context
from .dated import service_date, validate_on
from .indexed import IndexCodeSystem
from .outcome import Issue, TxError, fail, not_found
from .params import OperationParams
from .resources import parameters
from .status import STANDARDS_STATUS, VALUESET_DEPRECATED
from .valuesets import Evaluator, vs_label


@dataclass
class Coding:
    system: str | None
    code: str
    version: str | None = None
    display: str | None = None
    path: str = ""  # "" for code/system/display parameters, "Coding", "CodeableConcept.coding[0]"

    def at(self, element: str) -> str:
        return f"{self.path}.{element}" if self.path else element


@dataclass
class Checked:
    """One coding checked: whether it is valid, what was found, what to report."""

    coding: Coding
    valid: bool = False
    cs: CodeSystemView | None = None
    concept: Concept | None = None
    issues: list[Issue] = field(default_factory=list)
    unknown_system: str | None = None
    member: bool = False  # in the value set (or, for a code system, a code of it)
    fallback_version: str | None = None  # the version to report when the one asked for is not known
    unknown_elsewhere: str | None = None  # an unknown system the value set does not name


def codings(p: OperationParams) -> tuple[list[Coding], dict[str, Any] | None, str]:
    """The codings to check, the CodeableConcept given (echoed back) and which form was used."""
    cc = p.complex("codeableConcept")
    if cc is not None:
        items = [c for c in cc.get("coding") or [] if isinstance(c, dict)]
        out = [Coding(c.get("system"), str(c.get("code") or ""), c.get("version"), c.get("display"),
                      f"CodeableConcept.coding[{i}]") for i, c in enumerate(items)]
        if not out:
            raise fail(400, "the CodeableConcept has no coding to validate", "invalid")
        return out, cc, "codeableConcept"
    c = p.coding("coding")
    if c is not None:
        if not c.get("code"):
            raise fail(400, "the Coding has no code to validate", "invalid")
        return [Coding(c.get("system"), c["code"], c.get("version"), c.get("display"), "Coding")], None, "coding"
    code = p.text("code")
    if not code:
        raise fail(400, "Unable to find code to validate (looked for coding | codeableConcept | code+system | "
                        "code+inferSystem in parameters", "invalid", message_id="NO_CODE_TO_VALIDATE")
    system = p.text("system") or (None if p.has("url") and not p.has("system") else p.text("url"))
    return [Coding(system, code, p.text("systemVersion") or p.text("version"), p.text("display"))], None, "code"


def validate_code_system(ctx: Context, p: OperationParams) -> dict[str, Any]:
    date = service_date(p)  # checked before any lookup, so a bad date is a 400 even for an unknown code
    items, cc, _ = codings(p)
    supplied = p.resource("codeSystem")
    if supplied is not None:
        ctx.add(supplied)
    url = p.text("url")
    for item in items:
        if url and not item.system:
            item.system = url
        if not item.system:
            raise fail(400, "a system (url or system parameter) is required to validate against a code system",
                       "required")
    if date and len(items) == 1:
        cs = ctx.code_system(items[0].system or "", items[0].version)
        if isinstance(cs, IndexCodeSystem):
            return validate_on(cs, items[0].code, date, items[0].display)
    checked = [check_in_system(ctx, item, p) for item in items]
    return answer(ctx, checked, cc, any(c.valid for c in checked), [], p)


def validate_value_set(ctx: Context, p: OperationParams) -> dict[str, Any]:
    vs = value_set_param(ctx, p)
    items, cc, _ = codings(p)
    ctx.require_supplements([*p.all_text("useSupplement"), *ctx.value_set_supplements(vs)])
    try:
        return _validate_value_set(ctx, p, vs, items, cc)
    except TxError as e:
        if e.status != 404:
            raise
        # a value set the one asked for includes is missing: the code cannot be in it, so say so
        texts = "; ".join(sorted(i.text for i in e.issues))
        return parameters({"name": "codeableConcept", "valueCodeableConcept": cc} if cc is not None else None,
                          {"name": "issues", "resource": {"resourceType": "OperationOutcome",
                                                          "issue": [i.json() for i in e.issues]}},
                          ("message", texts), ("result", False))


def _validate_value_set(ctx: Context, p: OperationParams, vs: dict[str, Any], items: list[Coding],
                        cc: dict[str, Any] | None) -> dict[str, Any]:
    ev = Evaluator(ctx, vs)
    ev.prepare()  # a cycle among the included value sets fails here, before any code is checked
    checked: list[Checked] = []
    extra: list[Issue] = []
    for item in items:
        if not item.system and item.path:  # a Coding without a system: no meaning to check
            extra.append(Issue("warning", "invalid", "Coding has no system. A code with no system has no defined "
                               "meaning, and it cannot be validated. A system should be provided", "invalid-data",
                               item.path, "Coding_has_no_system__cannot_validate"))
            extra.append(_not_in(item, vs))
            checked.append(Checked(item))
            continue
        if not item.system:
            candidates = _infer_systems(ev, item)
            if len(candidates) != 1:
                where = "#" + item.code
                text = f"The System URI could not be determined for the code '{item.code}' in the ValueSet " \
                       f"'{vs_label(vs)}'"
                if candidates:
                    extra.append(Issue("error", "not-found", f"{text}: value set expansion has multiple matches: "
                                       f"[{', '.join(candidates)}]", "cannot-infer", item.at("code"),
                                       "Unable_to_resolve_system__value_set_has_multiple_matches"))
                else:
                    extra.append(Issue("error", "not-found", text, "cannot-infer", item.at("code"),
                                       "UNABLE_TO_INFER_CODESYSTEM"))
                extra.append(Issue("error", "code-invalid", f"The provided code '{where}' was not found in the value "
                                   f"set '{vs_label(vs)}'", "not-in-vs", item.at("code"),
                                   "None_of_the_provided_codes_are_in_the_value_set_one"))
                checked.append(Checked(item))
                continue
            item.system = candidates[0]
        checked.append(_check_in_value_set(ctx, ev, item, p))
    valid = any(c.valid for c in checked)
    extra += [n.issue for n in ev.all_notes()]
    # a CodeableConcept none of whose codings could be judged (their system is not known) is not
    # said to have no valid coding: that is not known either
    if cc is not None and not any(c.member for c in checked) and not all(c.unknown_system for c in checked):
        extra.append(Issue("error", "code-invalid", f"No valid coding was found for the value set '{vs_label(vs)}'",
                           "not-in-vs", message_id="TX_GENERAL_CC_ERROR_MESSAGE"))
    return answer(ctx, checked, cc, valid, extra, p)


def value_set_param(ctx: Context, p: OperationParams) -> dict[str, Any]:
    if p.has("valueSet"):
        inline = p.resource("valueSet")
        if inline is None or inline.get("resourceType") != "ValueSet":
            raise fail(400, "the valueSet parameter must be a ValueSet resource", "invalid")
        return inline
    url = p.text("url") or p.text("context")
    if not url:
        raise fail(400, "a value set is required: give url (or a valueSet resource)", "required")
    version = p.text("valueSetVersion")
    vs = ctx.value_set(url, version)
    if vs is None:
        label = f"{url}|{version}" if version else url
        raise not_found(f"A definition for the value Set '{label}' could not be found", "Unable_to_resolve_value_Set_")
    return vs


def _infer_systems(ev: Evaluator, item: Coding) -> list[str]:
    """The systems of the value set that hold the code (one: the code's system can be inferred)."""
    return [system for system in ev.systems() if ev.find(system, item.code) is not None]


def _resolve(ctx: Context, item: Coding) -> tuple[CodeSystemView | None, list[Issue]]:
    system = item.system or ""
    cs = ctx.code_system(system, item.version)
    if cs is not None:
        problem = ctx.check_version(system, cs.version)
        return cs, [problem] if problem else []
    if not ctx.known_system(system):
        return None, [_unknown_system(item, ctx)]
    return None, [_unknown_version(ctx, item, item.version or "")]


def check_in_system(ctx: Context, item: Coding, p: OperationParams) -> Checked:
    out = Checked(item)
    cs, issues = _resolve(ctx, item)
    out.issues += issues
    if cs is None:
        out.unknown_system = item.system if not ctx.known_system(item.system or "") else \
            f"{item.system}|{item.version}"
        return out
    out.cs = cs
    concept = cs.get(item.code)
    if concept is None:
        out.issues.append(_unknown_code(cs, item))
        return out
    out.concept = concept
    out.member = True
    out.valid = not any(i.severity == "error" for i in out.issues)
    _check_concept(ctx, out, p)
    return out


def _check_in_value_set(ctx: Context, ev: Evaluator, item: Coding, p: OperationParams) -> Checked:
    system = item.system or ""
    vs_version = _include_version(ctx, ev, item)
    out = Checked(item)
    where = system + (f"|{item.version}" if item.version else "") + "#" + item.code
    if item.display:
        where += f" ('{item.display}')"
    not_in = Issue("error", "code-invalid", f"The provided code '{where}' was not found in the value set "
                   f"'{vs_label(ev.vs)}'", "not-in-vs", item.at("code"),
                   "None_of_the_provided_codes_are_in_the_value_set_one")
    if item.path.startswith("CodeableConcept"):
        not_in = Issue("information", "code-invalid", not_in.text, "this-code-not-in-vs", item.at("code"),
                       not_in.message_id, located=False)
    if not ctx.known_system(system):
        if system in ev.systems():  # the value set names a system the server lacks: membership is unknown
            out.unknown_system = system
            out.issues.append(_unknown_system(item))
        else:  # a system the value set does not include: the code is not in it, whatever the system is
            unknown = _unknown_system(item, ctx, quoted=False)
            out.issues += [unknown, not_in]
            if unknown.message_id == "UNKNOWN_CODESYSTEM":  # not a value set named as a system
                out.unknown_elsewhere = system
        return out
    cs = _version_for_value_set(ctx, out, vs_version)
    if cs is None:
        return out
    out.cs = cs
    concept = cs.get(item.code)
    membership_only = p.boolean("valueset-membership-only", False)
    if concept is None:
        if membership_only:  # only whether the value set holds it: an unknown code simply is not in it
            out.issues.append(replace(not_in, located=False))
            return out
        if cs.content != "complete":  # a fragment: the code may be in a part of the system not held here
            out.issues.append(_unknown_code(cs, item))
            out.valid = out.member = not any(i.severity == "error" for i in out.issues)
            return out
        # a code its system does not have: the answers name where by expression only
        out.issues += [replace(not_in, located=False), _unknown_code(cs, item)]
        return out
    out.concept = concept
    _normalised(out, cs, concept)
    member = ev.find(cs.url, concept.code, cs.version)
    active_only = ev.active_only or p.boolean("activeOnly", False)
    if member is not None and concept.inactive and active_only:
        member = None  # only active codes are members when activeOnly is asked for
    if member is None:
        if concept.inactive and active_only:
            out.issues.append(Issue("error", "business-rule", f"The concept '{concept.code}' is valid but is not "
                                    "active", "code-rule", item.at("code"), "STATUS_CODE_WARNING_CODE"))
        out.issues.append(not_in)
        if not membership_only:
            _check_concept(ctx, out, p, display_severity="warning")
        return out
    out.member = True
    if member.cs.version == cs.version:  # the value set's own display, if it gives one
        out.concept = member.concept
    if any(e.get("url") in (STANDARDS_STATUS, VALUESET_DEPRECATED) for e in member.concept.vs_extensions):
        out.issues.append(Issue("warning", "business-rule", f"The presence of the concept '{concept.code}' in the "
                                f"system '{cs.url}' in the value set {vs_label(ev.vs)} is marked with a status of "
                                "deprecated and its use should be reviewed", "code-comment", item.at("code"),
                                "CONCEPT_DEPRECATED_IN_VALUESET", in_message=False))
    out.valid = not any(i.severity == "error" for i in out.issues)
    _check_concept(ctx, out, p, value_set=ev.vs)
    return out


def _normalised(out: Checked, cs: CodeSystemView, concept: Concept) -> None:
    """A code given in another form than the system's own: case (in a case-insensitive system), or the
    dots and spacing of an indexed code ("E119" for "E11.9")."""
    given = out.coding.code
    if concept.code == given:
        return
    label = f"{cs.url}|{cs.version}" if cs.version else cs.url
    if concept.code.casefold() == given.casefold():
        text = (f"The code '{given}' differs from the correct code '{concept.code}' by case. Although the code "
                f"system '{label}' is case insensitive, implementers are strongly encouraged to use the correct "
                "case anyway")
        out.issues.append(Issue("information", "business-rule", text, "code-rule", out.coding.at("code"),
                                "CODE_CASE_DIFFERENCE", in_message=False))
    else:
        out.issues.append(Issue("information", "business-rule", f"The code '{given}' is written '{concept.code}' "
                                f"in the code system '{label}'", "code-rule", out.coding.at("code"),
                                in_message=False))


def _version_for_value_set(ctx: Context, out: Checked, vs_version: str | None) -> CodeSystemView | None:
    """The version of the coding's system the value set is checked in, with the issues a coding whose
    version differs from the value set's (or is not known) raises.

    The version is the forced one, else the include's, else a default or checked one; a coding's own
    version wins where it only adds detail to that ("1.0" -> "1.0.2"), or where nothing else names one
    and the coding's version is loaded."""
    item = out.coding
    system = item.system or ""
    wanted = item.version
    result = ctx.determine_version(system, vs_version)
    if wanted:
        if result and wanted != result and more_detailed(result, wanted):
            result = wanted
        if not result and any(v == wanted or more_detailed(wanted, v) for v in ctx.versions(system)):
            result = wanted
        cs = ctx.code_system(system, result)
        if cs is not None and cs.version != wanted and not more_detailed(wanted, cs.version):
            severity = "error"
            if not result:
                severity = "warning"
                text = (f"The code system '{system}' version '{cs.version}' for the versionless include in the "
                        f"ValueSet include is different to the one in the value ('{wanted}')")
                mid = "VALUESET_VALUE_MISMATCH_DEFAULT"
            elif result != vs_version:
                text = (f"The code system '{system}' version '{result}' resulting from the version "
                        f"'{vs_version or ''}' in the ValueSet include is different to the one in the value "
                        f"('{wanted}')")
                mid = "VALUESET_VALUE_MISMATCH_CHANGED"
            else:
                text = (f"The code system '{system}' version '{vs_version}' in the ValueSet include is different to "
                        f"the one in the value ('{wanted}')")
                mid = "VALUESET_VALUE_MISMATCH"
            out.issues.append(Issue(severity, "invalid", text, "vs-invalid", item.at("version"), mid))
            if ctx.code_system(system, wanted, exact=True) is None:
                out.issues.append(_unknown_version(ctx, item, wanted))
                out.unknown_system = f"{system}|{wanted}"
        elif cs is None and result != wanted:
            text = (f"The code system '{system}' version '{result}' in the ValueSet include is different to the one "
                    f"in the value ('{wanted}')")
            out.issues.append(Issue("error", "invalid", text, "vs-invalid", item.at("version"),
                                    "VALUESET_VALUE_MISMATCH"))
    else:
        cs = ctx.code_system(system, result)
    if cs is None:
        missing = result or ""
        issue = _unknown_version(ctx, item, missing) if missing else _unknown_system(item)
        if issue not in out.issues:
            out.issues.append(issue)
        out.unknown_system = f"{system}|{missing}" if missing else system
        return None
    problem = ctx.check_version(system, cs.version)
    if problem is not None:
        out.issues.append(replace(problem, location=item.at("version")))
    return cs


def more_detailed(general: str | None, specific: str | None) -> bool:
    """`specific` fits the pattern `general` ("1.0.x" -> "1.0.2"); a version that merely starts the same
    ("1" -> "1.0.0") is another version."""
    if not general or not specific or general == specific:
        return False
    return is_wildcard(general) and version_matches(general, specific)


def _unknown_system(item: Coding, ctx: Context | None = None, *, quoted: bool = True) -> Issue:
    supplement = ctx.supplement(item.system) if ctx is not None and item.system else None
    if supplement is not None:
        label = f"{supplement.get('url')}|{supplement['version']}" if supplement.get("version") else item.system
        return Issue("error", "invalid", f"CodeSystem {label} is a supplement, so can't be used as a value in "
                     f"{item.at('system')}", "invalid-data", item.at("system"), "CODESYSTEM_CS_NO_SUPPLEMENT")
    if ctx is not None and item.system and ctx.value_set(item.system) is not None:
        return Issue("error", "invalid", f"The Coding references a value set, not a code system ('{item.system}')",
                     "invalid-data", item.at("system"), "Terminology_TX_System_ValueSet2")
    name = f"'{item.system}'" if quoted else item.system
    return Issue("error", "not-found", f"A definition for CodeSystem {name} could not be found, so the code "
                 "cannot be validated", "not-found", item.at("system"), "UNKNOWN_CODESYSTEM")


def _unknown_version(ctx: Context, item: Coding, version: str) -> Issue:
    return Issue("error", "not-found", f"A definition for CodeSystem '{item.system}' version '{version}' could not be "
                 "found, so the code cannot be validated. Valid versions: "
                 f"{present_versions(ctx.versions(item.system or ''))}",
                 "not-found", item.at("system"), "UNKNOWN_CODESYSTEM_VERSION")


def _include_version(ctx: Context, ev: Evaluator, item: Coding) -> str | None:
    """The version the value set includes the coding's system in: the one the coding names if several
    are included, else the newest that has the code (None when an include takes any version)."""
    system = item.system or ""
    versions: list[str] = []
    for inc in ev.includes:
        if inc.get("system") == system:
            if not isinstance(inc.get("version"), str):
                return None
            versions.append(str(inc["version"]))
    if not versions:
        return None
    if item.version and item.version in versions:
        return item.version
    ordered = sorted(set(versions), key=version_key, reverse=True)
    having = []
    for v in ordered:
        cs = ctx.code_system(system, v)
        concept = cs.get(item.code) if cs is not None else None
        # the include of that version must hold the code, not only its code system
        if cs is not None and concept is not None and any(
                inc.get("system") == system and inc.get("version") == v and ev.holds(inc, system, item.code, v)
                for inc in ev.includes):
            if not item.display or item.display in [d for d, _ in displays_for_all(cs, concept)]:
                return v
            having.append(v)
    return (having or ordered)[0]


def _unknown_code(cs: CodeSystemView, item: Coding) -> Issue:
    version = f" version '{cs.version}'" if cs.version else ""
    if cs.content == "fragment":
        return Issue("warning", "code-invalid", f"Unknown Code '{item.code}' in the CodeSystem '{cs.url}'{version} - "
                     "note that the code system is labeled as a fragment, so the code may be valid in some other "
                     "fragment", "invalid-code", item.at("code"), "UNKNOWN_CODE_IN_FRAGMENT", in_message=False)
    return Issue("error", "code-invalid", f"Unknown code '{item.code}' in the CodeSystem '{cs.url}'{version}",
                 "invalid-code", item.at("code"), "Unknown_Code_in_Version")


def _not_in(item: Coding, vs: dict[str, Any], *, located: bool = True) -> Issue:
    where = (item.system or "") + (f"|{item.version}" if item.version else "") + "#" + item.code
    if item.display:
        where += f" ('{item.display}')"
    return Issue("error", "code-invalid", f"The provided code '{where}' was not found in the value set "
                 f"'{vs_label(vs)}'", "not-in-vs", item.at("code"),
                 "None_of_the_provided_codes_are_in_the_value_set_one", located=located)


def _check_concept(ctx: Context, out: Checked, p: OperationParams, display_severity: str | None = None,
                   value_set: dict[str, Any] | None = None) -> None:
    concept, item = out.concept, out.coding
    assert concept is not None and out.cs is not None
    if concept.inactive or concept.status in ("retired", "deprecated", "withdrawn"):
        status = concept.status or "inactive"
        state = status if status == "inactive" else f"{status} and inactive" if concept.inactive else status
        if concept.inactive:
            out.issues.append(Issue("warning", "business-rule", f"The concept '{concept.code}' has a status of {state} "
                                    "and its use should be reviewed", "code-comment", item.path or "Coding",
                                    "INACTIVE_CONCEPT_FOUND"))
        else:  # deprecated: still valid, to be reviewed
            out.issues.append(Issue("warning", "business-rule", f"The concept '{concept.code}' is {status} and its "
                                    "use should be reviewed", "code-comment", item.at("code"),
                                    "DEPRECATED_CONCEPT_FOUND"))
    if concept.abstract and p.text("abstract") == "false":
        out.valid = False
        out.issues.append(Issue("error", "business-rule", f"Code '{out.cs.url}#{concept.code}' is abstract, and not "
                                "allowed in this context", "code-rule", item.at("code"), "ABSTRACT_CODE_NOT_ALLOWED"))
        if value_set is not None:  # an abstract code is not a member of the value set where it is not allowed
            out.issues.append(_not_in(item, value_set, located=False))
    if item.display:
        lenient = display_severity == "warning" or p.boolean("lenient-display-validation", False)
        issue = check_display(ctx, out.cs, concept, item, lenient)
        if issue is not None:
            out.issues.append(issue)
            if issue.severity == "error":
                out.valid = False


_WS = re.compile(r"\s+")


def displays_for(ctx: Context, cs: CodeSystemView, concept: Concept) -> list[tuple[str, str | None]]:
    """(display, language) pairs a concept may be called, in the requested language when one is given."""
    out = displays_for_all(cs, concept)
    wanted = _languages(ctx.display_language)
    if wanted:
        # a display of no stated language (a code system without one) serves any language
        return [(v, lang) for v, lang in out if not lang or any(lang.lower().startswith(w) for w in wanted)]
    return out


def _languages(header: str | None) -> list[str]:
    if not header:
        return []
    out = []
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag and tag != "*":
            out.append(tag)
    return out


def check_display(ctx: Context, cs: CodeSystemView, concept: Concept, item: Coding, lenient: bool) -> Issue | None:
    given = item.display or ""
    all_names = [v for v, _ in displays_for_all(cs, concept)]
    choices = displays_for(ctx, cs, concept)
    names = [v for v, _ in choices]
    if given in names:
        return None
    if not choices and given in all_names:
        if not ctx.display_language or cs.language is None:
            return None
        return Issue("information", "invalid", f"There are no valid display names found for the code "
                     f"{cs.url}#{concept.code} for language(s) '{ctx.display_language}'. The display is '{given}' "
                     "which is a valid display for the default language", "invalid-display", item.at("display"),
                     "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK")
    if given.casefold() in {n.casefold() for n in names} and not cs.case_sensitive:
        return None
    severity = "warning" if lenient else "error"
    langs = ctx.display_language or "--"
    shown = choices or displays_for_all(cs, concept)
    listed = " or ".join(f"'{v}' ({lang})" if lang else f"'{v}'" for v, lang in _unique(shown))
    count = len(_unique(shown))
    valid = f"Valid display is {listed}" if count == 1 else f"Valid display is one of {count} choices: {listed}"
    norm = _WS.sub(" ", given.strip())
    if norm in names or norm in all_names:
        return Issue(severity, "invalid", f"Wrong whitespace in Display Name '{given}' for {cs.url}#{concept.code}. "
                     f"{valid} (for the language(s) '{langs}')", "invalid-display", item.at("display"),
                     "Display_Name_WS_for__should_be_one_of__instead_of")
    if not choices and ctx.display_language:
        return Issue(severity, "invalid", f"Wrong Display Name '{given}' for {cs.url}#{concept.code}. There are no "
                     f"valid display names found for language(s) '{langs}'. Default display is '{concept.display}'",
                     "invalid-display", item.at("display"), "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR")
    return Issue(severity, "invalid", f"Wrong Display Name '{given}' for {cs.url}#{concept.code}. {valid} (for the "
                 f"language(s) '{langs}')", "invalid-display", item.at("display"),
                 "Display_Name_for__should_be_one_of__instead_of")


def displays_for_all(cs: CodeSystemView, concept: Concept) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    if concept.display:
        out.append((concept.display, cs.language))
    for d in _designations(cs, concept):
        if isinstance(d.get("value"), str):
            out.append((d["value"], d.get("language") or cs.language))
    return out


def _designations(cs: CodeSystemView, concept: Concept) -> list[dict[str, Any]]:
    """A concept's designations; an indexed code's (short title, synonyms) are read when asked for."""
    if isinstance(cs, IndexCodeSystem):
        return cs.designations(concept.code)
    return concept.designations


def _unique(items: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    for x in items:
        if x not in seen:
            seen.append(x)
    return seen


def answer(ctx: Context, checked: list[Checked], cc: dict[str, Any] | None, valid: bool, extra: list[Issue],
           p: OperationParams) -> dict[str, Any]:
    """The Parameters of a $validate-code answer."""
    issues = [*extra, *(i for c in checked for i in c.issues)]
    issues = _dedupe(issues)
    valid = valid and not any(i.severity == "error" for i in issues)  # any error (one coding of several) fails
    best = (next((c for c in checked if c.valid), None) or next((c for c in checked if c.member), None)
            or next((c for c in checked if c.concept), None))
    if cc is None and best is None and checked:
        best = checked[0]
    out: list[tuple[str, Any] | dict[str, Any] | None] = []
    if cc is not None:
        out.append({"name": "codeableConcept", "valueCodeableConcept": cc})
    # a CodeableConcept names the coding it settled on only when one is in the value set
    if best is not None and (cc is None or best.member):
        out.append({"name": "code", "valueCode": best.coding.code})
        if best.concept is not None and best.concept.code != best.coding.code:
            out.append({"name": "normalized-code", "valueCode": best.concept.code})
        if best.coding.system:
            out.append({"name": "system", "valueUri": best.coding.system})
        version = best.fallback_version or (best.cs.version if best.cs is not None else None)
        if version:
            out.append(("version", version))
        if best.concept is not None:
            display = _display(ctx, best)
            if display:
                out.append(("display", display))
            if best.concept.inactive:
                out.append(("inactive", True))
            if best.concept.status and (best.concept.inactive or best.concept.status in ("deprecated", "withdrawn")):
                out.append({"name": "status", "valueCode": best.concept.status})
    for c in checked:
        if c.unknown_system:
            out.append({"name": "x-caused-by-unknown-system", "valueCanonical": c.unknown_system})
        elif c.unknown_elsewhere:
            out.append({"name": "x-unknown-system", "valueCanonical": c.unknown_elsewhere})
    if issues:
        out.append({"name": "issues", "resource": {"resourceType": "OperationOutcome",
                                                   "issue": [i.json() for i in issues]}})
    # the message names what is wrong with the code; a value set's version note is left to the issues
    # when there is an error to tell
    errors = any(i.severity == "error" for i in issues)
    texts = sorted({i.text for i in issues if i.in_message and (
        i.severity == "error" or (i.severity == "warning" and not (errors and i.tx == "vs-invalid")) or
        (i.severity == "information" and i.tx == "invalid-display"))})
    if texts:
        out.append(("message", "; ".join(texts)))
    out.append(("result", valid))
    return parameters(*out)


def _display(ctx: Context, c: Checked) -> str | None:
    assert c.concept is not None and c.cs is not None
    choices = displays_for(ctx, c.cs, c.concept)
    if choices and ctx.display_language:
        return choices[0][0]
    return c.concept.display


def _dedupe(issues: list[Issue]) -> list[Issue]:
    out: list[Issue] = []
    for i in issues:
        if i not in out:
            out.append(i)
    return out
