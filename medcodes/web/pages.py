"""HTML pages. Each view gathers one dict from the services and renders one template."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import systems
from ..app import codes, memo, params, services
from ..app.errors import classify
from ..app.http import cached, quote_path
from ..errors import BadRequest, NotFound
from ..index import Catalog
from ..record import CodeRecord
from .notes import note_groups

SEARCH_PAGE = 20
BROWSE_PAGE = 200
CHILDREN_SHOWN = 100
SIMILAR_SHOWN = 10
EXAMPLES = ("heart attack", "type 2 diabetes", "broken wrist", "E11.9", "knee replacement", "wheelchair")
HTML = "text/html; charset=utf-8"


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_html(request, template, context), status_code=status)


def _html(request: Request, template: str, context: dict[str, Any]) -> str:
    env = request.app.state.templates
    loaded = request.app.state.systems
    return str(env.get_template(template).render(request=request, loaded=loaded, **context))


def _catalog(request: Request) -> Catalog:
    return request.state.catalog  # type: ignore[no-any-return]  # the one this request started with


def _path(request: Request, name: str, **path_params: Any) -> str:
    return quote_path(request.app.url_path_for(name, **path_params))


def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", examples=EXAMPLES, q="")


def search(request: Request) -> Response:
    p = request.query_params
    q = params.text(p, "q")
    chosen = params.system_ids(p) or []
    billable = params.boolean(p, "billable")
    page = params.integer(p, "page", 1, 1, params.MAX_OFFSET // SEARCH_PAGE)
    result = None
    if q:
        catalog = _catalog(request)
        exact = _exact_code(catalog, q, chosen) if page == 1 else None
        if exact:  # a code typed whole opens its page: the one answer needs no list
            return RedirectResponse(_path(request, "code", system=exact[0], code=exact[1]), 302)
        offset = (page - 1) * SEARCH_PAGE
        key = (q, tuple(chosen), billable, SEARCH_PAGE, offset)
        result = memo.RESULTS.get(catalog, key, lambda: services.search(
            catalog, q, chosen or None, billable, SEARCH_PAGE, offset))
    pages = math.ceil(result["total"] / SEARCH_PAGE) if result else 0

    def url(**change: Any) -> str:
        state = {"q": q, "system": chosen, "billable": billable, "page": page, **change}
        pairs = [("q", state["q"])] + [("system", s) for s in state["system"]]
        if state["billable"] is not None:
            pairs.append(("billable", "true" if state["billable"] else "false"))
        if state["page"] > 1:
            pairs.append(("page", str(state["page"])))
        return _path(request, "search") + "?" + urlencode(pairs)

    return render(request, "search.html", q=q, result=result, groups=_groups(result), chosen=chosen,
                  billable=billable, page=page, pages=min(pages, params.MAX_OFFSET // SEARCH_PAGE), url=url)


def _exact_code(catalog: Catalog, q: str, chosen: list[str]) -> tuple[str, str] | None:
    """(system, code) when the query is one code that exactly one loaded system has."""
    text = q.strip()
    if not _CODE_SHAPED.fullmatch(text):
        return None
    rows = [r for r in catalog.find(text) if not chosen or r["system"] in chosen]
    return (rows[0]["system"], rows[0]["code"]) if len(rows) == 1 else None


_CODE_SHAPED = re.compile(r"[A-Za-z0-9]{1,4}[.]?[A-Za-z0-9]{0,5}")


def _groups(result: dict[str, Any] | None) -> list[tuple[str, list[dict[str, Any]]]]:
    """The page's results by system, systems in the order their best result ranks."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in result["results"] if result else []:
        groups.setdefault(r["system"], []).append(r)
    return list(groups.items())


