"""The judged query sets of bench/search.py: how an expectation is matched."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_exact_pattern_matches_whole_codes_only() -> None:
    hit = _bench().hit
    assert hit("icd10pcs", "04100JK", (("icd10pcs", "=04100?K"),))
    assert not hit("icd10pcs", "04100JKX", (("icd10pcs", "=04100?K"),))
    assert hit("icd10pcs", "0T180ZC", (("icd10pcs", "=0T1[678]0?C"),))
    assert hit("icd10cm", "I10", (("icd10cm", "=I10"),)) and not hit("icd10cm", "I10X", (("icd10cm", "=I10"),))
    assert hit("icd10pcs", "0SRB0JZ", (("icd10pcs", "0SR[AB]"),))  # a pattern without "=" is a prefix
