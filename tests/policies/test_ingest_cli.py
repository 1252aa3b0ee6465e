"""`medcodes policies ...` end to end: files, folders, URLs and a crawl of a local site, versions, bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from medcodes.cli import main
from medcodes.policies import policies_for_code
from medcodes.policies.http import FetchError, HttpClient, RateLimiter

from .corpus import CORPUS
from .pdfgen import bomb_pdf, encrypted_pdf, text_pdf
from .servers import Answer, serve

POLICY_HTML = CORPUS / "04-coverage-policy-sleep-apnea.html"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def env(tmp_path: Path, catalog_path: Path) -> list[str]:
    return ["--db", str(catalog_path), "--store", str(tmp_path / "store.sqlite")]


def test_ingest_a_folder_twice_changes_nothing(tmp_path: Path, env: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("01-cpb-spinal-cord-stimulation.html", "10-plain-policy-cardiac-rehab.txt"):
        shutil.copy(CORPUS / name, folder / name)
    (folder / "21-physical-therapy.pdf").write_bytes(text_pdf((CORPUS / "21-pdf-physical-therapy.pdfsrc").read_text()))
    code, out, err = run(capsys, "policies", "ingest", str(folder), *env, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["new", "new", "new"] and all(r["links"] > 5 for r in rows)
    code, out, _ = run(capsys, "policies", "ingest", str(folder), *env, "--json")
    assert [r["status"] for r in json.loads(out)] == ["unchanged"] * 3


def test_a_changed_document_is_a_new_version(tmp_path: Path, env: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "policy.html"
    doc.write_bytes(POLICY_HTML.read_bytes())
    assert run(capsys, "policies", "ingest", str(doc), *env)[0] == 0
    doc.write_bytes(POLICY_HTML.read_bytes().replace(b"(CPT 42299) is considered experimental, investigational or"
                                                     b" unproven", b"(CPT 42299) is medically necessary"))
    code, out, _ = run(capsys, "policies", "ingest", str(doc), *env)
    assert code == 0 and out.startswith("updated") and " v2 " in out
    store = Path(env[3])
    (p,) = policies_for_code(store, "cpt", "42299")
    assert (p["section"], p["version"]) == ("covered", 2)
    code, out, _ = run(capsys, "policies", "show", p["policy_id"], *env)
    assert "version 2 of 2" in out and "G47.33" in out and "Obstructive sleep apnea" in out


def test_bad_files_fail_alone_and_leave_nothing(tmp_path: Path, env: list[str],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "locked.pdf").write_bytes(encrypted_pdf("CPT 22612 is covered."))
    (tmp_path / "bomb.pdf").write_bytes(bomb_pdf(40))
    (tmp_path / "cut.pdf").write_bytes(text_pdf("CPT 22612 is covered.")[:500])
    files = [str(tmp_path / n) for n in ("locked.pdf", "bomb.pdf", "cut.pdf")] + [str(POLICY_HTML)]
    code, out, err = run(capsys, "policies", "ingest", *files, *env, "--json")
    assert code == 1
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["failed", "failed", "failed", "new"]
    assert "locked.pdf: encrypted PDF" in err and "bomb.pdf: PDF expands past" in err and "cut.pdf: corrupt" in err
    code, out, _ = run(capsys, "policies", "list", *env, "--json")
    assert [p["number"] for p in json.loads(out)] == ["0158"]


def test_list_show_and_codes_commands(env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "policies", "ingest", str(POLICY_HTML), *env)
    code, out, _ = run(capsys, "policies", "list", "sleep apnea", *env)
    assert code == 0 and "crestline-health-insurance-company-0158" in out and "effective 2024-11-15" in out
    code, out, _ = run(capsys, "policies", "codes", "G47.33", *env)
    assert "Medical policies and guidelines for G47.33" in out and "Covered / medically necessary" in out
    code, out, _ = run(capsys, "policies", "codes", "0466T", "--system", "cpt", *env, "--json")
    assert json.loads(out)[0]["section"] == "investigational"
    assert run(capsys, "policies", "show", "nope", *env)[0] == 1


def test_usage_errors_are_clean(env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "policies")[0] == 1
    code, _, err = run(capsys, "policies", "ingest", *env)
    assert code == 1 and "give files, folders or URLs" in err
    code, _, err = run(capsys, "policies", "ingest", str(CORPUS), "--id", "x", *env)
    assert code == 1 and "--id and --title name one policy" in err
    code, _, err = run(capsys, "policies", "ingest", "/no/such/file.html", *env)
    assert code == 1 and "no such file" in err


def test_ingest_urls_from_a_local_server(env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    pdf = text_pdf((CORPUS / "26-pdf-genetic-brca.pdfsrc").read_text())
    bare = b"<html><body><h1>Knee Braces</h1><p>Policy Number: KB-1</p><p>HCPCS codes: L1832 covered.</p></body></html>"
    routes = {"/mp/sleep.html": Answer(body=POLICY_HTML.read_bytes()), "/mp/brca": Answer(200, pdf, "application/pdf"),
              "/mp/knee.html": Answer(body=bare), "/gone": Answer(404, b"")}
    with serve(routes) as site:
        urls = [site.url + p for p in ("/mp/sleep.html", "/mp/brca", "/mp/knee.html", "/gone")]
        code, out, err = run(capsys, "policies", "ingest", *urls, "--rate", "100", *env, "--json")
    rows = json.loads(out)
    assert code == 1 and [r["status"] for r in rows] == ["new", "new", "new", "failed"] and "HTTP 404" in err
    assert rows[2]["payer"] == "127.0.0.1"  # nothing in the page names a payer: the site does
    (p,) = policies_for_code(Path(env[3]), "icd10cm", "C50.911")
    assert p["url"] == site.url + "/mp/brca"


def _site_routes() -> dict[str, Answer]:
    index = b"""<html><body><h1>Medical policies</h1><ul>
    <li><a href="/policies/sleep.html">Sleep apnea</a></li><li><a href="policies/brca.pdf#page=2">BRCA</a></li>
    <li><a href="/private/draft.html">Draft</a></li><li><a href="https://elsewhere.example/p.html">Other</a></li>
    <li><a href="/img/logo.png">logo</a></li><li><a href="/policies/about.html">About</a></li>
    <li><a href="javascript:void(0)">menu</a></li></ul></body></html>"""
    pdf = text_pdf((CORPUS / "26-pdf-genetic-brca.pdfsrc").read_text())
    return {
        "/robots.txt": Answer(body=b"User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\n",
                              content_type="text/plain"),
        "/index.html": Answer(body=index), "/policies/sleep.html": Answer(body=POLICY_HTML.read_bytes()),
        "/policies/brca.pdf": Answer(200, pdf, "application/pdf"),
        "/policies/about.html": Answer(body=b"<h1>About us</h1><p>We care. Call 1-800-555-0100.</p>"),
        "/private/draft.html": Answer(body=POLICY_HTML.read_bytes()),
    }


def test_crawl_stays_on_site_obeys_robots_and_rate_limits(env: list[str], capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    slowed: list[float] = []
    slow_down = RateLimiter.slow_down

    def recorded(self: RateLimiter, interval: float) -> None:
        slowed.append(interval)
        slow_down(self, interval)

    monkeypatch.setattr(RateLimiter, "slow_down", recorded)
    with serve(_site_routes()) as site:
        code, out, err = run(capsys, "policies", "ingest", "--crawl", site.url + "/index.html", "--rate", "50",
                             *env, "--json")
        requested = [r.path for r in site.requests]
    rows = json.loads(out)
    assert code == 0, err
    stored = {r["source"].rsplit("/", 1)[-1]: r["status"] for r in rows}
    assert stored["sleep.html"] == "new" and stored["brca.pdf"] == "new"
    assert stored["about.html"] == "skipped" and stored["draft.html"] == "skipped"
    assert "/private/draft.html" not in requested and "/img/logo.png" not in requested
    assert requested[0] == "/robots.txt" and requested.count("/policies/sleep.html") == 1
    # Crawl-delay 0.2 beats the --rate 50 asked for (the spacing itself: test_rate_limiter_spaces_requests)
    assert slowed == [0.2]


def test_unreachable_robots_txt_means_no_crawl(env: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    routes = {**_site_routes(), "/robots.txt": Answer(503, b"busy")}
    with serve(routes) as site:
        code, out, _ = run(capsys, "policies", "ingest", "--crawl", site.url + "/index.html", "--rate", "100",
                           *env, "--json")
        requested = {r.path for r in site.requests}
    assert code == 0 and requested == {"/robots.txt"}
    assert [r["status"] for r in json.loads(out)] == ["skipped"]


def test_http_client_retries_then_gives_one_clear_error() -> None:
    state = {"n": 0}

    def flaky(_req: object) -> Answer:
        state["n"] += 1
        return Answer(503, b"busy") if state["n"] < 3 else Answer(body=b"ok")

    slept: list[float] = []
    routes = {"/flaky": flaky, "/slow": Answer(429, b"", headers={"Retry-After": "2"}),
              "/big": Answer(body=b"x" * 5000)}
    with serve(routes) as site, HttpClient(rate=1000, retries=3, backoff=0.01, sleep=slept.append,
                                           max_bytes=1000) as http:
        assert http.get(site.url + "/flaky").content == b"ok" and state["n"] == 3
        with pytest.raises(FetchError, match="HTTP 429"):
            http.get(site.url + "/slow")
        assert slept.count(2.0) == 3  # Retry-After honoured on every try
        with pytest.raises(FetchError, match="over the 0 MB limit|over the"):
            http.get(site.url + "/big")
    with HttpClient(rate=1000, retries=1, backoff=0.01) as http:
        with pytest.raises(FetchError, match="cannot fetch after 2"):
            http.get("http://127.0.0.1:9/nothing-listens-here")


def test_rate_limiter_spaces_requests() -> None:
    """Six requests at 20 per second on a clock the test moves: the five after the first each wait
    until 50 ms after the one before (a request that comes late waits for nothing)."""
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(20, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        limiter.wait()
    assert waits == [0.05] * 5 and now[0] == pytest.approx(100.25)
    now[0] += 1.0  # a pause longer than the interval: the next request goes at once
    limiter.wait()
    assert len(waits) == 5
