"""Checks a model's answer must pass before it is stored (issue: rejected and retried when it
names a code that does not exist, drops a section, or contradicts the official descriptor).

`check_answer` returns the sections and the problems found; an answer with any problem is
rejected and the problems are sent back to the model on the next attempt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..record import CodeRecord
from . import validate
from .mentions import code_mentions
from .prompt import grounding
from .quality import CODER_SECTIONS, PLACEHOLDERS, quality_problems, tagged
from .sections import Section

_STOP = frozenset("a an and are as at be by for from in into is it its of on or other the to with without "
                  "unspecified specified not elsewhere classified nos nec due than".split())


def parse_json_answer(text: str) -> Any:
    """The JSON object in a model's answer; tolerates code fences and words around it."""
    s = text.strip()
    fence = re.match(r"^```(?:json)?\s*(.*?)\s*```$", s, re.S)
    if fence:
        s = fence.group(1)
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        start, end = s.find("{"), s.rfind("}")
        if start >= 0 and end > start:
            return json.loads(s[start:end + 1])  # a JSONDecodeError here is the caller's "not JSON"
        raise


def check_answer(text: str, sections: Sequence[Section], schema: Mapping[str, Any], code_data: CodeRecord,
                 code_exists: Callable[[str], bool],
                 grounded: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(sections as stored, problems). Problems empty = accepted.

    `schema` is the validation schema (with length limits); `grounded` the official facts the
    model was given (prompt.grounding), which drug names and doses are checked against."""
    try:
        answer = parse_json_answer(text)
    except json.JSONDecodeError as e:
        return [], tagged("json", [f"the answer is not valid JSON ({e.msg} at character {e.pos})"])
    problems = validate.errors(answer, schema)
    if problems:
        return [], tagged("schema", [f"does not match the schema: {p}" for p in problems[:10]])
    out = []
    for s in sections:
        value = answer[s.key]
        items = [str(x).strip() for x in value] if isinstance(value, list) else None
        body = "\n".join(items) if items is not None else str(value).strip()
        if _placeholder(body) or (items is not None and all(_placeholder(i) for i in items)):
            problems += tagged("empty", [f"section {s.key!r} is empty"])
        token = _TEMPLATE_TOKEN.search(body)
        if token:
            problems += tagged("template_token", [f"section {s.key!r} contains a chat-template token"
                                                  f" (“{token.group(0)}”); write plain text"])
        out.append({"key": s.key, "title": s.title, "text": body, **({"items": items} if items is not None else {})})
    problems += tagged("invented_code", invented_codes(out, code_data, code_exists))
    problems += contradictions(code_data, out)
    problems += quality_problems(code_data, grounding(code_data) if grounded is None else grounded, out)
    return out, problems


# A chat template's control tokens written into the text (a model that does not know where to stop):
# "…<|im_end|>" from Gemma 3 270M, "<end_of_turn>", "</s>".
_TEMPLATE_TOKEN = re.compile(r"<\|[a-z_]+\|>|</?(?:start_of_turn|end_of_turn|s|eos|bos)>", re.I)


def _placeholder(text: str) -> bool:
    """Nothing written: empty, a placeholder ("N/A", "…"), or only dots and template tokens."""
    bare = _TEMPLATE_TOKEN.sub("", text).strip()
    return bare.lower() in PLACEHOLDERS or not re.search(r"[A-Za-z0-9]", bare)


def invented_codes(sections: Sequence[Mapping[str, Any]], code_data: CodeRecord,
                   code_exists: Callable[[str], bool]) -> list[str]:
    """Codes the text names that exist in no loaded system."""
    known = {code_data.code.upper()}
    bad: list[str] = []
    for s in sections:
        for token in code_mentions(s["text"]):
            if token.upper() in known or token in bad:
                continue
            if code_exists(token):
                known.add(token.upper())
            else:
                bad.append(token)
    return [f"names code {t} which does not exist; name only codes given in the official data" for t in bad]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 2}


def contradictions(code_data: CodeRecord, sections: Sequence[Mapping[str, Any]]) -> list[str]:
    """Statements that contradict the official descriptor, found by named rules."""
    title = str(code_data.title)
    first = sections[0]["text"] if sections else ""
    everything = "\n".join(s["text"] for s in sections)
    problems = tagged("laterality", _laterality(title, everything))
    patient = "\n".join(s["text"] for s in sections if s["key"] not in CODER_SECTIONS)
    problems += tagged("other_site", _other_site(title, patient))
    for name, rule in (("type_number", _type_number), ("with_without", _with_without),
                       ("exclusive_terms", _exclusive_terms)):
        problems += tagged(name, rule(title, first))
    if first and not _words(title) & _words(first) and not _synonym_overlap(code_data, first):
        problems += tagged("off_topic", [f"section {sections[0]['key']!r} does not mention what the official"
                                         f" descriptor names (“{title}”)"])
    return problems


def _synonym_overlap(code_data: CodeRecord, text: str) -> bool:
    terms = [*code_data.synonyms, *(t.term for t in code_data.index_terms),
             *(n.text for n in code_data.notes if n.type == "inclusion")]
    words = _words(text)
    return any(_words(t) & words for t in terms)


def _laterality(title: str, text: str) -> list[str]:
    """A right-sided code described as left-sided (or the reverse), anywhere in the text."""
    t = title.lower()
    sides = [s for s in ("right", "left") if re.search(rf"\b{s}\b", t)]
    if len(sides) != 1 or re.search(r"\bbilateral\b", t):
        return []
    side, other = sides[0], "left" if sides[0] == "right" else "right"
    nouns = sorted(_words(t) - {"right", "left", "bilateral"}, key=len, reverse=True)
    if not nouns:
        return []
    body = "|".join(re.escape(n) for n in nouns)
    if re.search(rf"\b{other}(?:[- ]sided)?\s+(?:\w+\s+){{0,2}}(?:{body})", text.lower()):
        return [f"describes the {other} side; the official descriptor is for the {side} side"]
    return []


def _other_site(title: str, text: str) -> list[str]:
    """The descriptor's condition said of another body part: "deep endometriosis of the vaginal
    peritoneum" as a symptom of N80.532 "Deep endometriosis of the cecum" (SmolLM2 135M). Only for a
    condition named in two words or more: "fracture of the hip" is the same thing as "fracture of
    neck of femur" in other words."""
    m = re.match(r"([a-z][a-z0-9 ,-]*?)\s+of\s+(.+)", title.lower())
    if not m or len(_words(m.group(1))) < 2:
        return []
    own = set(re.findall(r"[a-z0-9]+", title.lower()))  # "l2" too: a level is a short word
    pattern = rf"\b{re.escape(m.group(1))} +of +(?:the +|a +|an +)?([a-z0-9]+(?: +[a-z0-9]+)?)"
    for found in re.finditer(pattern, text.lower()):
        first = found.group(1).split()[0]
        if first not in own and first not in _STOP:
            return [f"says “{m.group(1)} of {found.group(1)}”; the official descriptor is for {m.group(2)}"]
    return []


def _type_number(title: str, text: str) -> list[str]:
    official = set(re.findall(r"\btype\s+([0-9]+|i{1,3}|iv)\b", title.lower()))
    said = set(re.findall(r"\btype\s+([0-9]+|i{1,3}|iv)\b", text.lower()))
    if official and said and not official & said:
        return [f"says type {', '.join(sorted(said))}; the official descriptor says type {', '.join(sorted(official))}"]
    return []


def _with_without(title: str, text: str) -> list[str]:
    """"without complications" in the descriptor, "with complications" in the summary (or the reverse)."""
    problems = []
    t, x = title.lower(), text.lower()
    for word, opposite in (("without", "with"), ("with", "without")):
        for m in re.finditer(rf"\b{word}\s+([a-z]+)", t):
            obj = m.group(1)
            if obj in _STOP:
                continue
            if re.search(rf"\b{opposite}\s+{obj}\b", x) and not re.search(rf"\b{word}\s+{obj}\b", x):
                problems.append(f"says “{opposite} {obj}”; the official descriptor says “{word} {obj}”")
    return problems


# Terms of which a descriptor holds one; the summary naming another one instead contradicts it.
_EXCLUSIVE: tuple[tuple[str, ...], ...] = (
    ("initial encounter", "subsequent encounter", "sequela"),
    ("malignant", "benign"),
    # ICD-10-PCS approaches ("percutaneous approach" never matches inside "percutaneous endoscopic approach")
    ("open approach", "percutaneous approach", "percutaneous endoscopic approach", "external approach",
     "via natural or artificial opening approach", "via natural or artificial opening endoscopic approach"),
)


def _exclusive_terms(title: str, text: str) -> list[str]:
    t, x = title.lower(), text.lower()
    problems = []
    for group in _EXCLUSIVE:
        official = [g for g in group if re.search(rf"\b{g}\b", t)]
        said = [g for g in group if re.search(rf"\b{g}\b", x)]
        if len(official) == 1 and said and official[0] not in said:
            problems.append(f"says “{said[0]}”; the official descriptor says “{official[0]}”")
    return problems
