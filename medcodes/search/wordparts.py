"""Procedure words read by their parts: "pneumonectomy" is pneumon (lung) + ectomy (resection), and
ICD-10-PCS titles say "Resection of Right Lung". A word the lexicon does not know, made of one or more
body-part combining forms and an operation suffix (wordparts.tsv), is searched as itself and as each
operation with each body part ("resection lung", "excision lung").

Word-level only and always an addition: the typed word stays the first alternative, so a title that
says the word itself is still found.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources

CONNECTORS = ("o", "i", "")  # "cyst-o-scopy", "salping-o-", "appendic-" + "ectomy"
PREFIXES = ("hemi", "pan", "total", "partial", "sub", "endo", "end")  # hemicolectomy, pancolectomy, endarterectomy
MIN_ROOT = 2


@functools.cache
def _table() -> tuple[dict[str, tuple[tuple[str, ...], ...]], dict[str, tuple[tuple[str, ...], ...]]]:
    text = resources.files(__package__).joinpath("wordparts.tsv").read_text(encoding="utf-8")
    suffixes: dict[str, tuple[tuple[str, ...], ...]] = {}
    roots: dict[str, tuple[tuple[str, ...], ...]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 3 or cols[0] not in ("suffix", "root") or not cols[1].strip():
            raise ValueError(f"wordparts.tsv:{n}: want kind (suffix or root), part, means; got {line!r}")
        means = tuple(tuple(alt.split()) for alt in cols[2].split("|") if alt.split())
        if not means:
            raise ValueError(f"wordparts.tsv:{n}: no meaning in {line!r}")
        (suffixes if cols[0] == "suffix" else roots)[cols[1].strip()] = means
    return suffixes, roots


def meanings(word: str, index: Mapping[str, tuple[tuple[str, ...], ...]] | None = None) -> tuple[tuple[str, ...], ...]:
    """The operation-and-body-part readings of a procedure word ("nephrectomy" -> ("resection",
    "kidney"), ("excision", "kidney")), or () when the word is not made of known parts.
    `index`: word -> the root operations the ICD-10-PCS Index gives for it ("Endarterectomy see
    Extirpation, Upper Arteries"), which say it better than the suffix does. An image is searched as
    its making too ("mammogram": mammography, which the index names)."""
    index = index or {}
    if word.endswith("gram") and len(word) > len("gram") + MIN_ROOT:
        making = word[:-len("gram")] + "graphy"
        return tuple(dict.fromkeys(((making,), *_readings(making, index.get(making, ())))))
    return _readings(word, index.get(word, ()))


def _readings(word: str, operations: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    suffixes, roots = _table()
    for suffix, named in sorted(suffixes.items(), key=lambda kv: -len(kv[0])):
        if not word.endswith(suffix) or len(word) <= len(suffix) + MIN_ROOT:
            continue
        stem = word[:-len(suffix)]
        parts = _roots(stem, roots) or next((p for pre in PREFIXES if stem.startswith(pre)
                                             for p in [_roots(stem[len(pre):], roots)] if p), None)
        if parts:
            ops = operations or named
            return tuple(dict.fromkeys((*op, *body) for op in ops for root in parts for body in roots[root]))
    return ()


def _roots(stem: str, roots: dict[str, tuple[tuple[str, ...], ...]]) -> list[str] | None:
    """`stem` as a chain of combining forms, each followed by a connecting vowel or none ("salpingo-
    oophor"), longest form first; None when it is not one."""
    if not stem:
        return []
    for size in range(len(stem), MIN_ROOT - 1, -1):
        head = stem[:size]
        if head not in roots:
            continue
        rest = stem[size:]
        for vowel in CONNECTORS:
            if rest.startswith(vowel):
                tail = _roots(rest[len(vowel):], roots)
                if tail is not None:
                    return [head, *tail]
    return None
