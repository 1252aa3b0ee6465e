"""The code page as a patient or a new coder meets it, in Debian chromium at a desktop and a phone size:
the answer above the fold, no accessibility violations axe-core calls serious or critical, no dead link."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# a code page of each system in the fixture index, and the pages every visitor starts from
CODE_PAGES = ["/codes/icd10cm/E11.9", "/codes/icd10cm/E11", "/codes/icd10pcs/0SG00A1", "/codes/icd10pcs/0SG",
              "/codes/hcpcs/J1100", "/codes/hcpcs-mod/LT", "/codes/cpt/63650", "/codes/icd9cm/250.00",
              "/codes/icd9pcs/45.13", "/codes/msdrg/250", "/codes/icd10cm/E11.65"]
START_PAGES = ["/", "/search?q=diabetes", "/policies", "/sources"]


def _axe_source() -> str:
    axe = pytest.importorskip("axe_playwright_python")  # carries axe-core's axe.min.js
    return (Path(axe.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_answer_is_above_the_fold(browser: Any, server: str, viewport: dict[str, int]) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    for url in ("/codes/icd10cm/E11.9", "/codes/icd10pcs/0SG00A1", "/codes/cpt/63650"):
        page.goto(server + url)
        first = page.locator("section.explainer .explainer-section").first
        box = first.bounding_box()
        assert box is not None and box["y"] < viewport["height"], (url, box)  # starts within the first screen
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1, url
    context.close()


def test_search_results_come_before_the_filters_on_a_phone(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(server + "/search?q=diabetes")
    result = page.locator(".result").first.bounding_box()
    filters = page.locator(".filters").bounding_box()
    assert result is not None and filters is not None
    assert result["y"] < PHONE["height"] and result["y"] < filters["y"]
    page.set_viewport_size(DESKTOP)  # side by side on a wide screen, results still first for the keyboard
    assert page.locator(".filters").bounding_box()["x"] < page.locator(".result").first.bounding_box()["x"]
    page.locator("#site-q").focus()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('result')"):
            break
    else:
        raise AssertionError("Tab from the search box never reached a result")
    context.close()


def test_copy_button_puts_the_code_on_the_clipboard(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server + "/codes/icd10cm/E11.9")
    button = page.get_by_role("button", name="Copy the code E11.9")
    button.click()
    page.get_by_role("button", name="Copy the code E11.9").filter(has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "E11.9"
    context.close()


def test_no_serious_or_critical_accessibility_violations(browser: Any, server: str) -> None:
    source = _axe_source()
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for url in START_PAGES + CODE_PAGES:
        page.goto(server + url)
        page.evaluate(source)
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [f"{v['id']} ({v['impact']})" for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            found[url] = bad
    context.close()
    assert found == {}


def test_every_link_on_the_code_pages_answers(browser: Any, server: str) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    links: set[str] = set()
    for url in CODE_PAGES:
        page.goto(server + url)
        page.wait_for_load_state("networkidle")  # similar codes arrive after the page
        hrefs = page.evaluate("[...document.querySelectorAll('main a[href]')].map(a => a.getAttribute('href'))")
        links |= {h for h in hrefs if h.startswith("/")}
    context.close()
    broken = []
    for href in sorted(links):
        try:
            with urllib.request.urlopen(server + href) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        if status != 200:
            broken.append(f"{href} {status}")
    assert len(links) > 40 and broken == []
