"""Policy ingest fetches through the shared client's rules: a URL that redirects to an internal
address is refused and nothing it served is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.http_client import FetchError
from medcodes.policies.ingest import load

from ..sites import answer, site
from .corpus import CORPUS


def test_a_redirect_to_an_internal_address_is_not_ingested(
        tmp_path: Path, catalog_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MEDCODES_ALLOW_PRIVATE_URLS", "127.0.0.1")  # the policy site's own address only
    page = (CORPUS / "04-coverage-policy-sleep-apnea.html").read_bytes()
    store = tmp_path / "store.sqlite"
    with site() as allowed, site("127.0.0.2") as internal:
        internal.routes["/admin"] = answer(200, page, Content_Type="text/html")
        allowed.routes["/policy"] = answer(302, Location=internal.url + "/admin")
        allowed.routes["/direct"] = answer(200, page, Content_Type="text/html")
        code = main(["policies", "ingest", allowed.url + "/policy", "--store", str(store),
                     "--db", str(catalog_path), "--json"])
        assert code == 1 and "127.0.0.2 is a loopback, private or link-local" in capsys.readouterr().err
        with pytest.raises(FetchError):
            load(allowed.url + "/policy")
        assert internal.hits == []
        assert main(["policies", "list", "--store", str(store), "--db", str(catalog_path), "--json"]) == 0
        assert capsys.readouterr().out.strip() in ("[]", "")
        # the same page straight from the allowed site is ingested
        assert main(["policies", "ingest", allowed.url + "/direct", "--store", str(store),
                     "--db", str(catalog_path)]) == 0
