"""The prompt and the answer schema for generated explainer sections.

The prompt is grounded in the official data only: descriptor, hierarchy, notes, axis definitions,
HCPCS coverage and BETOS, crosswalk titles. Bump PROMPT_VERSION whenever the wording or the
grounding changes: stored text is keyed by it, and `content generate` regenerates codes whose
text was made with another version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from ..record import CodeRecord, CodeRef, Note
from .facts import explainer_facts, note_lines
from .sections import SECTION_SETS, Section, section_set

PROMPT_VERSION = "explainer-5"
# prompt_fingerprint() of the prompt PROMPT_VERSION names; a test fails when the prompt changes
# without a new version, so stored text never claims a prompt it was not made with.
PROMPT_FINGERPRINT = "54cb5c5881952be7"

SYSTEM_PROMPT = """You write plain-language explanations of medical codes for patients, students and \
medical coders. Write like a good patient leaflet: short sentences of about 10 words, one idea a \
sentence, everyday words instead of medical terms. \
Stay consistent with the official data you are given: never contradict the official descriptor (body \
side, type, with/without, encounter, benign/malignant, approach). Describe what is usual, not what will \
happen to a particular person; no dosages, no prices, no personal advice. Do not write any code (ICD, \
PCS, HCPCS, CPT, DRG) that is not in the official data. Answer with one JSON object and nothing else."""


MAX_TEXT = 2500  # characters of a section written as text
MAX_ITEMS = 15  # items of a section written as a list
# Items a list may have in the grammar sent to the model: a model that loops inside a list stops
# there instead of at the token limit. A small bound costs llama.cpp a few grammar rules, unlike a
# string length (see answer_schema).
GRAMMAR_ITEMS = 6
MAX_ITEM = 500  # characters of one item


def answer_schema(sections: Sequence[Section]) -> dict[str, Any]:
    """JSON Schema sent with the request: one key per section, each a text or a list of items.

    No length limits: a runtime that turns the schema into a grammar (llama.cpp) writes
    `maxLength: 2500` as 2,500 nested optional groups, past its own limit. The limits are checked
    on the answer instead (`validation_schema`), and `max_tokens` bounds what the model writes.
    The number of list items is bounded (GRAMMAR_ITEMS): a few optional groups, not thousands."""
    return _schema(sections, {"type": "string", "minLength": 1},
                   {"type": "array", "minItems": 1, "maxItems": GRAMMAR_ITEMS,
                    "items": {"type": "string", "minLength": 1}})


def validation_schema(sections: Sequence[Section]) -> dict[str, Any]:
    """The answer schema with the length limits an answer must keep to be stored."""
    return _schema(sections, {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
                   {"type": "array", "minItems": 1, "maxItems": MAX_ITEMS,
                    "items": {"type": "string", "minLength": 1, "maxLength": MAX_ITEM}})


def _schema(sections: Sequence[Section], text: dict[str, Any], items: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [s.key for s in sections],
        "properties": {s.key: ({"anyOf": [items, text]} if s.as_list else text) for s in sections},
    }


def grounding(d: CodeRecord) -> str:
    """The official facts of the code as plain lines: the only facts the model is given.

    Only what belongs to this code, each once: the descriptor is not said again as a sentence (small
    models copy "E11.9 is the ICD-10-CM code for" into a section), no crosswalks, no claim
    bookkeeping (manual references, dates),
    no character-by-character list a sentence already says, and of a category's 7th characters only
    the code's own (small models copy every listed value into their answer)."""
    lines = [f"System: {d.system_name or d.system}", f"Code: {d.code}", f"Official descriptor: {d.title}"]
    for fact in explainer_facts(d):
        if fact["title"] == "Coding notes":
            continue  # the notes themselves follow
        if d.system == "icd10pcs" and fact["title"] == "Procedure Description":
            continue  # the summary already reads the characters out, with the operation's definition
        text = _BOOKKEEPING.sub("", str(fact.get("lead") or fact["text"]))
        text = text.removeprefix(f"{d.code} is the {d.system_label or d.system} for “{d.title}”.").strip()
        if text:
            lines.append(f"{fact['title']}: {text}")
        lines += [f"  - {item}" for item in fact.get("items", [])[:25]]
    notes = _own_notes(d)
    if notes:
        lines.append("Official notes:")
        lines += [f"  - {line}" for line in notes[:25]]
    children = d.children
    if children:
        lines.append("More specific codes below it: "
                     + "; ".join(f"{c.code} {c.title}" for c in children[:15])
                     + (f"; and {len(children) - 15} more" if len(children) > 15 else ""))
    return "\n".join(lines)


