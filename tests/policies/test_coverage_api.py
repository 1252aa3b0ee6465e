"""The CMS Coverage API client and importer against a local server shaped by the API's OpenAPI spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.policies import policies_for_code
from medcodes.policies.coverage_api import CoverageAPI, article_record, lcd_record, ncd_record
from medcodes.policies.http import FetchError, HttpClient
from medcodes.policies.linking import CatalogChecker

from . import fake_cms
from .servers import serve

SPEC = "cms_mcd_coverage_api_2025/coverage_api_openapi_v1.5.json"


def api_for(url: str) -> CoverageAPI:
    return CoverageAPI(url, http=HttpClient(rate=1000, retries=3, backoff=0.01))


def test_paging_follows_next_token_until_the_last_page() -> None:
    with serve(fake_cms.routes()) as site, api_for(site.url) as api:
        listed = list(api.report("articles", status="A"))
        hits = site.hits("/v1/reports/local-coverage-articles/")
    assert [r["document_display_id"] for r in listed] == ["A52837", "A52838", "A52839"]
    assert [h.query for h in hits] == [{"status": "A"}, {"status": "A", "next_token": "page-2"}]


def test_token_refresh_retries_and_the_article(checker: CatalogChecker) -> None:
    with serve(fake_cms.routes()) as site, api_for(site.url) as api:
        record = article_record(api, "A52837", checker, listed=fake_cms.ARTICLE_LIST[0])
        licenses = len(site.hits("/v1/metadata/license-agreement/"))
        code_hits = len(site.hits("/v1/data/article/hcpc-code"))
    assert licenses == 2  # the first token went stale: one refresh on 401
    assert code_hits == 2  # one 503, then the answer
    assert record.policy_id == "medicare-article-a52837" and record.payer == "Medicare (Test MAC, LLC)"
    assert (record.effective, record.last_reviewed, record.number) == ("2025-01-01", "2024-12-18", "A52837")
    sections = {(x.system, x.code): x.section for x in record.links}
    assert sections[("cpt", "15822")] == "covered" and sections[("hcpcs", "A9270")] == "not_covered"
    assert sections[("cpt", "15820")] == "not_covered" and sections[("icd10cm", "H02.831")] == "covered"
    assert sections[("icd10cm", "H53.40")] == "not_covered"
    assert {(x.system, x.first, x.last) for x in record.ranges} == {("cpt", "67901", "67908")}
    assert ("icd10cm", "H02.439") in sections  # the ICD-10 range expanded in catalog order


def test_cpt_descriptors_from_the_api_are_never_stored(checker: CatalogChecker, tmp_path: Path,
                                                      catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    with serve(fake_cms.routes()) as site:
        code = main(["policies", "coverage-api", "--base-url", site.url, "--all", "articles", "--lcd", "L36668",
                     "--ncd", "250.4", "--rate", "1000", "--db", str(catalog_path), "--store", str(store), "--json"])
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert [(r["source"], r["status"]) for r in rows] == [
        ("L36668", "new"), ("250.4", "new"), ("52837", "new"), ("52838", "failed"), ("52839", "failed")], err
    assert code == 1 and "A52838" in err  # the listed articles the server does not hold fail alone
    dump = "\n".join(store_dump(store))
    assert fake_cms.AMA_TEXT not in dump and "15822" in dump
    (lcd,) = policies_for_code(store, "cpt", "82306")
    assert lcd["policy_id"] == "medicare-lcd-l36668" and lcd["effective"] == "2025-08-14"
    (ncd,) = policies_for_code(store, "cpt", "17003")
    assert ncd["section"] == "covered" and ncd["title"] == "Treatment of Actinic Keratosis"


def store_dump(path: Path) -> list[str]:
    import sqlite3

    conn = sqlite3.connect(path)
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return [repr(row) for t in tables if not t.startswith("policy_fts_") for row in conn.execute(f"SELECT * FROM {t}")]


def test_lcd_and_ncd_records(checker: CatalogChecker) -> None:
    with serve(fake_cms.routes()) as site, api_for(site.url) as api:
        lcd = lcd_record(api, "L36668", checker)
        ncd = ncd_record(api, "250.4", checker)
    assert {(x.code, x.section) for x in lcd.links} >= {("82306", "coding"), ("E83.52", "covered"),
                                                        ("Z13.21", "not_covered")}
    assert lcd.last_reviewed == "2025-07-30" and lcd.url.endswith("lcdid=36668&ver=45")
    assert {x.code for x in ncd.links} == {"17000", "17003", "17004"} and ncd.number == "250.4"


def test_a_missing_document_is_one_clear_error(checker: CatalogChecker) -> None:
    with serve(fake_cms.routes()) as site, api_for(site.url) as api:
        with pytest.raises(FetchError, match="no article A52838"):
            article_record(api, "A52838", checker)


@pytest.mark.realdata
def test_the_fake_server_answers_as_the_spec_says(shared_data: Path) -> None:
    spec = json.loads((shared_data / SPEC).read_text())
    schemas = spec["components"]["schemas"]
    header = set(schemas["APISuccessHeader"]["properties"]) | {"next_token"}  # next_token: our paging extension
    for path, (schema, rows) in fake_cms.RESPONSES.items():
        answer = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["properties"]["data"]["items"]["$ref"] == f"#/components/schemas/{schema}", path
        fields = set(schemas[schema]["properties"])
        for row in rows:
            assert set(row) <= fields, (path, set(row) - fields)
    assert set(fake_cms.meta([], next_token="x")) <= header
