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
from medcodes.policies.extract import SECTION_RANK, extract
from medcodes.policies.linking import expand_mention, link, split_range, summary
from medcodes.policies.records import COVERAGE_SECTIONS, HISTORY, Document, Mention

from .pdfgen import LINES_PER_PAGE, text_pdf

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
        expected = gold().get(name, {})
        layout = expected.get("pdf", {})
        pdf = text_pdf(path.read_text(), title=expected.get("title"), header=layout.get("header"),
                       footer=layout.get("footer"), lines_per_page=layout.get("lines_per_page", LINES_PER_PAGE))
        return pdf, name.replace(".pdfsrc", ".pdf")
    return path.read_bytes(), name


def load(name: str) -> Document:
    data, shown = document_bytes(name)
    if shown.endswith(".pdf"):
        return read_pdf(data, source=shown)
    return read_bytes(data, name=shown)


def documents() -> Iterator[tuple[str, Document]]:
    for name in sorted(gold()):
        yield name, load(name)


def doc_kind(name: str) -> str:
    """The kind of document: as gold.json says, else by format."""
    said = gold()[name].get("kind")
    if said:
        return str(said)
    return {"html": "html policy", "pdfsrc": "pdf"}.get(name.rsplit(".", 1)[-1], "text policy")


def predicted(doc: Document, checker: Any) -> dict[Key, str]:
    """What the policy says about each code it cites (codes named only in its revision history left out)."""
    out: dict[Key, str] = {}
    for key, m in summary([m for m in extract(doc, checker) if m.section != HISTORY]).items():
        out[key] = m.section
    return out


def predicted_history(doc: Document, checker: Any) -> set[Key]:
    return {m.key for m in extract(doc, checker) if m.section == HISTORY}


Link = tuple[str, str]  # (system, code), or (system, "first-last") for a range kept as written


def true_links(expected: dict[str, Any], checker: Any) -> dict[Link, str]:
    """What the code pages should get from a document: every code with its stance, ranges expanded in the
    catalog's order; a code named apart inside a range (an exception) keeps its own stance, and a range the
    catalog cannot expand (CPT without CPT data) is kept as written, split around such codes."""
    keys = [(parse_key(k), v) for k, v in expected["codes"].items()]
    expanded = []
    for (system, first, last), section in keys:
        end = None if last in (None, "*") else last
        a, b = (first.replace(".", ""), (end or "").replace(".", ""))
        seventh = a[-1] if len(a) == len(b) == 7 and a[-1] == b[-1] and a[-1].isalpha() else None
        m = Mention(system, first, end, last == "*", seventh=seventh)
        if not checker.loaded(system) and m.last:
            inside = [c for (s, c, lst), said in keys if s == system and lst is None and said != section
                      and said in COVERAGE_SECTIONS]
            codes = [f"{x}-{y}" for x, y in split_range(first, m.last, inside)]
        elif checker.loaded(system) and checker.resolve(system, first):
            codes = expand_mention(checker, m)
        else:
            codes = [first]
        expanded.append((codes, system, section))
    # A coverage call beats a coding-table or passing mention; between coverage calls the narrower one wins.
    best: dict[Link, tuple[int, int, str]] = {}
    for codes, system, section in expanded:
        rank = (SECTION_RANK[section], len(codes) if section in COVERAGE_SECTIONS else 0)
        for code in codes:
            if (system, code) not in best or rank < best[(system, code)][:2]:
                best[(system, code)] = (*rank, section)
    return {k: v[2] for k, v in best.items()}


def predicted_links(doc: Document, checker: Any) -> dict[Link, str]:
    """The links the store gets, each code with the stance a code page shows first."""
    links, ranges = link(extract(doc, checker), checker)
    out: dict[Link, str] = {}
    for system, code, section in [(x.system, x.code, x.section) for x in links] + \
            [(x.system, f"{x.first}-{x.last}", x.section) for x in ranges]:
        if (system, code) not in out or SECTION_RANK[section] < SECTION_RANK[out[(system, code)]]:
            out[(system, code)] = section
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
    history: Score = field(default_factory=Score)  # codes shown under the policy's revision history
    links: Score = field(default_factory=Score)  # (system, code) links, ranges expanded
    stances_right: int = 0  # true links found with the right stance
    stance_errors: list[str] = field(default_factory=list)

    @property
    def section_accuracy(self) -> float:
        return self.sections_right / self.sections_total if self.sections_total else 1.0

    @property
    def stance_accuracy(self) -> float:
        return self.stances_right / self.links.tp if self.links.tp else 1.0


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


def score_links(name: str, truth: dict[Link, str], found: dict[Link, str], report: Report) -> None:
    for key, section in found.items():
        if key in truth:
            report.links.tp += 1
            if truth[key] == section:
                report.stances_right += 1
            else:
                report.stance_errors.append(f"{name}: {key[0]}:{key[1]} said {section}, truth {truth[key]}")
        else:
            report.links.fp += 1
            report.links.false_positives.append(f"{name}: {key[0]}:{key[1]} ({section})")
    for key in truth:
        if key not in found:
            report.links.fn += 1
            report.links.misses.append(f"{name}: {key[0]}:{key[1]} ({truth[key]})")


def score_history(name: str, truth: set[Key], found: set[Key], score: Score) -> None:
    score.tp += len(truth & found)
    score.fp += len(found - truth)
    score.fn += len(truth - found)
    score.false_positives += [f"{name}: {_show(k)}" for k in sorted(found - truth, key=str)]
    score.misses += [f"{name}: {_show(k)}" for k in sorted(truth - found, key=str)]


def evaluate(checker: Any, split: str | None = None, of_kind: str | None = None) -> Report:
    """Score the corpus; `split` "dev" (the documents the rules were written against) or "holdout" (written
    after the rules were frozen, never tuned on), or None for all; `of_kind` one kind of document only."""
    from medcodes.policies.ingest import document_record

    report = Report()
    truths = gold()
    for name in sorted(truths):
        expected = truths[name]
        if split is not None and expected.get("split", "dev") != split:
            continue
        if of_kind is not None and doc_kind(name) != of_kind:
            continue
        doc = load(name)
        truth = {parse_key(k): v for k, v in expected["codes"].items()}
        score_document(name, truth, predicted(doc, checker), report)
        score_metadata(name, doc, expected, document_record(doc, checker), report)
        score_links(name, true_links(expected, checker), predicted_links(doc, checker), report)
        score_history(name, {parse_key(k) for k in expected.get("history", [])}, predicted_history(doc, checker),
                      report.history)
    return report
