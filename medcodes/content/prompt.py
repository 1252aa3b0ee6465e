"""The prompt and the answer schema for generated explainer sections.

The prompt is grounded in the official data only: descriptor, hierarchy, notes, axis definitions,
HCPCS coverage and BETOS, crosswalk titles. Bump PROMPT_VERSION whenever the wording or the
grounding changes: stored text is keyed by it, and `content generate` regenerates codes whose
text was made with another version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .facts import crosswalk_items, explainer_facts, note_lines
from .sections import SECTION_SETS, Section, section_set

PROMPT_VERSION = "explainer-2"
# prompt_fingerprint() of the prompt PROMPT_VERSION names; a test fails when the prompt changes
# without a new version, so stored text never claims a prompt it was not made with.
PROMPT_FINGERPRINT = "18a2adbe3b39a86b"

SYSTEM_PROMPT = """You write plain-language explanations of medical codes for patients, students and \
medical coders. Write at the level of a good patient leaflet: short sentences, common words, medical \
terms explained once. Stay consistent with the official data you are given: never contradict the \
official descriptor (body side, type, with/without, encounter, benign/malignant, approach). Describe \
what is usual, not what will happen to a particular person; no dosages, no prices, no personal advice. \
Do not write any code (ICD, PCS, HCPCS, CPT, DRG) that is not in the official data. \
Answer with one JSON object and nothing else."""


def answer_schema(sections: Sequence[Section]) -> dict[str, Any]:
    """JSON Schema of a model's answer: one key per section, each a text or a list of items."""
    text = {"type": "string", "minLength": 1, "maxLength": 2500}
    items = {"type": "array", "minItems": 1, "maxItems": 15,
             "items": {"type": "string", "minLength": 1, "maxLength": 500}}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [s.key for s in sections],
        "properties": {s.key: ({"anyOf": [items, text]} if s.as_list else text) for s in sections},
    }


def grounding(code_data: Mapping[str, Any]) -> str:
    """The official facts of the code as plain lines: the only facts the model is given."""
    d = code_data
    lines = [f"System: {d.get('system_name') or d['system']}", f"Code: {d['code']}",
             f"Official descriptor: {d['title']}"]
    for fact in explainer_facts(d):
        if fact["title"] == "Coding notes":
            continue  # the notes themselves follow
        lines.append(f"{fact['title']}: {fact.get('lead', fact['text'])}")
        lines += [f"  - {item}" for item in fact.get("items", [])[:25]]
    notes = note_lines(d)
    if notes:
        lines.append("Official notes:")
        lines += [f"  - {line}" for line in notes[:25]]
    crosswalks = crosswalk_items(d)
    if crosswalks:
        lines.append("Crosswalks:")
        lines += [f"  - {line}" for line in crosswalks[:10]]
    children = d.get("children") or []
    if children:
        lines.append("More specific codes below it: "
                     + "; ".join(f"{c['code']} {c['title']}" for c in children[:15])
                     + (f"; and {len(children) - 15} more" if len(children) > 15 else ""))
    return "\n".join(lines)


def facts_hash(code_data: Mapping[str, Any]) -> str:
    """Changes when the official facts a prompt is grounded in change (a new release)."""
    return hashlib.sha256(grounding(code_data).encode()).hexdigest()[:16]


def build_messages(code_data: Mapping[str, Any]) -> list[dict[str, str]]:
    sections = section_set(code_data)
    guide = "\n".join(f'- "{s.key}" ({s.title}): {s.guide}' + (" — a list of short items" if s.as_list else "")
                      for s in sections)
    example = json.dumps({s.key: (["…", "…"] if s.as_list else "…") for s in sections}, ensure_ascii=False)
    user = (f"Official data:\n{grounding(code_data)}\n\n"
            f"Write these sections about {code_data['code']} “{code_data['title']}”:\n{guide}\n\n"
            f"Every section is required and must not be empty. Answer as JSON shaped like:\n{example}")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def retry_message(problems: Sequence[str]) -> dict[str, str]:
    """What the model is told when its answer was rejected."""
    listed = "\n".join(f"- {p}" for p in problems[:10])
    return {"role": "user", "content": f"Your answer was rejected:\n{listed}\n"
                                       "Answer again with the whole JSON object, fixing these problems."}


def prompt_fingerprint() -> str:
    """A hash of everything that shapes the prompt: the system prompt, every section set, the
    message layout (rendered for a fixed made-up code) and the answer schema."""
    sample = {"system": "icd10cm", "system_name": "ICD-10-CM", "code": "X00.0", "title": "Made-up condition",
              "ancestors": [{"kind": "category", "code": "X00", "title": "Made-up group"}],
              "notes": [{"type": "excludes1", "text": "other made-up condition (X01.-)", "from": "X00"}]}
    parts = [SYSTEM_PROMPT, json.dumps(build_messages(sample)), json.dumps(answer_schema(section_set(sample)))]
    parts += [f"{name}:{s.key}|{s.title}|{s.guide}|{s.as_list}" for name, sections in SECTION_SETS.items()
              for s in sections]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