def code(request: Request) -> Response:
    raw_system, raw_code = request.path_params["system"], request.path_params["code"]
    system = params.system_id(raw_system)
    if not raw_code.strip():
        return RedirectResponse(_path(request, "browse_system", system=system), 301)
    as_of = params.iso_date(request.query_params)
    catalog = _catalog(request)
    try:
        key = services.resolve_key(catalog, system, raw_code)
    except NotFound as exc:  # a near miss: the nearest real codes and a search, not a bare 404
        near = codes.nearest(catalog, system, raw_code)
        return render(request, "error.html", 404, problem=classify(exc), near=near, near_query=raw_code[:40], q="")
    if (raw_system, raw_code) != key:
        query = f"?{urlencode({'as_of': as_of})}" if as_of else ""
        return RedirectResponse(_path(request, "code", system=key[0], code=key[1]) + query, 301)
    # similar codes on the page when already found, else fetched by app.js after the page (a link
    # without JavaScript): finding them is most of a first visit's time
    d = services.code_data(catalog, *key, as_of, defer_similar=True)
    code_url = _path(request, "code", system=key[0], code="{code}").replace("%7Bcode%7D", "{code}")
    notes = note_groups(catalog, key[0], d.notes, code_url, d.ancestors)
    body = _html(request, "code.html", {"d": d, "notes": notes, "children_shown": CHILDREN_SHOWN, "q": ""})
    return cached(request, body.encode(), HTML, salt=request.app.state.asset_version, headers=_pending_headers(d))


def code_explainer(request: Request) -> Response:
    """/codes/{system}/{code}/explainer: the code page's explainer section alone, which app.js
    fetches again while an explanation is being written, and puts into the page once it is there."""
    raw_system, raw_code = request.path_params["system"], request.path_params["code"]
    catalog = _catalog(request)
    key = services.resolve_key(catalog, params.system_id(raw_system), raw_code)
    if (raw_system, raw_code) != key:
        return RedirectResponse(_path(request, "code_explainer", system=key[0], code=key[1]), 301)
    d = services.code_data(catalog, *key, extra=False)
    d = replace(d, explainer=codes.code_explainer(catalog, d))
    body = _html(request, "_explainer.html", {"d": d, "q": ""})
    return cached(request, body.encode(), HTML, salt=request.app.state.asset_version, headers=_pending_headers(d))


def _pending_headers(d: CodeRecord) -> dict[str, str]:
    """While an explanation is being written, a reload asks the server again (no cached copy)."""
    queued = (d.explainer.pending if d.explainer else None) or {}
    return {"Cache-Control": "no-cache"} if queued.get("status") == "queued" else {}


def code_similar(request: Request) -> Response:
    """/codes/{system}/{code}/similar: the code's similar codes as a page of their own, or with
    ?fragment=1 only the list, which app.js puts into the code page."""
    raw_system, raw_code = request.path_params["system"], request.path_params["code"]
    system = params.system_id(raw_system)
    catalog = _catalog(request)
    key = services.resolve_key(catalog, system, raw_code)
    fragment = request.query_params.get("fragment") == "1"
    if (raw_system, raw_code) != key:
        query = "?fragment=1" if fragment else ""
        return RedirectResponse(_path(request, "code_similar", system=key[0], code=key[1]) + query, 301)
    d = services.code_data(catalog, *key, extra=False)
    d = replace(d, similar=codes.similar(catalog, *key, SIMILAR_SHOWN, in_index=d.in_index))
    template = "_similar.html" if fragment else "similar.html"
    body = _html(request, template, {"d": d, "q": ""})
    return cached(request, body.encode(), HTML, salt=request.app.state.asset_version)


def code_system_root(request: Request) -> RedirectResponse:
    """/codes/{system}/ with no code: the system's browse page."""
    system = params.system_id(request.path_params["system"])
    return RedirectResponse(_path(request, "browse_system", system=system), 301)


def malformed_code(request: Request) -> Response:
    """A "code" with a slash in it (no system has one): a malformed code, not an unknown address."""
    system = params.system_id(request.path_params["system"])
    raise BadRequest(f"{request.path_params['code'][:40]!r} is not a well-formed {systems.get(system).name} code")


def code_anywhere(request: Request) -> Response:
    """/codes/{code} without a system: straight to the code when only one system has it."""
    text = request.path_params["code"]
    if text.lower() in systems.SYSTEMS:
        return RedirectResponse(_path(request, "browse_system", system=text.lower()), 301)
    rows = _catalog(request).find(text) if len(text) <= 40 else []
    if not rows:
        raise NotFound(f"no code {text[:40]!r} in any loaded system")
    if len(rows) == 1:
        return RedirectResponse(_path(request, "code", system=rows[0]["system"], code=rows[0]["code"]), 302)
    return render(request, "choose.html", text=text, rows=rows, q=text)


