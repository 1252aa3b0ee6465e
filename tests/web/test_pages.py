"""HTML pages: search, code page sections, redirects, browse, sources, accessibility basics."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from medcodes.app import services
from medcodes.index import Catalog
from medcodes.web import pages

if TYPE_CHECKING:
    from starlette.testclient import TestClient


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def plain(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.text))


def page(client: TestClient, url: str, status: int = 200) -> Tags:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("text/html")
    return Tags(r.text)


def test_home_has_one_labelled_search_box_and_examples(client: TestClient) -> None:
    t = page(client, "/")
    inputs = t.all("input", name="q")
    assert len(inputs) == 1 and t.all("label", **{"for": inputs[0]["id"] or ""})
    assert inputs[0]["data-suggest"] == "/api/v1/suggest"
    assert inputs[0]["data-code-url"] == "/codes/__SYSTEM__/__CODE__"
    assert any(a.get("href", "").startswith("/search?q=") for a in t.all("a"))  # type: ignore[union-attr]
    assert "ICD-10-PCS" in t.plain() and "Search medical codes" in t.plain()


def test_search_groups_results_by_system_with_counts_and_highlights(client: TestClient) -> None:
    r = client.get("/search", params={"q": "diabetes"})
    t = Tags(r.text)
    headings = [h for h in re.findall(r'<h2 id="g-([a-z0-9-]+)">', r.text)]
    assert headings[:1] == ["icd10cm"] and "icd9cm" in headings
    assert "<mark>" in r.text and "Diabetes" in r.text
    assert t.all("input", type="checkbox", name="system", value="icd10cm")
    assert any(a.get("href") == "/codes/icd10cm/E11.9" for a in t.all("a"))


def test_search_filters_by_system_and_billable(client: TestClient) -> None:
    r = client.get("/search", params=[("q", "diabetes"), ("system", "icd9cm")])
    assert "/codes/icd9cm/250.00" in r.text and "/codes/icd10cm/E11.9" not in r.text
    assert 'value="icd9cm" checked' in r.text
    r = client.get("/search", params={"q": "diabetes", "billable": "false"})
    assert "/codes/icd10cm/E11\"" in r.text and "/codes/icd10cm/E11.9" not in r.text


def test_search_paginates(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "SEARCH_PAGE", 2)
    first = client.get("/search", params={"q": "diabetes"}).text
    assert 'rel="next" href="/search?q=diabetes&amp;page=2"' in first and 'rel="prev"' not in first
    second = client.get("/search", params={"q": "diabetes", "page": "2"}).text
    assert 'rel="prev"' in second and "Page 2 of" in second
    codes_1 = set(re.findall(r'class="result" href="([^"]+)"', first))
    codes_2 = set(re.findall(r'class="result" href="([^"]+)"', second))
    assert len(codes_1) == 2 and codes_1.isdisjoint(codes_2)


def test_search_without_query_and_with_no_results(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Type words or a code" in page(client, "/search").plain()
    empty = {"query": "zzzyxw", "total": 0, "facets": {}, "results": [], "did_you_mean": "zzz", "notice": None,
             "parsed": {}}
    monkeypatch.setattr(services, "search", lambda *a, **k: empty)
    text = page(client, "/search?q=zzzyxw&billable=true").plain()
    assert "No codes match" in text and "Did you mean zzz?" in text and "search without them" in text


def test_xss_in_query_and_titles_is_shown_as_text(client: TestClient) -> None:
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    for url in ("/search", "/"):
        r = client.get(url, params={"q": attack})
        assert "<script>alert" not in r.text and "<img src=x" not in r.text
    r = client.get("/search", params={"q": attack})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    r = client.get("/search", params={"q": "other injury body region"})
    assert "/codes/icd10cm/T14.8" in r.text and "<script>x" not in r.text
    r = client.get("/codes/icd10cm/T14.8")
    assert "&lt;script&gt;x&lt;/script&gt;" in r.text and "<script>x" not in r.text


def test_code_page_sections(client: TestClient) -> None:
    t = page(client, "/codes/icd10cm/E11.9")
    text = t.plain()
    assert "ICD-10-CM code" in text and "E11.9" in text
    assert t.all("h1") and "Type 2 diabetes mellitus without complications" in text
    assert "Short descriptor" in text and "Type 2 diabetes mellitus w/o complications" in text
    crumbs = [a["href"] for a in t.all("a") if a.get("href", "").startswith("/codes/icd10cm/E")]  # type: ignore[union-attr]
    assert crumbs[:3] == ["/codes/icd10cm/E00-E89", "/codes/icd10cm/E08-E13", "/codes/icd10cm/E11"]
    assert "Excludes1" in text and "gestational diabetes (O24.4-)" in text and "Use additional code" in text
    assert "Crosswalks" in text and "/codes/icd9cm/250.00" in str(t.all("a"))
    assert "Release and history" in text and "ICD-10-CM FY2026" in text
    assert "E11.9 is the ICD-10-CM code for" in text and "From the official data" in text
    # nothing a reader must scroll past: no empty sections, no note said twice
    assert "No generated explanation yet" not in text and "Medical policies and guidelines" not in text
    assert text.count("gestational diabetes") == 1 and "written on E11, applies" not in text
    html = client.get("/codes/icd10cm/E11.9").text
    headings = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]
    assert headings[:3] == ["In plain language", "Key facts", "Notes"]
    assert headings.index("Crosswalks") < headings.index("Release and history") < headings.index("Similar codes")


def test_codes_named_in_notes_are_links(client: TestClient) -> None:
    r = client.get("/codes/icd10cm/E11.9")
    assert '<a class="code" href="/codes/icd10cm/O24.4">O24.4-</a>' not in r.text  # O24.4 is not in the fixture
    assert "gestational diabetes (O24.4-)" in Tags(r.text).plain()
    r = client.get("/codes/icd10cm/E11.65")
    links = [a["href"] for a in Tags(r.text).all("a") if a.get("class") == "code"]  # type: ignore[union-attr]
    assert "/codes/icd10cm/E11" in links  # "Written on E11" names the code the note came from


def test_badges_are_true_for_the_system(client: TestClient) -> None:
    text = page(client, "/codes/msdrg/250").plain()
    assert "Payment group" in text and "Billable" not in text and "valid for submission" not in text
    text = page(client, "/codes/icd10cm/E11.8").plain()
    assert "Deleted in ICD-10-CM FY2026" in text and "Not billable" not in text
    text = page(client, "/codes/icd10cm/E00-E89").plain()
    assert "Chapter heading" in text and "Billable" not in text


def test_a_code_only_policies_cite_opens_with_no_empty_sections(client: TestClient) -> None:
    text = page(client, "/codes/cpt/99999").plain()
    for empty in ("No instructional notes", "No crosswalks loaded", "No loaded CPT release includes"):
        assert empty not in text


def test_a_near_miss_lists_the_nearest_codes(client: TestClient) -> None:
    r = client.get("/codes/icd10cm/E11.99")
    assert r.status_code == 404
    t = Tags(r.text)
    assert "The nearest real codes" in t.plain()
    assert "/codes/icd10cm/E11.9" in [a.get("href") for a in t.all("a")]
    assert "/search?q=E11.99" in r.text


def test_a_whole_code_in_the_search_box_opens_its_page(client: TestClient) -> None:
    r = client.get("/search", params={"q": "e119"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/codes/icd10cm/E11.9"
    r = client.get("/search", params={"q": "diabetes"}, follow_redirects=False)
    assert r.status_code == 200


def test_gzip_and_static_cache_headers(client: TestClient) -> None:
    r = client.get("/codes/icd10cm/E11.9", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    r = client.get("/static/style.css?v=abc")
    assert "immutable" in r.headers["cache-control"]


def test_code_page_children_and_history(client: TestClient) -> None:
    text = page(client, "/codes/icd10cm/E11").plain()
    assert "Codes under E11" in text and "E11.65" in text and "Not billable" in text
    text = page(client, "/codes/icd10cm/E11.65").plain()
    assert "title revised from" in text and "(old)" in text
    text = page(client, "/codes/icd10cm/E11.8").plain()
    assert "Deleted in ICD-10-CM FY2026" in text


@pytest.mark.parametrize(("url", "label"), [
    ("/codes/icd10pcs/0SG00A1", "ICD-10-PCS code"),
    ("/codes/icd10pcs/0SG", "ICD-10-PCS table"),
    ("/codes/hcpcs/J1100", "HCPCS Level II code"),
    ("/codes/hcpcs/J0120-J8499", "HCPCS Level II section"),
    ("/codes/hcpcs-mod/LT", "HCPCS Level II modifier"),
    ("/codes/cpt/99999", "CPT® code"),
    ("/codes/icd9pcs/81.08", "ICD-9-CM procedure code"),
    ("/codes/icd10cm/E00-E89", "ICD-10-CM chapter"),
])
def test_system_labels(client: TestClient, url: str, label: str) -> None:
    t = page(client, url)
    assert label in t.plain()


def test_pcs_page_shows_axes(client: TestClient) -> None:
    text = page(client, "/codes/icd10pcs/0SG00A1").plain()
    assert "What each character means" in text and "Interbody Fusion Device" in text and "Lower Joints" in text


def test_later_sections_render_from_the_store(client: TestClient) -> None:
    """E11.65 has generated text, policies and co-cited codes in the fixture store (tests/web/fixture_store.py)."""
    r = client.get("/codes/icd10cm/E11.65")
    text = Tags(r.text).plain()
    assert "From the official data" in text and "Explained by a language model" in text
    assert "Generated — not medical advice" in text and "test-model-7b" in text and "2026-01-02" in text
    assert "High blood sugar in type 2 diabetes" in text
    assert "Medical policies and guidelines for E11.65" in text and "Continuous glucose monitors" in text
    assert "Similar codes" in text
    assert "cited by the same" in client.get("/codes/icd10cm/E11.65/similar?fragment=1").text
    api = client.get("/api/v1/codes/icd10cm/E11.65").json()
    assert {p["title"] for p in api["policies"]} >= {"Continuous glucose monitors"}  # the same data function


@pytest.mark.parametrize(("url", "target"), [
    ("/codes/icd10cm/e119", "/codes/icd10cm/E11.9"),
    ("/codes/icd10cm/E119", "/codes/icd10cm/E11.9"),
    ("/codes/icd10cm/e11.9", "/codes/icd10cm/E11.9"),
    ("/codes/ICD10CM/E11.9", "/codes/icd10cm/E11.9"),
    ("/codes/icd10pcs/0sg00a1", "/codes/icd10pcs/0SG00A1"),
    ("/codes/icd9cm/25000", "/codes/icd9cm/250.00"),
    ("/codes/hcpcs/j1100", "/codes/hcpcs/J1100"),
    ("/codes/icd10cm/", "/browse/icd10cm"),
    ("/codes/icd10cm/e08-e13", "/codes/icd10cm/E08-E13"),
])
def test_non_canonical_code_urls_redirect(client: TestClient, url: str, target: str) -> None:
    r = client.get(url)
    assert r.status_code == 301 and r.headers["location"] == target


def test_code_without_system(client: TestClient) -> None:
    r = client.get("/codes/e119")
    assert r.status_code == 302 and r.headers["location"] == "/codes/icd10cm/E11.9"
    assert client.get("/codes/icd10pcs").headers["location"] == "/browse/icd10pcs"
    t = page(client, "/codes/4513")  # ICD-9-CM 451.3 and ICD-9-CM Vol. 3 45.13
    assert "is a code in 2 systems" in t.plain()
    page(client, "/codes/NOPE", 404)


def test_code_page_is_cached_with_an_etag(client: TestClient) -> None:
    r = client.get("/codes/icd10cm/E11.9")
    assert r.headers["cache-control"].startswith("public") and r.headers["etag"]
    again = client.get("/codes/icd10cm/E11.9", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/codes/icd10cm/E11.65")
    assert other.headers["etag"] != r.headers["etag"]


def test_browse_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page(client, "/browse").plain()
    assert "ICD-10-CM" in text and "HCPCS Level II" in text and "MS-DRG" in text
    t = page(client, "/browse/icd10pcs")
    assert "/codes/icd10pcs/0" in str(t.all("a")) and "section" in t.plain()
    t = page(client, "/browse/icd10pcs/0S")
    assert "/codes/icd10pcs/0SG" in str(t.all("a")) and "table" in t.plain()
    t = page(client, "/browse/hcpcs")
    assert "Drugs administered other than oral method" in t.plain()
    monkeypatch.setattr(pages, "BROWSE_PAGE", 2)
    r = client.get("/browse/icd10cm/E11", params={"page": "2"})
    assert "Page 2 of 2" in r.text and 'rel="prev"' in r.text
    assert client.get("/browse/ICD10CM").headers["location"] == "/browse/icd10cm"
    assert client.get("/browse/icd10cm/e11").headers["location"] == "/browse/icd10cm/E11"


def test_sources_page(client: TestClient) -> None:
    text = page(client, "/sources").plain()
    assert "Data sources" in text and "ICD-10-CM FY2026" in text and "ICD-10-PCS" in text


def test_api_docs_page_lists_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    text = page(client, "/api/docs").plain()
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"{method.upper()} {path}" in text
    assert client.get("/api").headers["location"] == "/api/docs"


@pytest.mark.parametrize("url", ["/", "/search?q=diabetes", "/codes/icd10cm/E11.9", "/browse", "/browse/icd10cm",
                                 "/sources", "/api/docs", "/codes/icd10pcs/0SG00A1", "/nope"])
def test_accessibility_basics(client: TestClient, url: str) -> None:
    r = client.get(url)
    t = Tags(r.text)
    assert t.all("html", lang="en") and t.all("meta", name="viewport")
    skip = [a for a in t.all("a") if a.get("class") == "skip-link"]
    assert skip and skip[0]["href"] == "#main" and t.all("main", id="main")
    assert len(t.all("h1")) == 1
    ids = [a["id"] for _, a in t.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for attrs in t.all("input"):
        if attrs.get("type") in ("hidden", "submit"):
            continue
        assert t.all("label", **{"for": attrs["id"] or ""}), f"input {attrs} has no label"
    for img in t.all("img"):
        assert img.get("alt") is not None
    assert "Content-Security-Policy" in r.headers and "script-src 'self'" in r.headers["content-security-policy"]


def test_stylesheet_is_responsive_and_printable(client: TestClient) -> None:
    css = client.get("/static/style.css").text
    assert "@media print" in css and "@media (max-width" in css and ":focus-visible" in css
    assert client.get("/static/app.js").headers["content-type"].startswith(("text/javascript",
                                                                            "application/javascript"))


BAD_PAGES = [
    ("/codes/icd11/E11.9", 404),
    ("/codes/icd10cm/Z99.99", 404),
    ("/codes/icd10cm/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400),
    ("/codes/icd10cm/" + "E" * 500, 400),
    ("/codes/icd10cm/E11%00", 400),
    ("/codes/NOPE", 404),
    ("/codes/" + "x" * 300, 404),
    ("/browse/icd11", 404),
    ("/browse/icd10cm/Z99.99", 404),
    ("/browse/icd10cm/E11?page=0", 400),
    ("/browse/icd10cm/E11?page=99", 400),
    ("/browse/icd10cm?page=abc", 400),
    ("/search?q=" + "a" * 201, 400),
    ("/search?q=%00", 400),
    ("/search?q=diabetes&system=icd11", 400),
    ("/search?q=diabetes&billable=perhaps", 400),
    ("/search?q=diabetes&page=0", 400),
    ("/search?q=diabetes&page=x", 400),
    ("/search?q=diabetes&page=100000", 400),
    ("/nope", 404),
    ("/static/nope.css", 404),
    ("/static/../medcodes/web/app.py", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_PAGES)
def test_bad_page_requests_are_4xx_html_pages(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code)
    if url.startswith("/static/"):
        return
    t = Tags(r.text)
    assert r.headers["content-type"].startswith("text/html") and len(t.all("h1")) == 1
    assert t.all("input", name="q"), "an error page still offers the search box"
    assert "<script>alert" not in r.text


def test_odd_but_harmless_queries_are_answered(client: TestClient) -> None:
    for q in ("%FF%FE", "%E2%80%8B", "'; DROP TABLE codes; --", "\"unbalanced", "a AND OR NOT (", "*", "é"):
        r = client.get("/search?q=" + q)
        assert r.status_code == 200, q
        assert client.get("/api/v1/search?q=" + q).status_code == 200
    assert client.post("/", content=b"x").status_code == 405


def test_attributes_read_as_words() -> None:
    from medcodes.web.templating import attribute_rows

    rows = attribute_rows({"coverage": "D", "coverage_label": "Special coverage instructions apply",
                           "pricing_indicators": ["51", "57"], "pricing_indicators_labels": ["Drugs", "Other"],
                           "types": ["1", "P"], "added": "1982-01-01", "axes": [], "title_composed": True,
                           "orphan_label": "Only a label", "nested": {"a": 1}})
    assert rows == [("Medicare coverage", "Special coverage instructions apply (D)"),
                    ("Pricing", "Drugs (51); Other (57)"), ("Types", "1, P"), ("Added", "1982-01-01"),
                    ("Nested", '{"a": 1}'), ("Orphan", "Only a label")]
    rows = dict(attribute_rows({"mdc": "05", "gmlos": 2.1, "amlos": 2.6, "post_acute": True, "betos": "D1E",
                                "weight_uncapped": 1.0}))
    assert rows == {"Major diagnostic category (MDC)": "05", "Geometric mean length of stay (days)": "2.1",
                    "Arithmetic mean length of stay (days)": "2.6", "Post-acute care transfer DRG": "Yes",
                    "BETOS category": "D1E"}


def test_server_errors_keep_each_shape(index_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from medcodes.web.app import create_app

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("index broke")

    monkeypatch.setattr(Catalog, "official", broken)
    with TestClient(create_app(index_path), raise_server_exceptions=False) as c:
        api = c.get("/api/v1/codes/icd10cm/E11.9")
        assert api.status_code == 500 and api.json()["error"] == "internal_error"
        assert "index broke" not in api.text  # no internals leak to the client
        fhir = c.get("/fhir/CodeSystem/$lookup", params={"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                         "code": "E11.9"})
        assert fhir.status_code == 500 and fhir.json()["issue"][0]["code"] == "exception"
        html = c.get("/codes/icd10cm/E11.9")
        assert html.status_code == 500 and "Something went wrong" in html.text
