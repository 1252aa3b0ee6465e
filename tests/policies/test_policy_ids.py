"""Payer policy numbers hold slashes ("MP/2024-15"): every page that cites such a policy links to it
and it answers; `medcodes policies remove` takes a policy out of every page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from medcodes.cli import main
from medcodes.web.app import create_app

from .corpus import CORPUS

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

POLICY_ID = "MP/2024-15"


@pytest.fixture()
def client(store_location: str, catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[TestClient]:
    store = store_location
    doc = CORPUS / "04-coverage-policy-sleep-apnea.html"
    assert main(["policies", "ingest", str(doc), "--id", POLICY_ID, "--db", str(catalog_path),
                 "--store", str(store)]) == 0, capsys.readouterr().err
    with TestClient(create_app(catalog_path, store=store), follow_redirects=False) as c:
        c.store = store  # type: ignore[attr-defined]
        yield c


def test_a_policy_id_with_a_slash_on_every_page(client: TestClient) -> None:
    listing = client.get("/policies")
    assert listing.status_code == 200
    links = set(re.findall(r'href="(/policies/[^"]+)"', listing.text))
    assert links == {"/policies/MP/2024-15"}
    page = client.get("/policies/MP/2024-15")
    assert page.status_code == 200 and 'href="/api/v1/policies/MP/2024-15"' in page.text
    assert client.get("/policies/MP%2F2024-15").status_code == 200  # as a client may quote it
    api = client.get("/api/v1/policies/MP/2024-15")
    assert api.status_code == 200 and api.json()["policy_id"] == POLICY_ID
    code = client.get("/codes/cpt/42299")  # a code the policy cites
    assert code.status_code == 200 and 'href="/policies/MP/2024-15"' in code.text
    cited = client.get("/api/v1/codes/cpt/42299/policies")
    assert cited.status_code == 200 and POLICY_ID in cited.text


def test_remove_a_policy(client: TestClient, catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = ["--db", str(catalog_path), "--store", str(client.store)]  # type: ignore[attr-defined]
    capsys.readouterr()
    assert main(["policies", "remove", POLICY_ID, *env]) == 0
    assert capsys.readouterr().out.strip() == f"removed   {POLICY_ID}"
    assert client.get("/policies/MP/2024-15").status_code == 404
    assert POLICY_ID not in client.get("/codes/cpt/42299").text
    assert "MP/2024-15" not in client.get("/policies").text
    assert main(["policies", "remove", POLICY_ID, *env]) == 1
    assert "no stored policy 'MP/2024-15'" in capsys.readouterr().err
