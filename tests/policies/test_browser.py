"""Sanitised policy HTML in a real browser (Debian's chromium via Playwright): nothing of the attacker's runs.

The policy page shows the stored HTML of a policy version; this loads exactly what the store keeps for
a hostile document, hovers and clicks every link, and checks that no script ran, no dialog opened, and
no handler or javascript: URL is left. Skipped when chromium or playwright is absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from medcodes.policies.documents import read_html

from .. import live
from .test_documents import HOSTILE

pytestmark = pytest.mark.browser

MORE = b"""<div><p>Criteria</p><a href="javascript:window.pwned=1">a</a><a href=" javascript:window.pwned=2">b</a>
<a href="jav&#x09;ascript:window.pwned=3">c</a><img src=x onerror="window.pwned=4"><p onmouseover="window.pwned=5">
hover</p><math><mi xlink:href="javascript:window.pwned=6">m</mi></math><svg onload="window.pwned=7"></svg>
<table background="javascript:window.pwned=8"><tr><td>E11.9</td></tr></table>
<a href="https://ok.example/policy">ok</a><base href="javascript:/">
<meta http-equiv="refresh" content="0;url=javascript:1">
<details open ontoggle="window.pwned=9"><summary>s</summary></details><p style="x:expression(window.pwned=10)">e</p>
<template><script>window.pwned=11</script></template><noscript><img src=x onerror=window.pwned=12></noscript></div>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from live.chromium()


@pytest.mark.parametrize("hostile", [HOSTILE, MORE], ids=["document", "tricks"])
def test_stored_policy_html_runs_nothing(browser: Any, hostile: bytes) -> None:
    clean = read_html(hostile, source="hostile.html").html or ""
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    events: list[str] = []
    page.on("dialog", lambda d: (events.append(f"dialog {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"error {e}"))
    page.on("request", lambda r: events.append(f"request {r.url}") if not r.url.startswith("data:") else None)
    page.set_content(f"<!doctype html><html><body><main id=policy>{clean}</main></body></html>")
    for link in page.locator("#policy a").all():
        link.hover()
    for el in page.locator("#policy *").all():
        el.dispatch_event("mouseover")
    page.route("**/*", lambda route: route.abort())  # a click may navigate; nothing may load or run
    for link in page.locator("#policy a[href^='javascript']").all():
        link.click(no_wait_after=True)
    found = page.evaluate("""() => ({
        pwned: window.pwned || null,
        scripts: document.querySelectorAll('#policy script, #policy iframe, #policy object, #policy svg').length,
        handlers: [...document.querySelectorAll('#policy *')].flatMap(e => [...e.attributes]
            .filter(a => a.name.startsWith('on') || /javascript:/i.test(a.value)).map(a => a.name)),
        styles: document.querySelectorAll('#policy [style]').length,
    })""")
    context.close()
    assert found == {"pwned": None, "scripts": 0, "handlers": [], "styles": 0}
    assert [e for e in events if not e.startswith("request https://ok.example")] == []