# Sentences of the facts that say nothing a reader of an explanation needs (a short form is the
# descriptor cut off, which small models copy as an item: "Dexamethasone sodium phos" for J1100).
_BOOKKEEPING = re.compile(r" ?(?:It is valid for submission on a claim|Its short form is “[^”]*”"
                          r"|Medicare manual references: [^.]*"
                          r"|Added \d{4}-\d\d-\d\d|Last change effective \d{4}-\d\d-\d\d)\.")
_SEVENTH = "7th characters: "


def _own_notes(d: CodeRecord) -> list[str]:
    """note_lines, with a 7th-character list cut to the code's own 7th character."""
    own = f"{_SEVENTH}{d.code[-1]}: " if len(d.code.replace(".", "")) == 7 else None
    out = []
    for line in note_lines(d):
        if line.startswith(_SEVENTH):
            if own and line.startswith(own):
                out.append(f"7th character of this code: {line[len(own) - 3:]}")
            continue
        out.append(line)
    return out


def facts_hash(code_data: CodeRecord) -> str:
    """Changes when the official facts a prompt is grounded in change (a new release)."""
    return hashlib.sha256(grounding(code_data).encode()).hexdigest()[:16]


def build_messages(code_data: CodeRecord) -> list[dict[str, str]]:
    """What is the same for every code of a section set (instructions, section guide, JSON shape)
    first, the code's own facts last: a server's prompt cache (llama.cpp's) then reuses the shared
    beginning from one code to the next and reads only the facts."""
    return [{"role": "system", "content": instructions(section_set(code_data))},
            {"role": "user", "content": f"Official data:\n{grounding(code_data)}\n\n"
                                        f"Write the sections about {code_data.code} “{code_data.title}”."}]


def instructions(sections: Sequence[Section]) -> str:
    guide = "\n".join(f'- "{s.key}" ({s.title}): {s.guide}' + (" — a list of 3 to 5 short items" if s.as_list else "")
                      for s in sections)
    # The shape only, with empty values: small models copy a placeholder such as "…" into every
    # section instead of writing it (seen with Gemma 3 270M on a llama.cpp server).
    example = json.dumps({s.key: ([""] if s.as_list else "") for s in sections}, ensure_ascii=False)
    return (f"{SYSTEM_PROMPT}\n\nYou will be given the official data of one code. Write these sections about"
            f" it:\n{guide}\n\nEvery section is required: write your own sentences about the code in each"
            " one, never only its name or words of the descriptor; every list item different. Answer as"
            f" JSON with these keys, every empty value filled in:\n{example}")


def retry_messages(messages: Sequence[dict[str, str]], problems: Sequence[str]) -> list[dict[str, str]]:
    """The original prompt again, with what was wrong with the last answer, not the answer itself:
    a looping or copied answer sent back is copied again."""
    listed = "\n".join(f"- {p}" for p in problems[:10])
    note = (f"\n\nAn earlier answer was rejected:\n{listed}\nWrite the whole JSON object again, avoiding"
            " these problems. Keep every section short; never repeat a sentence or an item.")
    last = messages[-1]
    return [*messages[:-1], {**last, "content": last["content"] + note}]


def prompt_fingerprint() -> str:
    """A hash of everything that shapes the prompt: the system prompt, every section set, the
    message layout (rendered for a fixed made-up code) and the answer schema."""
    sample = CodeRecord.bare(
        "icd10cm", "X00.0", "Made-up condition", system_name="ICD-10-CM",
        ancestors=(CodeRef("icd10cm", "X00", "Made-up group", "category", None),),
        notes=(Note("excludes1", "other made-up condition (X01.-)", "X00"),))
    parts = [SYSTEM_PROMPT, json.dumps(build_messages(sample)), json.dumps(answer_schema(section_set(sample))),
             json.dumps(retry_messages(build_messages(sample), ["x"]))]
    parts += [f"{name}:{s.key}|{s.title}|{s.guide}|{s.as_list}" for name, sections in SECTION_SETS.items()
              for s in sections]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