def browse(request: Request) -> HTMLResponse:
    return render(request, "browse.html", q="")


def browse_system(request: Request) -> Response:
    system = params.system_id(request.path_params["system"])
    if system != request.path_params["system"]:
        return RedirectResponse(_path(request, "browse_system", system=system), 301)
    rows = _catalog(request).children(system, None)
    return _browse_page(request, system, None, [], rows)


def browse_node(request: Request) -> Response:
    raw_system, raw_code = request.path_params["system"], request.path_params["code"]
    system = params.system_id(raw_system)
    row = services.resolve(_catalog(request), system, raw_code)
    if (raw_system, raw_code) != (row["system"], row["code"]):
        return RedirectResponse(_path(request, "browse_node", system=row["system"], code=row["code"]), 301)
    catalog = _catalog(request)
    return _browse_page(request, system, row, catalog.ancestors(row), catalog.children(system, row["code"]))


def _browse_page(request: Request, system: str, node: Any, ancestors: list[Any], rows: list[Any]) -> HTMLResponse:
    pages = max(1, math.ceil(len(rows) / BROWSE_PAGE))
    page = params.integer(request.query_params, "page", 1, 1, pages)
    shown = rows[(page - 1) * BROWSE_PAGE: page * BROWSE_PAGE]
    return render(request, "browse_node.html", system=systems.get(system), node=node, ancestors=ancestors,
                  rows=shown, total=len(rows), page=page, pages=pages, q="")


def sources(request: Request) -> HTMLResponse:
    catalog = _catalog(request)
    from ..edits.lookup import sources as edit_sources

    return render(request, "sources.html", sources=catalog.sources(), edit_sources=edit_sources(catalog.conn), q="")


def api_docs(request: Request) -> HTMLResponse:
    from ..api.openapi import spec

    return render(request, "api_docs.html", spec=spec(), q="")


def api_index(request: Request) -> RedirectResponse:
    return RedirectResponse(_path(request, "api_docs"), 302)


POLICIES_PAGE = 50


def policies(request: Request) -> HTMLResponse:
    p = request.query_params
    q, payer = params.text(p, "q"), params.text(p, "payer") or None
    page = params.integer(p, "page", 1, 1, 1000)
    found = services.search_policies(_catalog(request), q, payer, POLICIES_PAGE + 1, (page - 1) * POLICIES_PAGE)
    results = found["results"]

    def url(**change: Any) -> str:
        state = {"q": q, "payer": payer, "page": page, **change}
        pairs = [(k, str(v)) for k, v in state.items() if v and not (k == "page" and v == 1)]
        return _path(request, "policies") + ("?" + urlencode(pairs) if pairs else "")

    return render(request, "policies.html", q=q, payer=payer, results=results[:POLICIES_PAGE], page=page,
                  more=len(results) > POLICIES_PAGE, url=url)


def policy(request: Request) -> HTMLResponse:
    from markupsafe import Markup

    from ..policies.documents import sanitize_html

    data = services.policy(_catalog(request), params.policy_id(request.path_params["policy_id"]))
    # Sanitised when it was stored; sanitised again on the way out, so a store written by an older
    # version (or by hand) still shows no script, handler or javascript: URL (issue 6).
    document = Markup(demote_headings(sanitize_html(data["html"]))) if data.get("html") else None
    return render(request, "policy.html", p=data, document=document, q="")


_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def demote_headings(html: str, by: int = 2) -> str:
    """A document's own headings sit below the page's h1 and its section's h2 (one h1 per page)."""
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + by)}", html)


def changes_index(request: Request) -> HTMLResponse:
    return render(request, "changes_index.html", releases=services.change_releases(_catalog(request)), q="")


def changes(request: Request) -> HTMLResponse:
    system = params.system_id(request.path_params["system"])
    release = params.release_name(request.path_params["release"])
    data = services.changes(_catalog(request), system, release)
    groups = [(c, [r for r in data["changes"] if r["change"] == c]) for c in ("added", "revised", "deleted")]
    return render(request, "changes.html", c=data, groups=groups, q="")


def docs(request: Request) -> RedirectResponse:
    return RedirectResponse(_path(request, "api_docs"), 302)
