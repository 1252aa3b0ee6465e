"""Search on a small hand-made index: codes, families, ranges, filters, words, lay terms,
typos, "did you mean", result shape, bad input, suggest, the CLI and medcodes.search()."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import medcodes
from medcodes.errors import BadRequest
from medcodes.index import Catalog
from medcodes.search import search, suggest


def codes(result: dict[str, Any]) -> list[str]:
    return [r["code"] for r in result["results"]]


@pytest.mark.parametrize(("q", "first"), [
    ("e119", "E11.9"), ("E11.9", "E11.9"), ("s72001a", "S72.001A"), ("j1100", "J1100"), ("0SG00A1", "0SG00A1"),
    ("LT", "LT"), ("250.00", "250.00"),
])
def test_exact_codes_rank_first(catalog: Catalog, q: str, first: str) -> None:
    r = search(catalog, q)
    assert codes(r)[0] == first and r["results"][0]["match"]["field"] == "code"


def test_prefix_lists_the_family_in_code_order(catalog: Catalog) -> None:
    r = search(catalog, "E11", limit=20)
    assert codes(r) == ["E11", "E11.2", "E11.21", "E11.22", "E11.65", "E11.9"]
    assert r["results"][1]["match"]["fragment"] == "<mark>E11</mark>.2"
    assert codes(search(catalog, "0SG"))[:2] == ["0SG", "0SG00A1"]
    assert codes(search(catalog, "S52.5"))[:2] == ["S52.5", "S52.50"]


def test_a_code_shared_by_two_systems(catalog: Catalog) -> None:
    r = search(catalog, "250")
    assert {(x["system"], x["code"]) for x in r["results"][:2]} >= {("msdrg", "250")}
    assert "icd9cm" in r["facets"]


def test_ranges(catalog: Catalog) -> None:
    assert codes(search(catalog, "E08-E13", limit=20))[:3] == ["E08-E13", "E10", "E10.9"]
    assert codes(search(catalog, "A0021-A0999")) == ["A0021-A0999", "A0021", "A0080", "A0999"]
    assert codes(search(catalog, "M25.50-M25.579")) == ["M25.50", "M25.511", "M25.579"]


def test_several_codes(catalog: Catalog) -> None:
    assert codes(search(catalog, "E11.9, I10, J1100"))[:3] == ["E11.9", "I10", "J1100"]


def test_filters_in_query_and_parameters(catalog: Catalog) -> None:
    assert {x["system"] for x in search(catalog, "system:hcpcs ambulance")["results"]} == {"hcpcs"}
    assert {x["system"] for x in search(catalog, "diabetes", systems=["icd9cm"])["results"]} == {"icd9cm"}
    billable = search(catalog, "billable:yes diabetes", limit=50)["results"]
    assert billable and all(x["billable"] for x in billable)
    assert all(not x["billable"] for x in search(catalog, "diabetes", billable=False, limit=50)["results"])


def test_facets_and_total(catalog: Catalog) -> None:
    r = search(catalog, "diabetes", limit=2)
    assert r["total"] == sum(r["facets"].values()) and len(r["results"]) == 2
    assert r["facets"]["icd10cm"] >= 8 and r["facets"]["icd9cm"] == 1
    only = search(catalog, "diabetes", systems=["icd9cm"])
    assert only["total"] == 1 and only["facets"]["icd10cm"] >= 8  # facets ignore the system filter


def test_words_rank_the_plain_code_first(catalog: Catalog) -> None:
    assert codes(search(catalog, "type 2 diabetes"))[0] in ("E11.9", "E11")
    assert codes(search(catalog, "hypertension"))[0] == "I10"


@pytest.mark.parametrize(("q", "want"), [
    ("heart attack", "I21"), ("mi", "I21"), ("chf", "I50.9"), ("pink eye", "H10"), ("htn", "I10"),
    ("water on the knee", "M25.46"), ("broken wrist", "S52.5"), ("sugar diabetes", "E1"), ("uti", "N39.0"),
    ("lap chole", "0FT44ZZ"), ("knee replacement", "0SRC0JZ"), ("cpap", "E0601"), ("low blood sugar", "E16.2"),
    ("dvt", "I82.40"),
])
def test_lexicon_terms(catalog: Catalog, q: str, want: str) -> None:
    r = search(catalog, q)
    assert any(c.startswith(want) for c in codes(r)[:3]), codes(r)


def test_why_it_matched(catalog: Catalog) -> None:
    top = search(catalog, "heart attack")["results"][0]
    assert "<mark>" in top["match"]["fragment"] and top["match"].get("lexicon")
    hit = next(x for x in search(catalog, "juvenile onset diabetes")["results"] if x["code"] == "E10")
    assert hit["match"]["field"] == "inclusion" and hit["match"]["term"] == "juvenile onset diabetes"
    idx = search(catalog, "arthrodesis")["results"][0]  # "Arthrodesis see Fusion": the table, here small, led
    assert idx["code"].startswith("0SG") and idx["match"]["field"] == "index"  # to its codes


def test_fragments_are_escaped(catalog: Catalog) -> None:
    r = search(catalog, "odd injury body region")
    frag = next(x for x in r["results"] if x["code"] == "T14.8")["match"]["fragment"]
    assert "&lt;unspecified&gt;" in frag and "&quot;" in frag and "<mark>" in frag


def test_typos_are_tolerated(catalog: Catalog) -> None:
    r = search(catalog, "conjuntivitis")
    assert codes(r)[0].startswith("H10") and r["did_you_mean"] == "conjunctivitis"
    assert codes(search(catalog, "diabtes type 2"))[0].startswith("E11")


def test_short_words_are_not_corrected(catalog: Catalog) -> None:
    assert search(catalog, "kne")["parsed"]["corrected"] == {}


def test_as_you_type_prefix(catalog: Catalog) -> None:
    assert codes(search(catalog, "conjunctiv"))[0].startswith("H10")
    assert codes(search(catalog, "heart att"))[0].startswith("I21")


def test_did_you_mean_for_a_code(catalog: Catalog) -> None:
    r = search(catalog, "E11.99")
    assert r["total"] == 0 and r["did_you_mean"] == "E11.9"


def test_mixed_codes_and_words(catalog: Catalog) -> None:
    r = search(catalog, "E11 kidney")
    assert codes(r)[0] == "E11" and set(codes(r)[1:3]) <= {"E11.2", "E11.21", "E11.22"}


def test_paging(catalog: Catalog) -> None:
    everything = codes(search(catalog, "diabetes", limit=50))
    assert codes(search(catalog, "diabetes", limit=3, offset=3)) == everything[3:6]


def test_result_shape(catalog: Catalog) -> None:
    r = search(catalog, "wheelchair")
    assert set(r) == {"query", "total", "facets", "results", "did_you_mean", "notice", "parsed"}
    x = r["results"][0]
    assert {"system", "system_name", "code", "title", "kind", "billable", "score", "match"} <= set(x)
    assert {"field", "fragment", "term"} <= set(x["match"])
    assert x["system_name"] == "HCPCS Level II"
    json.dumps(r)


@pytest.mark.parametrize("q", [
    "", "   ", "x" * 10_000, "fracture " * 2000, '"', '"""', "*", "heart*", "NEAR(heart attack)", "-", "(", ")",
    "a OR b", "AND", "NOT", "'; DROP TABLE codes; --", "1=1", "\x00\x01\x1b[31m", "🫀 heart 💔", "心臓発作",
    "ﬁbrillation", "E11.9" * 100, "0" * 50, "-E11", "E11-", "--", "system:", "billable:", "a-b-c-d",
    "%_%", "\\", "../../etc/passwd", "<script>alert(1)</script>",
])
def test_bad_input_never_crashes(catalog: Catalog, q: str) -> None:
    r = search(catalog, q)
    assert isinstance(r["results"], list) and r["total"] >= 0


