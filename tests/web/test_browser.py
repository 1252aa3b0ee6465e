"""The site in a real browser: Debian's chromium driven by Playwright against `medcodes serve`.

Skipped cleanly when /usr/bin/chromium or the playwright package is absent (`.ci/run` installs both).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fixture_store import XSS_SNIPPET, XSS_TITLE

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SECTIONS = ("In plain language", "Release and history", "Similar codes")


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(str(e)))
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    yield pg
    context.close()
    assert problems == [], problems  # no script errors, CSP violations or alert() from injected text


def test_lay_query_suggestion_by_keyboard_to_the_code_page(page: Any, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    suggest_calls: list[str] = []
    page.on("request", lambda r: suggest_calls.append(r.url) if "/api/v1/suggest" in r.url else None)
    page.goto(server + "/")
    box = page.get_by_role("combobox", name="Search medical codes")
    box.click()
    box.press_sequentially("heart attack", delay=15)
    listbox = page.get_by_role("listbox", name="Suggestions")
    option = listbox.get_by_role("option").filter(has_text="Acute myocardial infarction").first
    option.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert len(suggest_calls) < len("heart attack") - 1  # debounced: not one request per key
    page.screenshot(path=str(ARTIFACTS / "suggestions.png"))
    href = option.get_attribute("data-href")
    index = [o.get_attribute("data-href") for o in listbox.get_by_role("option").all()].index(href)
    for _ in range(index + 1):
        box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        box.press("Enter")
    assert href.startswith("/codes/icd10cm/I21") and page.url == server + href  # I21 or I21.9
    assert page.get_by_role("heading", level=1).inner_text().startswith(href.rsplit("/", 1)[1])
    for name in SECTIONS:
        assert page.get_by_role("heading", level=2, name=name).is_visible(), name
    assert page.get_by_text("From the official data only").is_visible()
    assert page.get_by_role("heading", level=2, name="Medical policies and guidelines").count() == 0  # none cite it
    assert page.get_by_text("ICD-10-CM code", exact=True).is_visible()
    page.screenshot(path=str(ARTIFACTS / "code-page.png"), full_page=True)
    assert (ARTIFACTS / "code-page.png").stat().st_size > 10_000


def test_escape_closes_and_stale_answers_are_dropped(page: Any, server: str) -> None:
    page.goto(server + "/")
    box = page.get_by_role("combobox", name="Search medical codes")
    box.fill("diab")
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.fill("wheelch")  # the answer for "diab" must never replace this one
    page.get_by_role("option").filter(has_text="K0001").wait_for()
    assert all("iabetes" not in o.inner_text() for o in page.get_by_role("option").all())
    box.fill("w")  # under two characters: no suggestions
    page.wait_for_timeout(300)
    assert page.get_by_role("listbox").is_hidden()


def test_xss_attempts_are_shown_as_text(page: Any, server: str) -> None:
    attack = '<script>alert("q")</script><img src=x onerror=alert("img")>'
    page.goto(server + "/search?q=" + urllib.request.quote(attack))
    assert attack in page.get_by_role("heading", level=1).inner_text()
    assert page.evaluate("document.querySelectorAll('main img, main script').length") == 0
    box = page.get_by_role("combobox", name="Search medical codes")
    box.fill('"><img src=x onerror=alert(1)> injury')
    page.wait_for_timeout(400)
    page.goto(server + "/codes/icd10cm/T14.8")
    assert "<script>x</script>" in page.get_by_role("heading", level=1).inner_text()


def test_search_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    page.get_by_label("Search medical codes").fill("diabetes")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=diabetes")
    page.get_by_role("checkbox", name="ICD-9-CM").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**system=icd9cm**")
    assert page.get_by_role("link", name="250.00").count() == 1
    context.close()


def test_skip_link_and_narrow_screen(page: Any, server: str) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(server + "/codes/icd10pcs/0SG00A1")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("e => e === document.activeElement") and skip.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the page scrolls sideways on a phone"
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "code-page-print.png"), full_page=True)


def test_code_page_shows_explainer_policies_and_similar_codes(page: Any, server: str) -> None:
    page.goto(server + "/codes/icd10cm/E11.65")
    explainer = page.locator("section.explainer")
    assert explainer.get_by_text("From the official data only").is_visible()
    assert explainer.get_by_text("Generated — not medical advice").first.is_visible()
    assert "test-model-7b" in explainer.inner_text() and "2026-01-02" in explainer.inner_text()
    policies = page.locator("section[aria-labelledby=policies-h]")
    assert policies.get_by_role("heading", level=2).inner_text() == "Medical policies and guidelines for E11.65"
    cgm = policies.get_by_role("link", name="Continuous glucose monitors")
    assert cgm.is_visible() and cgm.get_attribute("href") == "/policies/example-cgm"
    assert policies.get_by_text("Covered for members with E11.65 when criteria are met.").is_visible()
    assert "Example Health Plan · policy MP-1.01.23" in policies.inner_text()
    similar = page.locator("section[aria-labelledby=similar-h]")
    similar.locator("ul.similar").wait_for()  # on a first visit app.js fetches them after the page
    assert similar.get_by_role("link").count() >= 3 and "cited by the same" in similar.inner_text()
    assert similar.locator("[aria-busy]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "code-page-policies.png"), full_page=True)


def test_hostile_policy_text_is_shown_as_text(page: Any, server: str) -> None:
    page.goto(server + "/codes/icd10cm/E11.65")
    policies = page.locator("section[aria-labelledby=policies-h]")
    assert policies.get_by_text(XSS_SNIPPET).is_visible()  # the markup is there, as letters
    assert policies.get_by_role("link", name=XSS_TITLE).is_visible()
    assert page.evaluate("document.querySelectorAll('main img, main script, main [onerror]').length") == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.goto(server + "/policies/hostile")
    assert page.get_by_role("heading", level=1).inner_text() == XSS_TITLE
    assert page.get_by_text("E11.65 applies.").is_visible()
    found = page.evaluate("""() => [...document.querySelectorAll('main *')].flatMap(e => [...e.attributes]
        .filter(a => a.name.startsWith('on') || /javascript:/i.test(a.value)).map(a => a.name))""")
    assert found == [] and page.evaluate("document.querySelectorAll('main script, main img').length") == 0
    for link in page.locator(".policy-document a").all():
        link.hover()  # the page fixture fails the test on any dialog or script error


def test_cpt_code_cited_by_a_policy(page: Any, server: str) -> None:
    page.goto(server + "/codes/cpt/63650")
    assert page.get_by_role("heading", level=1).inner_text() == "CPT® code 63650"
    assert page.get_by_role("link", name="Spinal cord stimulation").is_visible()
    link = page.locator("section[aria-labelledby=similar-h]").get_by_role("link", name="63685")
    link.wait_for()
    assert link.is_visible()


def test_similar_codes_are_fetched_after_a_first_visit_and_linked_without_javascript(
        browser: Any, page: Any, server: str) -> None:
    # E10.9: no other browser test opens it, and a plain GET of the page finds no similar codes,
    # so what the browser shows below was fetched by app.js
    with urllib.request.urlopen(server + "/codes/icd10cm/E10.9") as r:
        assert b'data-similar-src="/codes/icd10cm/E10.9/similar?fragment=1"' in r.read()
    page.goto(server + "/codes/icd10cm/E10.9")
    similar = page.locator("section[aria-labelledby=similar-h]")
    similar.locator("ul.similar").wait_for()
    assert similar.get_by_role("link", name="E11.9").is_visible() and "[aria-busy]" not in similar.inner_html()
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(server + "/codes/icd9cm/250.00")
    box = plain.locator("section[aria-labelledby=similar-h]")
    box.get_by_role("link", name="Show the codes similar to 250.00").click()
    plain.wait_for_url("**/codes/icd9cm/250.00/similar")
    assert plain.get_by_role("heading", level=1).inner_text().startswith("Codes similar to 250.00")
    context.close()
