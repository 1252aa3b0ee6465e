"""The code page's explainer, policies and similar codes from the store; policy, changes and docs pages;
CPT codes cited by policies without CPT data; escaping of everything a policy brings in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from medcodes.app import codes
from medcodes.model import Record
from medcodes.web.app import create_app

from ..indexes import WEB_OLD, WEB_RECORDS, build_index
from . import fixture_store
from .test_pages import Tags, page

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def _section(html: str, heading_id: str) -> str:
    """The HTML of the code-page section labelled by `heading_id`."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start:html.index("</section>", start)]


def test_explainer_shows_official_facts_then_labelled_generated_text(client: TestClient) -> None:
    html = client.get("/codes/icd10cm/E11.65").text
    part = Tags(_section(html, "explainer-h")).plain()
    assert part.index("From the official data") < part.index("Explained by a language model")
    assert "E11.65 is the ICD-10-CM code for “Type 2 diabetes mellitus with hyperglycemia”" in part
    assert "Generated — not medical advice" in part and "test-model-7b" in part and "2026-01-02" in part
    assert "review status: unreviewed" in part and "the official data changed since it was written" in part
    assert "High blood sugar in type 2 diabetes" in part and "Tiredness" in part
    assert "No generated explanation yet" not in part


def test_policies_section_says_who_what_and_where(client: TestClient) -> None:
    html = client.get("/codes/icd10cm/E11.65").text
    section = _section(html, "policies-h")
    text = Tags(section).plain()
    assert "Medical policies and guidelines for E11.65" in text and "Related policies from health plans" in text
    assert "Continuous glucose monitors" in text and "Example Health Plan" in text and "policy MP-1.01.23" in text
    assert "effective 2024-01-01" in text and "reviewed 2025-06-01" in text
    assert "Covered / medically necessary" in text and "Covered for members with E11.65 when criteria are met" in text
    assert "Coding table" in text  # every section the policy cites the code under
    assert 'href="https://example.org/policies/cgm"' in section and 'href="/policies/example-cgm"' in section
    # the strongest statement first: covered before mentioned
    assert text.index("Continuous glucose monitors") < text.index("Spinal cord stimulation")


def test_policy_text_is_escaped_and_links_are_only_http(client: TestClient) -> None:
    html = client.get("/codes/icd10cm/E11.65").text
    section = _section(html, "policies-h")
    assert "<script" not in section and "<img" not in section and "<b>" not in section
    assert "javascript:" not in html
    text = Tags(section).plain()
    assert fixture_store.XSS_SNIPPET in text and fixture_store.XSS_TITLE in text and "Evil <b>Plan</b>" in text


