"""Checks of what a model wrote, beyond its form: repetition, notes misreported or copied, a summary
that only repeats the descriptor, drugs and doses the official data does not name, reading level.

Each check is a named function of (official data, the grounding text, sections) returning problem
lines; `quality_problems` runs them all. The wording of each problem is sent back to the model; each
line also carries the name of the check that found it (`Problem.check`), so a run can count which
checks stop answers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..record import CodeRecord
from .sections import SECTION_SETS

Sections = Sequence[Mapping[str, Any]]

MAX_GRADE = 8.0  # Flesch-Kincaid grade of the sections written for patients
GRADE_MIN_WORDS = 40  # below this a grade says more about one word than about the text
PHRASE_WORDS = 6  # a phrase of this many words said three times is a loop
SHORT_LOOP_WORDS = (4, 12)  # a text this long with half its words repeats is a loop (longer texts reuse words)
MIN_WORDS_A_SECTION = 5  # patient sections average fewer words than this: too little to explain anything
DESCRIPTOR_NEW_WORDS = 3  # a first section adding fewer words than this to the descriptor only repeats it
# Sections written for coders, not patients: left out of the reading-level check.
CODER_SECTIONS = frozenset({"coding_notes"})

# Common drug names a model reaches for; one the official data does not name is an invention
# (the official data names a drug when the code is about one: a HCPCS drug descriptor, a note).
DRUG_NAMES = frozenset("""acetaminophen adalimumab albuterol alteplase amiodarone amlodipine amoxicillin apixaban
aspirin atenolol atorvastatin azithromycin carvedilol cephalexin ciprofloxacin clopidogrel dexamethasone diclofenac
digoxin diltiazem doxycycline enoxaparin epinephrine furosemide gabapentin heparin hydrochlorothiazide hydrocodone
ibuprofen insulin ketorolac levothyroxine lisinopril losartan meloxicam metformin methotrexate methylprednisolone
metoprolol morphine naproxen nitroglycerin omeprazole ondansetron oxycodone pantoprazole paracetamol prednisone
rivaroxaban simvastatin tramadol warfarin""".split())
_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|micrograms?|milligrams?|g|grams?|ml|mL|units?|iu)\b", re.I)
_PRICE = re.compile(r"(?:\$|usd\s?)\s?\d+(?:[.,]\d+)*|\b\d+(?:[.,]\d+)*\s?(?:dollars?|usd|cents?)\b", re.I)
_NO_NOTES = re.compile(r"\b(?:no|carries no|has no|without any|without) (?:official |instructional |coding )*notes?\b"
                       r"|\bno (?:excludes|includes)\b", re.I)


class Problem(str):
    """One problem line, worded for the model, that knows which check found it."""

    check: str

    def __new__(cls, text: str, check: str) -> Problem:
        line = super().__new__(cls, text)
        line.check = check
        return line


def tagged(check: str, lines: Sequence[str]) -> list[str]:
    return [Problem(line, check) for line in lines]


def check_name(problem: str) -> str:
    """The check that found a problem line ("other" for a line from elsewhere)."""
    return problem.check if isinstance(problem, Problem) else "other"


def quality_problems(code_data: CodeRecord, grounding: str, sections: Sections) -> list[str]:
    problems = tagged("repeated", repeated(sections))
    problems += tagged("notes_misreported", notes_misreported(code_data, sections))
    problems += tagged("notes_copied", notes_copied(code_data, sections))
    problems += tagged("descriptor_only", descriptor_only(code_data, sections))
    problems += tagged("fragment", fragments(code_data, sections))
    problems += tagged("facts_copied", facts_copied(grounding, sections))
    problems += tagged("too_short", too_short(sections))
    problems += tagged("labels_copied", labels_copied(grounding, sections))
    problems += tagged("drugs_not_in_data", drugs_not_in_the_data(grounding, sections))
    problems += tagged("prices", prices(grounding, sections))
    problems += tagged("reading_level", reading_level(sections))
    return problems


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def repeated(sections: Sections) -> list[str]:
    """The same item twice in a list, the same sentence twice, or one phrase said over and over."""
    problems = []
    for s in sections:
        items = [_norm(i) for i in s.get("items") or []]
        twice = sorted({i for i, n in Counter(items).items() if n > 1 and i})
        if twice:
            problems.append(f"section {s['key']!r} repeats the item “{twice[0]}”; list each item once")
    sentences = [_norm(x) for s in sections for x in re.split(r"(?<=[.!?])\s+|\n", s["text"])]
    again = sorted({x for x, n in Counter(sentences).items() if n > 1 and len(x.split()) >= 5})
    if again:
        problems.append(f"the sentence “{again[0]}” is written more than once")
    grams: Counter[str] = Counter()
    for s in sections:  # within each section: short items shared by two lists are not a loop
        words = _norm(s["text"]).split()
        grams.update(" ".join(words[i:i + PHRASE_WORDS]) for i in range(len(words) - PHRASE_WORDS + 1))
    loops = [g for g, n in grams.items() if n >= 3]
    if loops and not again:
        problems.append(f"the phrase “{loops[0]}” is repeated {grams[loops[0]]} times; say each thing once")
    for s in sections:  # a short text saying its few words again: "Each item, each item"
        for piece in s.get("items") or [s["text"]]:
            words = _norm(piece).split()
            if SHORT_LOOP_WORDS[0] <= len(words) <= SHORT_LOOP_WORDS[1] and len(set(words)) * 2 <= len(words):
                problems.append(f"section {s['key']!r} says its words twice (“{piece.strip()}”); say each thing once")
                break
    return problems


def notes_misreported(code_data: CodeRecord, sections: Sections) -> list[str]:
    """"The code carries no instructional notes" for a code that has some."""
    if not code_data.notes:
        return []
    for s in sections:
        if _NO_NOTES.search(s["text"]):
            return [f"section {s['key']!r} says there are no notes, but the official data lists"
                    f" {len(code_data.notes)} notes for this code"]
    return []


def notes_copied(code_data: CodeRecord, sections: Sections) -> list[str]:
    """An excluded condition (an Excludes note's entry) written as a cause, symptom or treatment."""
    entries = {_norm(re.sub(r"\([^)]*\)", "", n.text)) for n in code_data.notes
               if n.type in ("excludes1", "excludes2")}
    entries = {e for e in entries if len(e.split()) >= 2}
    problems = []
    for s in sections:
        if s["key"] in CODER_SECTIONS:
            continue
        text = _norm(s["text"])
        copied = sorted(e for e in entries if f" {e} " in f" {text} ")
        if copied:
            problems.append(f"section {s['key']!r} names “{copied[0]}”, which the official notes exclude from"
                            " this code; leave excluded conditions out of it")
    return problems


def descriptor_only(code_data: CodeRecord, sections: Sections) -> list[str]:
    """A first section that only says the descriptor again, adding nothing or a word or two
    ("Power wheelchair accessory, group 3D, each" for a battery of one)."""
    if not sections or not code_data.title:
        return []
    if _repeats_descriptor(code_data, sections[0]["text"]):
        return [f"section {sections[0]['key']!r} only repeats the descriptor; explain it in plain words"]
    return []


def _repeats_descriptor(code_data: CodeRecord, text: str) -> bool:
    said, title = set(_norm(text).split()), set(_norm(str(code_data.title)).split())
    return bool(said) and len(said - title - _FILLER) < DESCRIPTOR_NEW_WORDS


def too_short(sections: Sections) -> list[str]:
    """An answer whose patient sections are a few words each: nothing explained, and too short for
    the reading-level check to judge."""
    patient = [s for s in sections if s["key"] not in CODER_SECTIONS]
    words = sum(len(re.findall(r"[A-Za-z0-9]+", s["text"])) for s in patient)
    if patient and words < MIN_WORDS_A_SECTION * len(patient):
        return [f"the answer says too little ({words} words in {len(patient)} sections); explain each section"
                " in whole sentences"]
    return []


# Words a sentence needs to say "this code is for <descriptor>" and nothing more.
_FILLER = frozenset("a an the this that code codes is are for of it means used to and or describes records".split())


# What a model writes in a section it did not write (reported as "empty", not as a fragment)
PLACEHOLDERS = frozenset({"", "n/a", "na", "tbd", "...", "…", "-", "null", "none.", "todo"})
# Every section's key and title, as a model that copies one into a section writes it.
SECTION_NAMES = frozenset(_norm(name) for sections in SECTION_SETS.values() for s in sections
                          for name in (s.key.replace("_", " "), s.title))
MIN_TEXT_WORDS = 3  # a section written as text with fewer words is a fragment, not an explanation
_SMALL_WORDS = frozenset("in on at by with from into s".split())


def fragments(code_data: CodeRecord, sections: Sections) -> list[str]:
    """Sections or list items that are only a section's name ("summary"), only words of the
    descriptor, cut off or not ("Gallium locametz 1 millicuri" for A9800, "Type 2 diabetes
    mellitus" as a cause of E11.9), or a text of one or two words: nothing explained."""
    title = set(_norm(str(code_data.title or "")).split()) | {_norm(code_data.code).replace(" ", "")}

    def of_descriptor(words: list[str]) -> bool:
        def known(w: str) -> bool:
            return (len(w) == 1 or w in title or w in _FILLER or w in _SMALL_WORDS
                    or (len(w) >= 3 and any(t.startswith(w) for t in title)))
        return bool(words) and all(known(w) for w in words)

    problems = []
    for i, s in enumerate(sections):
        items = s.get("items")
        for text in items if items is not None else [s["text"]]:
            norm = _norm(text)
            if text.strip().lower() in PLACEHOLDERS or not norm:
                continue
            if norm in SECTION_NAMES:
                problems.append(f"section {s['key']!r} says only “{text.strip()}”, a section name; write its content")
                break
            # the first section's plain repeat of the descriptor is descriptor_only's to report
            if of_descriptor(norm.split()) and not (i == 0 and items is None and _repeats_descriptor(code_data, text)):
                problems.append(f"section {s['key']!r} says only “{text.strip()}”, words of the descriptor;"
                                " explain it in your own words")
                break
            if items is None and len(norm.split()) < MIN_TEXT_WORDS:
                problems.append(f"section {s['key']!r} says only “{text.strip()}”; write whole sentences")
                break
    return problems


COPY_WORDS = 5  # a run of this many words of the official data, written in a section, was copied


def facts_copied(grounding: str, sections: Sections) -> list[str]:
    """A patient section (or list item) that is only lines of the official data copied out (SmolLM2
    135M wrote "Read character by character, 03L94CZ is a procedure in ..." as the purpose of
    03L94CZ, and the operation's official definition as its indications): every run of COPY_WORDS
    words in it is in the data. Quoting the descriptor inside sentences of one's own is not."""
    words = _norm(grounding).split()
    official = {" ".join(words[i:i + COPY_WORDS]) for i in range(len(words) - COPY_WORDS + 1)}
    problems = []
    for s in sections:
        if s["key"] in CODER_SECTIONS:
            continue
        for text in s.get("items") or [s["text"]]:
            said = _norm(text).split()
            runs = [" ".join(said[i:i + COPY_WORDS]) for i in range(len(said) - COPY_WORDS + 1)]
            if runs and all(r in official for r in runs):
                problems.append(f"section {s['key']!r} copies the official data (“{text.strip()[:80]}”);"
                                " explain it in your own words")
                break
    return problems


_LABEL = re.compile(r"^([A-Z][A-Za-z0-9 ]{1,40}):", re.M)


def labels_copied(grounding: str, sections: Sections) -> list[str]:
    """A section or item that starts with a label of the official data's lines ("System: HCPCS Level
    II" as what J2252 treats, "System: S-34-112B" as a symptom): the prompt copied, not an answer."""
    labels = {m.group(1).lower() for m in _LABEL.finditer(grounding)}
    problems = []
    for s in sections:
        for text in s.get("items") or [s["text"]]:
            m = _LABEL.match(text.strip())
            if m and m.group(1).lower() in labels:
                problems.append(f"section {s['key']!r} starts with “{m.group(0)}”, a label of the official data;"
                                " write about the code instead")
                break
    return problems


def drugs_not_in_the_data(grounding: str, sections: Sections) -> list[str]:
    """Doses, and drug names the official data does not mention."""
    official = grounding.lower()
    said = " ".join(s["text"] for s in sections)
    problems = [f"names the dose “{m.group(0)}”; give no doses" for m in _DOSE.finditer(said)
                if m.group(0).lower() not in official][:1]
    words = set(re.findall(r"[a-z]+", said.lower()))
    drugs = sorted(d for d in DRUG_NAMES & words if d not in official)
    if drugs:
        problems.append(f"names the drug {drugs[0]}, which the official data does not mention; name no drugs"
                        " the data does not name")
    return problems


def prices(grounding: str, sections: Sections) -> list[str]:
    """Amounts of money the official data does not state: SmolLM2 135M wrote "100% of the price is
    capped at 100 dollars" as how a power wheelchair (K0863) is used."""
    official = grounding.lower()
    said = " ".join(s["text"] for s in sections)
    return [f"names the price “{m.group(0).strip()}”; give no prices" for m in _PRICE.finditer(said)
            if m.group(0).strip().lower() not in official][:1]


def reading_level(sections: Sections, max_grade: float = MAX_GRADE) -> list[str]:
    text = "\n".join(s["text"] for s in sections if s["key"] not in CODER_SECTIONS)
    if len(re.findall(r"[A-Za-z]+", text)) < GRADE_MIN_WORDS:
        return []
    grade = flesch_kincaid_grade(text)
    if grade > max_grade:
        return [f"reads at school grade {grade:.1f}; write for grade {max_grade:.0f} or below: shorter sentences,"
                " common words"]
    return []


def flesch_kincaid_grade(text: str) -> float:
    """0.39 (words/sentences) + 11.8 (syllables/words) - 15.59; 0 for text with no words."""
    words = re.findall(r"[A-Za-z]+", text)
    if not words:
        return 0.0
    # a list item is a sentence of its own, with or without a full stop
    sentences = max(len(re.findall(r"[.!?]+(?:\s|$)", text)), text.count("\n") + 1)
    syllables = sum(syllable_count(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def syllable_count(word: str) -> int:
    """Vowel groups, less a silent final e: good enough for a grade level, exact for no word."""
    w = word.lower()
    groups = re.findall(r"[aeiouy]+", w)
    n = len(groups)
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and n > 1:
        n -= 1
    return max(1, n)
