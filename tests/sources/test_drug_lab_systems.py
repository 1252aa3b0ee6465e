"""LOINC, NDC (with the NDC-HCPCS crosswalk) and RxNorm importers: hand-made files in the official layouts,
bad input naming file and line, a build with all three, and the real LOINC files where present."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from medcodes import systems
from medcodes.app.build import build_index
from medcodes.app.codes import code_data
from medcodes.errors import SourceError
from medcodes.index import Catalog
from medcodes.model import Code, Relation, Release
from medcodes.sources import loinc, ndc, rxnorm

DATA = Path(__file__).resolve().parents[1] / "data"


def _codes(records: list[object]) -> dict[str, Code]:
    return {r.code: r for r in records if isinstance(r, Code)}


# LOINC

def test_loinc_table_terms_classes_and_release() -> None:
    recs = list(loinc.read(DATA / "loinc" / "Loinc.csv"))
    assert recs[0] == Release("loinc", "LOINC (terms changed up to 2.80)")
    codes = _codes(recs)
    t = codes["99001-2"]
    assert (t.title, t.short_title, t.parent, t.billable) == (
        "Fictitium [Mass/volume] in Serum or Plasma", "Fictitium SerPl-mCnc", "CHEM", None)
    assert t.attributes["specimen"] == "Ser/Plas" and t.attributes["common_test_rank"] == "120"
    assert "Fictitium [Mass/Vol]" in t.synonyms and "SerPl" in t.synonyms
    assert "common_test_rank" not in codes["99002-0"].attributes  # rank 0: not among the common tests
    assert codes["99003-8"].attributes["status"] == "DEPRECATED"
    assert (codes["CHEM"].kind, codes["CHEM"].title) == ("section", "Laboratory class CHEM")
    assert codes["H&P.HX"].title == "Clinical class H&P.HX"


def test_loinc_zip_names_its_version(tmp_path: Path) -> None:
    z = tmp_path / "Loinc_2.81.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(DATA / "loinc" / "Loinc.csv", "LoincTable/Loinc.csv")
    recs = list(loinc.read(z))
    assert recs[0] == Release("loinc", "LOINC 2.81") and "99002-0" in _codes(recs)


def test_loinc_bad_input(tmp_path: Path) -> None:
    lines = (DATA / "loinc" / "Loinc.csv").read_text().splitlines()
    bad = tmp_path / "Loinc.csv"
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace('"99002-0"', '"ABC-1"')]) + "\n")
    with pytest.raises(SourceError) as err:
        list(loinc.read(bad))
    assert (err.value.path, err.value.line) == (str(bad), 3) and "not a LOINC number" in err.value.detail
    bad.write_text("\n".join([lines[0], lines[1][:200]]) + "\n")  # a row cut short
    with pytest.raises(SourceError, match="fields where the header has 40") as err2:
        list(loinc.read(bad))
    assert err2.value.line == 2
    bad.write_text("code,name\n1-1,x\n")
    with pytest.raises(SourceError, match="not a LOINC table") as err3:
        list(loinc.read(bad))
    assert err3.value.line == 1


@pytest.mark.realdata
def test_loinc_real_sample_and_top2000(shared_data: Path) -> None:
    sample = shared_data / "loinc_table_sample" / "Loinc_sample.csv"
    top = shared_data / "loinc_top2000" / "LOINC_1.6_Top2000CommonLabResultsUS.csv"
    terms = [c for c in _codes(list(loinc.read(sample))).values() if c.kind == "code"]
    assert len(terms) == 99 and all(systems.looks_like("loinc", c.code) for c in terms)
    recs = list(loinc.read(top))
    assert recs[0].name == "LOINC Top 2000+ common lab results"  # type: ignore[union-attr]
    top_terms = {c.code: c for c in _codes(recs).values() if c.kind == "code"}
    assert len(top_terms) == 2177  # 2,181 rows: four LOINC numbers are listed twice
    assert top_terms["2160-0"].title == "Creatinine [Mass/volume] in Serum or Plasma"
    assert top_terms["2160-0"].attributes["common_test_rank"] == "1"


# NDC

def _ndc_zip(tmp_path: Path) -> Path:
    z = tmp_path / "ndctext.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name in ("product.txt", "package.txt"):
            zf.write(DATA / "ndc" / name, name)
    return z


def test_ndc_directory_packages_under_products_under_labelers(tmp_path: Path) -> None:
    codes = _codes(list(ndc.read(_ndc_zip(tmp_path))))
    pkg = codes["00002-1111-01"]
    assert pkg.parent == "0002-1111" and pkg.billable is True
    assert pkg.title == ("Examplex (dexamethasone sodium phosphate) 4 mg/mL, injection, solution: "
                         "1 VIAL in 1 CARTON (0002-1111-01)  > 1 mL in 1 VIAL")
    assert pkg.attributes["ndc10"] == "0002-1111-01" and "0002-1111-01" in pkg.synonyms
    assert codes["12345-0678-90"].parent == "12345-678"  # 5-3-2 padded to 5-4-2
    assert codes["0002-1111"].parent == "0002" and codes["0002"].title == "Example Pharma Inc."
    assert codes["12345-678"].attributes["route"] == "ORAL"


def test_ndc_files_read_alone() -> None:
    pkgs = _codes(list(ndc.read(DATA / "ndc" / "package.txt")))
    assert pkgs["00002-1111-25"].title == "25 VIAL in 1 CARTON (0002-1111-25)  > 5 mL in 1 VIAL"
    products = _codes(list(ndc.read(DATA / "ndc" / "product.txt")))
    assert products["12345-678"].title == "Sampleprofen Junior (ibuprofen) 100 mg/1, tablet, chewable"


@pytest.mark.parametrize("ten, eleven", [("0002-1111-01", "00002-1111-01"), ("12345-678-90", "12345-0678-90"),
                                         ("12345-6789-1", "12345-6789-01"), ("1234-56-78", None)])
def test_ndc_eleven_digit_form(ten: str, eleven: str | None) -> None:
    assert ndc.eleven(ten) == eleven


def test_ndc_codes_typed_any_way_mean_one_code() -> None:
    assert {systems.normalize("ndc", c) for c in ("00002111101", "0002-1111-01", " 00002-1111-01 ")} == {
        "00002-1111-01"}


def test_ndc_hcpcs_crosswalk_links_packages_to_drug_codes() -> None:
    recs = list(ndc.read(DATA / "ndc" / "asp-ndc-hcpcs-crosswalk.csv"))
    assert recs[0] == Release("ndc", "CMS ASP NDC-HCPCS crosswalk 2026")
    rels = [r for r in recs if isinstance(r, Relation)]
    assert [(r.source_code, r.target_system, r.target_code) for r in rels] == [
        ("00002-1111-01", "hcpcs", "J1100"), ("00002-1111-25", "hcpcs", "J1100")]
    assert rels[1].attributes["bill_units_per_package"] == "500"


def test_ndc_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "package.txt"
    lines = (DATA / "ndc" / "package.txt").read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace("0002-1111-25", "0002-9999-25")]) + "\n")
    with pytest.raises(SourceError) as err:
        list(ndc.read(bad))
    assert (err.value.path, err.value.line) == (str(bad), 3) and "not a 10-digit NDC of product" in err.value.detail
    bad.write_text("\n".join([lines[0], lines[1].rsplit("\t", 2)[0]]) + "\n")  # truncated row
    with pytest.raises(SourceError, match="6 tab-separated fields where the header has 8") as err2:
        list(ndc.read(bad))
    assert err2.value.line == 2
    xw = tmp_path / "crosswalk.csv"
    text = (DATA / "ndc" / "asp-ndc-hcpcs-crosswalk.csv").read_text()
    xw.write_text(text.replace("00002-1111-25", "2-1111"))
    with pytest.raises(SourceError, match="not a HCPCS code and an 11-digit NDC") as err3:
        list(ndc.read(xw))
    assert err3.value.line == 6
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="nor a CMS NDC-HCPCS crosswalk"):
        list(ndc.read(other))


# RxNorm

def test_rxnorm_concepts_named_by_their_rxnorm_name() -> None:
    recs = list(rxnorm.read(DATA / "rxnorm" / "RXNCONSO.RRF"))
    assert recs[0] == Release("rxnorm", "RxNorm RXNCONSO")
    codes = _codes(recs)
    scd = codes["900002"]
    assert (scd.title, scd.parent, scd.attributes["tty"]) == ("examplol 10 MG Oral Tablet", "SCD", "SCD")
    assert scd.synonyms == ("examplol 10 MG Oral Tablet (Prescribable)", "examplol 10mg tab")
    assert scd.attributes["prescribable_name"] == "examplol 10 MG Oral Tablet (Prescribable)"
    assert codes["SCD"].title == "SCD: Semantic Clinical Drug" and codes["SCD"].kind == "section"
    assert "900004" not in codes  # obsolete (SUPPRESS=O)
    assert "900005" not in codes  # another source's name, under its own licence


def test_rxnorm_zip_release_date(tmp_path: Path) -> None:
    z = tmp_path / "RxNorm_full_prescribe_12012025.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(DATA / "rxnorm" / "RXNCONSO.RRF", "rrf/RXNCONSO.RRF")
    assert next(iter(rxnorm.read(z))) == Release("rxnorm", "RxNorm prescribable content 2025-12-01")


def test_rxnorm_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "RXNCONSO.RRF"
    lines = (DATA / "rxnorm" / "RXNCONSO.RRF").read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1].rsplit("|", 3)[0]]) + "\n")
    with pytest.raises(SourceError) as err:
        list(rxnorm.read(bad))
    assert (err.value.path, err.value.line) == (str(bad), 2) and "RXNCONSO.RRF has 18" in err.value.detail
    bad.write_text(lines[-1] + "\n")  # only another source's rows
    with pytest.raises(SourceError, match="no unsuppressed SAB=RXNORM rows"):
        list(rxnorm.read(bad))


# A build with all three: code pages and search hits come from the same index.

@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    tmp = tmp_path_factory.mktemp("drugs")
    z = _ndc_zip(tmp)
    out = tmp / "idx.sqlite"
    build_index([("loinc", DATA / "loinc" / "Loinc.csv"), ("ndc", z),
                 ("ndc", DATA / "ndc" / "asp-ndc-hcpcs-crosswalk.csv"), ("rxnorm", DATA / "rxnorm" / "RXNCONSO.RRF")],
                out)
    return Catalog(out)


def test_built_index_code_data(catalog: Catalog) -> None:
    d = code_data(catalog, "ndc", "00002111101", extra=False)
    assert d.code == "00002-1111-01" and d.fhir_system == "http://hl7.org/fhir/sid/ndc"
    assert [(x.direction, x.system, x.code) for x in d.crosswalks] == [("to", "hcpcs", "J1100")]
    assert code_data(catalog, "loinc", "99001-2", extra=False).fhir_system == "http://loinc.org"
    rx = code_data(catalog, "rxnorm", "900002", extra=False)
    assert rx.fhir_system == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert [a.code for a in rx.ancestors] == ["SCD"]
    assert d.edits is None and rx.edits is None  # coding edits are for ICD-10-CM/PCS codes


def test_built_index_search_hits(catalog: Catalog) -> None:
    from medcodes import search

    for q, system, code in (("fictitium serum", "loinc", "99001-2"), ("examplol tablet", "rxnorm", "900002"),
                            ("sampleprofen chewable", "ndc", "12345-0678-90")):
        hits = search.search(catalog, q, limit=5)["results"]
        assert (system, code) in [(h["system"], h["code"]) for h in hits], q



@pytest.mark.parametrize("typed", ["0002-1111-01", "00002111101", "00002-1111-01"])
def test_any_ndc_form_finds_the_package(catalog: Catalog, typed: str) -> None:
    from medcodes import search

    hits = search.search(catalog, typed, limit=3)["results"]
    assert [(h["system"], h["code"]) for h in hits][:1] == [("ndc", "00002-1111-01")]


def test_a_loinc_number_is_a_code_not_a_range(catalog: Catalog) -> None:
    from medcodes import search
    from medcodes.search.query import parse

    assert [c.compact for c in parse("99001-2").codes] == ["99001-2"] and not parse("0002-1111-01").ranges
    assert parse("stage 3-4").codes == () and parse("001-999").ranges  # words and DRG ranges as before
    hits = search.search(catalog, "99001-2", limit=3)["results"]
    assert [(h["system"], h["code"]) for h in hits][:1] == [("loinc", "99001-2")]


def test_code_pages_and_search_page(catalog: Catalog) -> None:
    import warnings

    from starlette.exceptions import StarletteDeprecationWarning

    from medcodes.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient

    with TestClient(create_app(catalog.path), follow_redirects=True) as client:
        page = client.get("/codes/ndc/00002111125")
        assert page.status_code == 200 and "00002-1111-25" in page.text and "National Drug Code" in page.text
        assert 'href="/codes/hcpcs/J1100"' not in page.text  # J1100 is not loaded: named, not linked
        assert "J1100" in page.text and "500 billing units per package" in page.text
        loinc_page = client.get("/codes/loinc/99001-2").text
        assert "Fictitium [Mass/volume] in Serum or Plasma" in loinc_page and "Ser/Plas" in loinc_page
        rx = client.get("/codes/rxnorm/900002").text
        assert "examplol 10 MG Oral Tablet" in rx and "Semantic Clinical Drug" in rx
        found = client.get("/search", params={"q": "fictitium"}).text
        assert "/codes/loinc/99001-2" in found
