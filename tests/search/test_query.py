"""The query parser: codes vs words, ranges, filters, safety. Plus property-based tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medcodes.errors import BadRequest
from medcodes.search import lexicon, rank
from medcodes.search.query import MAX_TOKENS, fold, parse, system_id, words


@pytest.mark.parametrize(("text", "compact"), [
    ("e119", "E119"), ("E11.9", "E119"), ("s72001a", "S72001A"), ("j1100", "J1100"), ("0SG00A1", "0SG00A1"),
    ("S72.0", "S720"), ("0SG", "0SG"), ("E11", "E11"), ("250.00", "25000"),
])
def test_codes_in_any_format(text: str, compact: str) -> None:
    q = parse(text)
    assert [c.compact for c in q.codes] == [compact] and q.words == ()


@pytest.mark.parametrize(("text", "first", "last"), [
    ("E08-E13", "E08", "E13"), ("A0021-A0999", "A0021", "A0999"), ("M25.50-M25.579", "M2550", "M25579"),
    ("M25.50 – M25.579", "M2550", "M25579"),
])
def test_ranges(text: str, first: str, last: str) -> None:
    q = parse(text)
    assert [(r.first, r.last) for r in q.ranges] == [(first, last)] and not q.codes


@pytest.mark.parametrize(("text", "systems"), [
    ("E08-E13", ("icd10cm",)), ("A00-Z99", ("icd10cm",)), ("M25.50-M25.579", ("icd10cm",)),
    ("A0021-A0999", ("icd10cm", "hcpcs")),  # both shapes; the searcher keeps the one whose codes they are
    ("001-999", ("icd9cm", "msdrg")), ("250.0-250.9", ("icd9cm",)), ("00.1-99.9", ("icd9pcs",)),
    ("1-999", ("msdrg",)), ("0SG00A1-0SG00AJ", ("icd10pcs",)),
])
def test_a_range_knows_its_systems(text: str, systems: tuple[str, ...]) -> None:
    (r,) = parse(text).ranges
    assert r.systems == systems


@pytest.mark.parametrize("text", ["a-z", "covid-19", "stage 3-4", "x-1", "A00-250"])
def test_not_ranges(text: str) -> None:
    assert parse(text).ranges == ()


def test_repeats_are_one_range_and_one_code() -> None:
    q = parse("E08-E13 " * 30 + "E11.9 e119")
    assert len(q.ranges) == 1 and [c.compact for c in q.codes] == ["E119"]
    assert parse("1-999").ranges[0].first == "001"  # DRG numbers are three digits


def test_several_codes_at_once() -> None:
    assert [c.compact for c in parse("E11.9, I10; J1100").codes] == ["E119", "I10", "J1100"]


@pytest.mark.parametrize("text", ["covid-19", "type 2 diabetes", "t2-t4 fusion", "back", "knee"])
def test_words_are_not_codes(text: str) -> None:
    q = parse(text)
    assert not q.ranges and not [c for c in q.codes if c.compact.isalpha()]


def test_filters() -> None:
    q = parse("system:hcpcs billable:yes wheelchair")
    assert q.systems == ("hcpcs",) and q.billable is True and q.words == ("wheelchair",)
    assert parse("System:ICD-10-CM,drg x").systems == ("icd10cm", "msdrg")
    assert parse("billable:no x").billable is False


def test_bad_filters_are_clear_errors() -> None:
    with pytest.raises(BadRequest, match="unknown code system"):
        parse("system:nope fracture")
    with pytest.raises(BadRequest, match="billable"):
        parse("billable:maybe fracture")
    assert system_id("HCPCS Level II") == "hcpcs"


def test_words_are_folded() -> None:
    assert words("Ménière's disease") == ["meniere", "disease"]
    assert words("Athlete’s FOOT") == ["athlete", "foot"]
    assert fold("ÄÖü") == "aou"


def test_syntax_never_survives() -> None:
    q = parse('"heart* NEAR(attack) -foo (bar) OR 1=1; DROP TABLE codes; --')
    for w in q.words:
        assert w.isalnum()


def test_long_and_control_input() -> None:
    q = parse("fracture " * 5000)
    assert q.truncated and len(q.words) <= MAX_TOKENS
    assert parse("heart\x00\x07attack\u200b").words == ("heart", "attack")
    assert parse("").empty and parse("   ").empty and parse("🫀🦴").empty


def test_partial() -> None:
    assert parse("heart att").partial and not parse("heart attack ").partial


_ALPHABET = st.characters(blacklist_categories=("Cs",))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=300))
def test_parse_never_crashes(text: str) -> None:
    try:
        q = parse(text)
    except BadRequest:
        return  # a filter that cannot mean anything: a clear error is fine
    assert all(w and all(ch.isalnum() for ch in w) for w in q.words)
    assert len(q.words) <= MAX_TOKENS and len(q.codes) <= MAX_TOKENS
    groups = lexicon.groups(q.words, partial=q.partial)
    if groups:
        expr = rank.fts_expression(groups, q.partial)
        # every term is a quoted run of letters and digits: nothing else can reach FTS5
        assert expr.count('"') % 2 == 0


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z][0-9][0-9A-Za-z](\.[0-9A-Za-z]{1,4})?", fullmatch=True))
def test_icd_shaped_tokens_are_codes(text: str) -> None:
    q = parse(text)
    assert len(q.codes) == 1 and q.codes[0].compact == text.replace(".", "").upper()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[a-z]{1,12}", fullmatch=True), min_size=1, max_size=8))
def test_plain_words_round_trip(ws: list[str]) -> None:
    assert parse(" ".join(ws)).words == tuple(ws)


@pytest.mark.parametrize("text", ["ceftriaxone 250 mg", "methylprednisolone 125 MG", "heparin 5000 units"])
def test_a_number_before_a_dose_unit_is_a_dose_not_a_code(text: str) -> None:
    q = parse(text)
    assert q.codes == () and q.words[1].isdigit(), q


def test_a_number_alone_is_still_a_code() -> None:
    assert [c.compact for c in parse("ceftriaxone 250").codes] == ["250"]