def test_bad_parameters_are_clear_errors(catalog: Catalog) -> None:
    for kwargs in ({"limit": -1}, {"limit": 10**9}, {"offset": -5}, {"systems": ["nope"]}, {"limit": "10"}):
        with pytest.raises(BadRequest):
            search(catalog, "diabetes", **kwargs)
    with pytest.raises(BadRequest):
        search(catalog, "system:nope x")
    assert search(catalog, "diabetes", limit=0)["results"] == []


def test_suggest(catalog: Catalog) -> None:
    assert [x["code"] for x in suggest(catalog, "E11.")][:3] == ["E11", "E11.2", "E11.21"]
    assert suggest(catalog, "conjunc")[0]["code"].startswith("H10")
    assert suggest(catalog, "") == [] and suggest(catalog, "🫀") == []
    assert len(suggest(catalog, "diab", limit=3)) == 3


def test_path_or_catalog(index_path: Path) -> None:
    assert codes(search(str(index_path), "e119"))[0] == "E11.9"
    assert codes(search(index_path, "e119"))[0] == "E11.9"


def test_medcodes_search_uses_the_default_index(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDCODES_DB", str(index_path))
    assert codes(medcodes.search("e119"))[0] == "E11.9"
    assert codes(medcodes.search("pink eye", systems=["icd10cm"], limit=1)) == ["H10"] or \
        codes(medcodes.search("pink eye", limit=1))[0].startswith("H10")


def test_cli_json(index_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "medcodes", "search", "heart attack", "--db", str(index_path),
                           "--json", "--limit", "3"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"query", "total", "facets", "results"} <= set(data) and data["query"] == "heart attack"
    assert data["results"][0]["code"].startswith("I21") and len(data["results"]) <= 3


def test_cli_text_and_errors(index_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "medcodes", "search", "e119", "--db", str(index_path)],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "E11.9" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "medcodes", "search", "x", "--system", "nope", "--db",
                          str(index_path)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "unknown code system" in bad.stderr


def test_one_letter_prefixes_have_their_own_index(catalog: Catalog) -> None:
    """"low b" asks FTS5 for "b"*: without a one-letter prefix index it merges the doclist of every
    b-word of the index (100 ms on the full index), with it one doclist."""
    sql = catalog.conn.execute("SELECT sql FROM sqlite_master WHERE name='search_fts'").fetchone()[0]
    assert "prefix='1 2 3'" in sql
    assert [r["code"] for r in suggest(catalog, "diabetes t", 3)][:1] == ["E11.9"]


def test_an_english_word_keeps_only_its_own_forms() -> None:
    from medcodes.search.spell import english_words, same_word

    assert {"worse", "turned", "shave"} <= english_words()
    assert not {"diabetis", "athritis", "pnemonia"} & english_words()  # slips stay correctable
    assert same_word("crusty", "crust") and same_word("bruised", "bruise")
    assert same_word("chiropractor", "chiropractic")
    assert not same_word("worse", "horse") and not same_word("shave", "have") and not same_word("turned", "burned")