def similar_part(client: TestClient, path: str) -> str:
    """The similar codes the code page at `path` shows: inline when already found, else the list
    app.js fetches from the address the page names."""
    section = _section(client.get(path).text, "similar-h")
    if "data-similar-src" not in section:
        return section
    src = section.split('data-similar-src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    r = client.get(src)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    return r.text


def test_similar_codes_with_reasons(client: TestClient) -> None:
    section = similar_part(client, "/codes/icd10cm/E11.65")
    text = Tags(section).plain()
    assert "/codes/icd10cm/E11.9" in section and "same family (under E11)" in text
    assert "/codes/icd10cm/E10.9" in section and "cited by the same" in text
    assert "/codes/cpt/63685" in section  # a CPT code without CPT data: it has a page of its own


def test_similar_codes_come_after_the_page_on_a_first_visit_and_with_it_after(client: TestClient) -> None:
    """Finding similar codes is most of a first visit's time: the page leaves them to a second
    request (app.js; a link without JavaScript) unless they are already found."""
    codes._SIMILAR.clear()
    section = _section(client.get("/codes/icd10cm/E11.9").text, "similar-h")
    assert 'data-similar-src="/codes/icd10cm/E11.9/similar?fragment=1"' in section
    assert 'href="/codes/icd10cm/E11.9/similar"' in section and "cited by the same" not in section
    own = page(client, "/codes/icd10cm/E11.9/similar")  # the page a reader without JavaScript lands on
    assert "Codes similar to E11.9" in own.plain() and "same family (under E11)" in own.plain()
    assert "/codes/icd10cm/E11.9" in {a["href"] for a in own.all("a")}
    fragment = client.get("/codes/icd10cm/E11.9/similar?fragment=1").text
    assert "<html" not in fragment and "same family (under E11)" in fragment and "<ul" in fragment
    again = _section(client.get("/codes/icd10cm/E11.9").text, "similar-h")
    assert "data-similar-src" not in again and "same family (under E11)" in again
    assert Tags(fragment).plain() in Tags(again).plain()


@pytest.mark.parametrize(("url", "location"), [
    ("/codes/icd10cm/e119/similar", "/codes/icd10cm/E11.9/similar"),
    ("/codes/ICD10CM/E11.9/similar?fragment=1", "/codes/icd10cm/E11.9/similar?fragment=1"),
])
def test_similar_page_redirects_to_the_canonical_code(client: TestClient, url: str, location: str) -> None:
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == location


def test_similar_page_of_an_unknown_code_is_a_404(client: TestClient) -> None:
    assert client.get("/codes/icd10cm/Z99.99/similar").status_code == 404
    assert client.get("/codes/nosuch/E11.9/similar").status_code in (400, 404)


def test_empty_sections_are_left_out(client: TestClient) -> None:
    t = page(client, "/codes/icd9pcs/45.13")
    text = t.plain()
    assert "No generated explanation yet" not in text and "Explained by a language model" not in text
    assert "Medical policies and guidelines" not in text
    assert "Similar codes" in text and "Legacy code" in text


@pytest.mark.parametrize("url", ["/codes/cpt/63650", "/codes/cpt/63685", "/codes/cpt/63660"])
def test_a_cpt_code_cited_by_a_policy_has_a_page(client: TestClient, url: str) -> None:
    t = page(client, url)
    code = url.rsplit("/", 1)[1]
    h1 = Tags(client.get(url).text)
    assert "CPT® code" in t.plain() and f"CPT® code {code}" in h1.plain()
    assert "Medical policies and guidelines for " + code in t.plain() and "Spinal cord stimulation" in t.plain()
    assert f"{code} is a CPT® code. Its descriptor is not shown" in t.plain()
    text = t.plain()  # the policy comes right after the explainer: no empty sections before it
    assert text.index("Medical policies and guidelines") - text.index("In plain language") < 400


def test_cpt_page_lists_similar_codes_and_its_json_twin(client: TestClient) -> None:
    html = client.get("/codes/cpt/63650").text
    similar = similar_part(client, "/codes/cpt/63650")
    assert "/codes/cpt/63685" in similar and "/codes/icd10cm/E11.65" in similar
    assert "FHIR $lookup" not in html  # FHIR knows only loaded codes
    data = client.get("/api/v1/codes/cpt/63650").json()
    assert data["in_index"] is False and data["title"] is None and data["system_label"] == "CPT® code"
    assert data["policies"][0]["policy_id"] == "example-scs" and data["policies"][0]["section"] == "covered"
    assert data["similar"][0] == {"system": "cpt", "code": "63685", "title": None,
                                  "reason": "cited by the same 1 policy", "reason_type": "policy"}


def test_uncited_cpt_codes_and_other_systems_have_no_page(client: TestClient) -> None:
    page(client, "/codes/cpt/12345", 404)
    page(client, "/codes/icd10cm/Z99.99", 404)  # only licensed systems get a cited-only page
    assert client.get("/codes/cpt/63650X").status_code == 404


@pytest.fixture(scope="module")
def no_cpt_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An index with no CPT data at all, and a store whose policies cite CPT codes."""
    records: list[Record] = [r for r in WEB_RECORDS + WEB_OLD if getattr(r, "system", "") != "cpt"]
    index = tmp_path_factory.mktemp("nocpt") / "index.sqlite"
    build_index(index, "web", records=records)
    store = fixture_store.build(index, (fixture_store.SCS,), explainer=False)
    from starlette.testclient import TestClient  # imported by conftest first, past its deprecation warning

    with TestClient(create_app(index, store=store), follow_redirects=False) as c:
        yield c


def test_cpt_page_without_any_cpt_data(no_cpt_client: TestClient) -> None:
    t = page(no_cpt_client, "/codes/cpt/63650")
    text = t.plain()
    assert "CPT® code 63650" in text and "Spinal cord stimulation" in text
    assert "63685" in Tags(similar_part(no_cpt_client, "/codes/cpt/63650")).plain()
    assert "medically necessary when all criteria below are met" in text
    assert no_cpt_client.get("/codes/CPT/63650").headers["location"] == "/codes/cpt/63650"
    assert no_cpt_client.get("/codes/cpt/99999").status_code == 404
    assert "cpt" not in {s["id"] for s in no_cpt_client.get("/api/v1/systems").json()["systems"]}


def test_policy_page_lists_every_code_and_shows_sanitised_html(client: TestClient) -> None:
    t = page(client, "/policies/example-scs")
    text = t.plain()
    assert "Spinal cord stimulation" in text and "MP-7.01.25" in text and "effective" in text.lower()
    hrefs = {a["href"] for a in t.all("a")}
    assert {"/codes/cpt/63650", "/codes/cpt/63685", "/codes/icd10cm/E11.65"} <= hrefs
    assert "63650–63688" in text and "Covered / medically necessary" in text and "Coding table" in text
    hostile = client.get("/policies/hostile").text
    doc = hostile[hostile.index('class="policy-document"'):]
    for bad in ("<script", "onerror", "onclick", "javascript:", "<img"):
        assert bad not in doc.lower(), bad
    assert "E11.65 applies." in doc and fixture_store.XSS_TITLE in Tags(hostile).plain()


def test_policy_search_page(client: TestClient) -> None:
    text = page(client, "/policies?q=spinal").plain()
    assert "Spinal cord stimulation" in text and "Continuous glucose" not in text
    text = page(client, "/policies").plain()
    assert "Continuous glucose monitors" in text and "Spinal cord stimulation" in text
    assert "No policies match" in page(client, "/policies?q=nothingmatchesthis").plain()


def test_changes_page_lists_what_a_release_did(client: TestClient) -> None:
    t = page(client, "/changes/icd10cm/ICD-10-CM%20FY2026")
    text = t.plain()
    assert "What ICD-10-CM FY2026 changed" in text and "4 added, 1 revised, 1 deleted" in text
    assert "E11.8" in text and "Type 2 diabetes mellitus with hyperglycemia (old)" in text
    assert "&lt;script&gt;x" in client.get("/changes/icd10cm/ICD-10-CM%20FY2026").text  # T14.8's title, escaped
    assert "/codes/icd10cm/E11.8" in {a["href"] for a in t.all("a")}
    first = page(client, "/changes/icd10cm/ICD-10-CM%20FY2025").plain()
    assert "No changes recorded for ICD-10-CM FY2025" in first
    index = page(client, "/changes")  # pages link a release by a readable slug; its name still works
    assert "/changes/icd10cm/icd-10-cm-fy2026" in {a["href"] for a in index.all("a")}
    history = page(client, "/codes/icd10cm/E11.65")
    assert "/changes/icd10cm/icd-10-cm-fy2026" in {a["href"] for a in history.all("a")}
    assert "What ICD-10-CM FY2026 changed" in page(client, "/changes/icd10cm/icd-10-cm-fy2026").plain()


def test_code_page_as_of_a_date(client: TestClient) -> None:
    text = page(client, "/codes/icd10cm/E11.8?as_of=2025-01-01").plain()
    assert "On 2025-01-01: valid" in text and "ICD-10-CM FY2025" in text
    text = page(client, "/codes/icd10cm/E11.8?as_of=2025-11-01").plain()
    assert "not valid" in text and "deleted in ICD-10-CM FY2026" in text
    text = page(client, "/codes/icd10cm/E11.8?as_of=2001-01-01").plain()
    assert "validity unknown" in text and "no release of ICD-10-CM loaded in force on 2001-01-01" in text
    r = client.get("/codes/icd10cm/e118?as_of=2025-01-01")
    assert r.status_code == 301 and r.headers["location"] == "/codes/icd10cm/E11.8?as_of=2025-01-01"


def test_docs_redirects_to_the_api_docs(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 302 and r.headers["location"] == "/api/docs"
    assert client.get("/docs", follow_redirects=True).status_code == 200


BAD_PAGES = [
    ("/policies/nope", 404),
    ("/policies/%00x", 400),
    ("/policies?q=" + "a" * 201, 400),
    ("/policies?page=0", 400),
    ("/changes/icd10cm/FY1999", 404),
    ("/changes/icd11/FY2026", 404),
    ("/changes/icd10cm/%01", 400),
    ("/codes/icd10cm/E11.9?as_of=2025-13-01", 400),
    ("/codes/icd10cm/E11.9?as_of=yesterday", 400),
    ("/codes/icd10cm/E11.9/extra", 400),
    ("/codes/icd11/E11.9/extra", 404),
    ("/codes/cpt/63700", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_PAGES)
def test_bad_requests_are_4xx_html_pages(client: TestClient, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html") and len(Tags(r.text).all("h1")) == 1


@pytest.mark.parametrize("url", ["/policies", "/policies/example-cgm", "/policies/hostile", "/changes",
                                 "/changes/icd10cm/ICD-10-CM%20FY2026", "/codes/cpt/63650"])
def test_new_pages_keep_the_accessibility_basics(client: TestClient, url: str) -> None:
    t = page(client, url)
    assert len(t.all("h1")) == 1 and t.all("main", id="main")
    ids = [a["id"] for _, a in t.tags if a.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for attrs in t.all("input"):
        if attrs.get("type") not in ("hidden", "submit"):
            assert t.all("label", **{"for": attrs["id"] or ""}), f"input {attrs} has no label"


def test_store_path_is_beside_the_index(index_path: Path, store_path: Path) -> None:
    assert store_path.parent == index_path.parent and store_path.is_file()


def test_a_policy_documents_headings_sit_below_the_page_headings() -> None:
    from medcodes.web.pages import demote_headings

    assert demote_headings("<h1>A</h1><H2 class=x>B</H2><h5>C</h5><h6>D</h6><hr>") == \
        "<h3>A</h3><h4 class=x>B</h4><h6>C</h6><h6>D</h6><hr>"


def test_a_policy_ingested_while_serving_shows_at_once(tmp_path: Path) -> None:
    """Similar codes are remembered per index and store state: a new policy is seen on the next request."""
    from starlette.testclient import TestClient

    from medcodes.policies.records import Link, PolicyRecord
    from medcodes.policies.store import PolicyStore, text_hash

    index = build_index(tmp_path / "index.sqlite", "web")
    store = fixture_store.build(index, (), explainer=False)
    with TestClient(create_app(index, store=store)) as c:
        before = c.get("/api/v1/codes/icd10cm/E11.9")
        assert before.json()["policies"] == [] and "policy" not in {s["reason_type"] for s in before.json()["similar"]}
        policies = PolicyStore(store)
        links = (Link("icd10cm", "E11.9", "covered", "E11.9 is covered", "E11.9"),
                 Link("icd9cm", "451.3", "covered", "451.3 is covered", "451.3"))
        policies.put(PolicyRecord(payer="Later plan", title="Later policy", kind="document",
                                  content_hash=text_hash("l"), links=links))
        policies.close()
        after = c.get("/api/v1/codes/icd10cm/E11.9", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.json()["policies"][0]["title"] == "Later policy"
        assert {"system": "icd9cm", "code": "451.3", "title": "Invented phlebitis code for shape tests",
                "reason": "cited by the same 1 policy", "reason_type": "policy"} in after.json()["similar"]
