"""The extraction test corpus: payer-style documents with their true code lists, and how to score against them.

tests/data/policies/corpus/ holds the documents (.html, .txt, and .pdfsrc: text rendered to a PDF at load
time) and gold.json: for each document its metadata and every code it cites, as "system:code",
"system:first-last" (a range as written) or "system:code*" (a code with everything under it), each with
the section a careful reader would file it under (the first coverage statement, else "coding", else
"mentioned"). Used by tests/policies/test_quality.py and bench/policies.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medcodes import systems
from medcodes.policies.documents import read_bytes, read_pdf
from medcodes.policies.extract import extract
from medcodes.policies.linking import summary
from medcodes.policies.records import COVERAGE_SECTIONS, Document

from .pdfgen import text_pdf

CORPUS = Path(__file__).resolve().parents[1] / "data" / "policies" / "corpus"
Key = tuple[str, str, str | None]


def gold() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((CORPUS / "gold.json").read_text())
    return data


def parse_key(text: str) -> Key:
    system, _, code = text.partition(":")
    if code.endswith("*"):
        return (system, systems.normalize(system, code[:-1]), "*")
    if "-" in code:
        first, last = code.split("-", 1)
        return (system, systems.normalize(system, first), systems.normalize(system, last))
    return (system, systems.normalize(system, code), None)


def document_bytes(name: str) -> tuple[bytes, str]:
    """The bytes a payer would publish: .pdfsrc files become PDFs here."""
    path = CORPUS / name
    if name.endswith(".pdfsrc"):
        title = gold().get(name, {}).get("title")
        return text_pdf(path.read_text(), title=title), name.replace(".pdfsrc", ".pdf")
    return path.read_bytes(), name


def load(name: str) -> Document:
    data, shown = document_bytes(name)
    if shown.endswith(".pdf"):
        return read_pdf(data, source=shown)
    return read_bytes(data, name=shown)


def documents() -> Iterator[tuple[str, Document]]:
    for name in sorted(gold()):
        yield name, load(name)


def predicted(doc: Document, checker: Any) -> dict[Key, str]:
    out: dict[Key, str] = {}
    for key, m in summary(extract(doc, checker)).items():
        out[key] = m.section
    return out


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_positives: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    documents: int = 0
    codes: Score = field(default_factory=Score)
    coverage: Score = field(default_factory=Score)  # covered / not_covered / investigational, on found codes
    sections_right: int = 0
    sections_total: int = 0
    metadata_right: int = 0
    metadata_total: int = 0
    metadata_misses: list[str] = field(default_factory=list)

    @property
    def section_accuracy(self) -> float:
        return self.sections_right / self.sections_total if self.sections_total else 1.0


def score_document(name: str, truth: dict[Key, str], found: dict[Key, str], report: Report) -> None:
    report.documents += 1
    for key, section in found.items():
        if key in truth:
            report.codes.tp += 1
            report.sections_total += 1
            report.sections_right += truth[key] == section
        else:
            report.codes.fp += 1
            report.codes.false_positives.append(f"{name}: {_show(key)} ({section})")
    for key in truth:
        if key not in found:
            report.codes.fn += 1
            report.codes.misses.append(f"{name}: {_show(key)} ({truth[key]})")
    _score_coverage(name, truth, found, report.coverage)


def _score_coverage(name: str, truth: dict[Key, str], found: dict[Key, str], score: Score) -> None:
    """A coverage call is right when the code is found and its class matches; every true call counts for recall."""
    for key, section in found.items():
        if section in COVERAGE_SECTIONS:
            if truth.get(key) == section:
                score.tp += 1
            else:
                score.fp += 1
                score.false_positives.append(f"{name}: {_show(key)} said {section}, truth {truth.get(key)}")
    for key, section in truth.items():
        if section in COVERAGE_SECTIONS and found.get(key) != section:
            score.fn += 1
            score.misses.append(f"{name}: {_show(key)} is {section}, said {found.get(key)}")


def score_metadata(name: str, doc: Document, expected: dict[str, Any], record: Any, report: Report) -> None:
    for field_ in ("payer", "number", "effective", "last_reviewed", "title"):
        report.metadata_total += 1
        got = getattr(record, field_)
        if got == expected.get(field_) or (expected.get(field_) is None and field_ == "payer" and got):
            report.metadata_right += 1
        else:
            report.metadata_misses.append(f"{name}: {field_} {got!r} != {expected.get(field_)!r}")


def _show(key: Key) -> str:
    system, code, last = key
    return f"{system}:{code}" + ("*" if last == "*" else f"-{last}" if last else "")


def evaluate(checker: Any, split: str | None = None) -> Report:
    """Score the corpus; `split` "dev" (the documents the rules were written against) or "holdout" (written
    after the rules were frozen, never tuned on), or None for all."""
    from medcodes.policies.ingest import document_record

    report = Report()
    truths = gold()
    for name in sorted(truths):
        expected = truths[name]
        if split is not None and expected.get("split", "dev") != split:
            continue
        doc = load(name)
        truth = {parse_key(k): v for k, v in expected["codes"].items()}
        score_document(name, truth, predicted(doc, checker), report)
        score_metadata(name, doc, expected, document_record(doc, checker), report)
    return report
