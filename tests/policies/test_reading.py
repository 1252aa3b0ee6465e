"""Reading policies the way payers write them: exception clauses, the stance of each code group, numbers
that only look like codes, billing instructions that deny a claim and not a service, revision histories,
running page headers and footers; and the links and policy page that come out of them."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from medcodes.policies.documents import read_html, read_pdf, read_text, strip_running_lines
from medcodes.policies.extract import extract
from medcodes.policies.ingest import document_record
from medcodes.policies.linking import MemoryChecker, history, link, split_range
from medcodes.policies.queries import policy_page
from medcodes.policies.records import HISTORY, Document
from medcodes.policies.sections import excepted, is_billing_denial, is_history_heading, is_history_table, opposite
from medcodes.policies.store import PolicyStore
from medcodes.policies.tokens import candidates
from medcodes.web.app import create_app

from .pdfgen import text_pdf

ICD = ["E08", "E08.9", "E10", "E10.9", "E11", "E11.9", "E11.A", "E13", "E13.9",
       "K50", "K50.0", "K50.00", "K50.9", "K50.90", "K51", "K51.0", "K51.00", "K51.9", "K51.90", "K51.91",
       "L40", "L40.0", "L40.1", "L40.2", "L40.3", "L40.4", "L40.9", "M08", "M08.3", "R73", "R73.03", "R73.09"]
HCPCS = ["A4239", "A9270", "A9276", "E0601", "E0747", "E0748", "E0749", "J0129", "J1602", "J1745", "J3490",
         "J3590", "J9999", "K1001", "Q5103"]


@pytest.fixture()
def mem() -> MemoryChecker:
    return MemoryChecker({"icd10cm": ICD, "hcpcs": HCPCS})


def stances(doc: Document, checker: MemoryChecker) -> dict[str, str]:
    """code as written (first-last for a range, code* for a subtree) -> the section of its first mention."""
    out: dict[str, str] = {}
    for m in extract(doc, checker):
        shown = f"{m.code}-{m.last}" if m.last else f"{m.code}*" if m.subtree else m.code
        out.setdefault(shown, m.section)
    return out


def links_of(doc: Document, checker: MemoryChecker) -> dict[tuple[str, str], set[str]]:
    links, ranges = link(extract(doc, checker), checker)
    out: dict[tuple[str, str], set[str]] = {}
    for system, code, section in [(x.system, x.code, x.section) for x in links] + \
            [(x.system, f"{x.first}-{x.last}", x.section) for x in ranges]:
        out.setdefault((system, code), set()).add(section)
    return out


# -- exceptions ----------------------------------------------------------------------------------------
def test_an_exception_in_prose_gets_the_opposite_stance_and_leaves_the_list_alone(mem: MemoryChecker) -> None:
    doc = read_text("POLICY\n\nK50.- and K51.-, except K51.90, support medical necessity for infliximab (J1745).\n")
    said = stances(doc, mem)
    assert said["K50*"] == said["K51*"] == said["J1745"] == "covered"
    assert said["K51.90"] == "not_covered"
    got = links_of(doc, mem)
    assert got[("icd10cm", "K51.90")] == {"not_covered"}  # the subtree does not claim it back
    assert got[("icd10cm", "K51.91")] == {"covered"} and got[("icd10cm", "K50.00")] == {"covered"}


def test_an_exception_in_a_table_cell_under_a_caption(mem: MemoryChecker) -> None:
    doc = read_html("<table><caption>Table 1. ICD-10-CM codes that support medical necessity</caption>"
                    "<tr><th>ICD-10-CM Code(s)</th><th>Description</th></tr>"
                    "<tr><td>E08–E13, excluding E11.A</td><td>Diabetes mellitus</td></tr></table>")
    said = stances(doc, mem)
    assert said == {"E08-E13": "covered", "E11.A": "not_covered"}
    got = links_of(doc, mem)
    assert got[("icd10cm", "E11.A")] == {"not_covered"} and got[("icd10cm", "E11.9")] == {"covered"}


def test_an_exception_from_a_not_covered_list_is_covered(mem: MemoryChecker) -> None:
    doc = read_text("Golimumab (J1602) is not covered for members under 18, with the exception of polyarticular "
                    "juvenile idiopathic arthritis (M08.3).\n")
    assert stances(doc, mem) == {"J1602": "not_covered", "M08.3": "covered"}


def test_other_than_in_a_range_and_a_condition_that_is_not_an_exception(mem: MemoryChecker) -> None:
    doc = read_text("Biologics are medically necessary for psoriasis, L40.0 through L40.9, other than L40.4.\n\n"
                    "Phototherapy is not covered for L40.2, except when billed with L40.3.\n")
    said = stances(doc, mem)
    assert said["L40.0-L40.9"] == "covered" and said["L40.4"] == "not_covered"
    assert said["L40.3"] == "not_covered"  # "except when billed with": a condition, not a code taken out


def test_excepted_finds_the_run_after_the_marker_and_its_anchor() -> None:
    text = "Codes 0001U-0012U are investigational, except 0008U and 0009U. Bill 0013U."
    cands = candidates(text)
    found = excepted(text, cands)
    assert sorted(c.a for c in found) == ["0008U", "0009U"]
    assert set(found.values()) == {(cands[0].start, cands[0].end)}  # the range's stance is the one reversed
    assert opposite("investigational") == "covered" and opposite("covered") == "not_covered"
    assert opposite("coding") == "mentioned"


def test_a_cpt_range_kept_as_written_is_split_around_its_exception(mem: MemoryChecker) -> None:
    doc = read_html("<table><tr><th>Service</th><th>Codes</th><th>Status</th></tr>"
                    "<tr><td>Proton beam therapy</td><td>77520-77525, except 77523</td><td>Not covered</td></tr>"
                    "</table>")
    got = links_of(doc, mem)
    assert got == {("cpt", "77520-77522"): {"not_covered"}, ("cpt", "77524-77525"): {"not_covered"},
                   ("cpt", "77523"): {"covered"}}
    assert split_range("0001U", "0012U", ["0008U"]) == [("0001U", "0007U"), ("0009U", "0012U")]
    assert split_range("77520", "77525", ["77520", "99999"]) == [("77521", "77525")]


def test_an_exceptions_column_takes_its_codes_out_of_the_row(mem: MemoryChecker) -> None:
    doc = read_html("<h2>Covered diagnoses</h2><p>The following diagnoses are covered.</p>"
                    "<table><tr><th>ICD-10-CM codes</th><th>Exceptions</th><th>Description</th></tr>"
                    "<tr><td>K51.00-K51.91</td><td>K51.90</td><td>Ulcerative colitis</td></tr>"
                    "<tr><td>E08-E13</td><td></td><td>Diabetes</td></tr></table>")
    said = stances(doc, mem)
    assert said == {"K51.00-K51.91": "covered", "K51.90": "not_covered", "E08-E13": "covered"}


# -- group stance ----------------------------------------------------------------------------------------
def test_group_headings_of_opposite_stance_each_carry_to_their_codes(mem: MemoryChecker) -> None:
    doc = read_html("<h2>Coding</h2>"
                    "<h3>Group 1 — codes that support medical necessity</h3>"
                    "<table><tr><th>Code</th><th>Description</th></tr><tr><td>E11.9</td><td>x</td></tr>"
                    "<tr><td>A9276</td><td>y</td></tr></table>"
                    "<h3>Group 2 — codes that do not support medical necessity</h3>"
                    "<table><tr><th>Code</th><th>Description</th></tr><tr><td>R73.03</td><td>x</td></tr>"
                    "<tr><td>A9270</td><td>y</td></tr></table>")
    assert stances(doc, mem) == {"E11.9": "covered", "A9276": "covered", "R73.03": "not_covered",
                                 "A9270": "not_covered"}


def test_medicare_group_paragraph_gives_its_group_codes_their_stance(mem: MemoryChecker) -> None:
    doc = read_html("<h3>CPT/HCPCS Codes</h3>"
                    "<p><strong>Group 1 Paragraph:</strong> These drugs are covered for the indications above.</p>"
                    "<p><strong>Group 1 Codes:</strong></p>"
                    "<table><tr><th>Code</th><th>Description</th></tr><tr><td>J1745</td><td>x</td></tr></table>"
                    "<p><strong>Group 2 Paragraph:</strong> The following products are considered not reasonable"
                    " and necessary:</p>"
                    "<p><strong>Group 2 Codes:</strong></p>"
                    "<table><tr><th>Code</th><th>Description</th></tr><tr><td>Q5103</td><td>x</td></tr></table>")
    assert stances(doc, mem) == {"J1745": "covered", "Q5103": "not_covered"}


def test_a_spanning_row_says_the_stance_of_the_rows_under_it(mem: MemoryChecker) -> None:
    doc = read_html("<table><caption>Table 3. HCPCS codes</caption><tr><th>Code</th><th>Description</th></tr>"
                    "<tr><td colspan='2'>Covered when the criteria are met:</td></tr><tr><td>A9276</td><td>x</td></tr>"
                    "<tr><td colspan='2'>The following are not covered:</td></tr><tr><td>A9270</td><td>y</td></tr>"
                    "</table>")
    assert stances(doc, mem) == {"A9276": "covered", "A9270": "not_covered"}


def test_a_parenthetical_speaks_for_its_code_only(mem: MemoryChecker) -> None:
    doc = read_text("Bone growth stimulation (E0747, E0748) is medically necessary for nonunion (E11.9 excluded)"
                    " after three months.\n")
    assert stances(doc, mem) == {"E0747": "covered", "E0748": "covered", "E11.9": "not_covered"}


# -- numbers that only look like codes ---------------------------------------------------------------------
@pytest.mark.parametrize("html", [
    "<table><tr><th>Contract Type</th><th>Contract Number</th></tr><tr><td>A and B MAC</td><td>05102</td></tr>"
    "</table>",
    "<table><tr><th>Contract Number</th><td>04412</td></tr><tr><th>Article ID</th><td>A59904</td></tr></table>",
    "<table><tr><th>Plan</th><th>Group number</th></tr><tr><td>PPO</td><td>40012</td></tr></table>",
])
def test_identifier_columns_in_a_billing_article_are_not_cpt(mem: MemoryChecker, html: str) -> None:
    doc = read_html("<h1>Billing and Coding: Biologics</h1>" + html +
                    "<h2>CPT/HCPCS Codes</h2><table><tr><th>Code</th><th>Description</th></tr>"
                    "<tr><td>96365</td><td>x</td></tr></table>")
    assert stances(doc, mem) == {"96365": "coding"}


@pytest.mark.parametrize("line", [
    "Send requests to the plan, PO Box 10150, Des Moines, IA 50306, or fax 515-555-0190.",
    "Requests go to 43120 Market Street, Harrisburg, PA 17110.",
    "Members under vendor agreement 60418 and group numbers 40012 and 40013 follow these codes.",
    "Members enrolled under contract 71532 are billed with the codes below.",
    "Mail claims to PO Box 21440, Eagan, MN 55121-0440 (TTY 711).",
    "This article follows Change Request 13456 (CR 13457) and Pub. 10004, Chapter 12.",
    "Suppliers bill under their PTAN 40512; pharmacies use BIN 61004.",
])
def test_five_digit_numbers_near_code_lists_are_not_cpt(mem: MemoryChecker, line: str) -> None:
    doc = read_text(f"CODING\n\nCPT codes: 96365, 96366\n\n{line}\n")
    assert set(stances(doc, mem)) == {"96365", "96366"}


def test_a_street_number_line_in_an_address_block_is_not_cpt(mem: MemoryChecker) -> None:
    doc = read_text("CODES\n\nProcedure codes: 72148, 72149\n\nSend clinical records to:\nImaging Review\n"
                    "88004 Lakeview Road\nMinneapolis, MN 55440\n")
    assert set(stances(doc, mem)) == {"72148", "72149"}


# -- unlisted drug codes --------------------------------------------------------------------------------
def test_unlisted_drug_reminders_are_billing_instructions_not_denials(mem: MemoryChecker) -> None:
    doc = read_text("BILLING\n\nA drug without a specific code is billed with J3490 or J3590 and the NDC. Claims "
                    "for J3490 or J3590 without an NDC will be denied. Lines billed with J9999 are denied for "
                    "missing information.\n\nAbatacept (J0129) will be denied as not medically necessary.\n")
    assert stances(doc, mem) == {"J3490": "coding", "J3590": "coding", "J9999": "coding", "J0129": "not_covered"}
    assert is_billing_denial("claims without the drug name or NDC are denied")
    assert not is_billing_denial("services without documentation of need are not covered")


# -- revision history -----------------------------------------------------------------------------------
def test_codes_in_a_revision_history_are_history_not_coverage(mem: MemoryChecker) -> None:
    doc = read_html("<h2>Coding</h2><table><tr><th>Code</th><th>Coverage</th></tr>"
                    "<tr><td>E0747</td><td>Covered</td></tr></table>"
                    "<h2>Policy History</h2><table><tr><th>Date</th><th>Action</th></tr>"
                    "<tr><td>03/12/2026</td><td>Removed codes 20975 and E0749.</td></tr>"
                    "<tr><td>03/14/2025</td><td>Added E0747.</td></tr></table>"
                    "<h2>References</h2><p>Doe J. Bone stimulation. 2021;39:20975-20981.</p>")
    mentions = extract(doc, mem)
    assert {(m.code, m.section) for m in mentions} == {("E0747", "covered"), ("20975", HISTORY),
                                                       ("E0749", HISTORY), ("E0747", HISTORY)}
    links, ranges = link(mentions, mem)
    assert {(x.code, x.section) for x in links} == {("E0747", "covered")} and not ranges
    assert {(h["code"], h["mention"]) for h in history(mentions)} == {("20975", "20975"), ("E0749", "E0749"),
                                                                      ("E0747", "E0747")}


def test_a_history_table_without_a_heading_and_a_removal_sentence(mem: MemoryChecker) -> None:
    doc = read_html("<p>The following are covered: E0601.</p>"
                    "<table><tr><th>Revision History Date</th><th>Revision History Explanation</th></tr>"
                    "<tr><td>10/01/2025</td><td>Deleted K1001 from Group 1.</td></tr></table>"
                    "<p>Effective 01/01/2026, A4239 was removed from this policy.</p>")
    assert stances(doc, mem) == {"E0601": "covered", "K1001": HISTORY, "A4239": HISTORY}


@pytest.mark.parametrize("text,expected", [
    ("Revision History Information", True), ("POLICY HISTORY", True), ("Document History", True),
    ("Summary of Changes", True), ("History", True), ("Document Revision History", True),
    ("Family history of colon cancer", False), ("Coverage Rationale", False),
])
def test_history_headings(text: str, expected: bool) -> None:
    assert is_history_heading(text) is expected


def test_history_tables_are_dated_changes_not_code_change_lists() -> None:
    assert is_history_table(("Date", "Action")) and is_history_table(("Effective", "Change Summary"))
    assert is_history_table(("Revision History Date", "Revision History Number", "Revision History Explanation"))
    assert not is_history_table(("Policy", "Code", "Change", "Coverage status"))
    assert not is_history_table(("Code", "Description"))


# -- PDFs -------------------------------------------------------------------------------------------------
def test_running_headers_and_footers_are_dropped_from_pdf_pages(mem: MemoryChecker) -> None:
    body = ("CODING\n\nThe following are not covered:\n\n" + "\n".join(f"K1001\tDevice {i}" for i in range(30))
            + "\nA9270\tNon-covered item or service\n")
    pdf = text_pdf(body, lines_per_page=12, header="Northbridge Health Plan    Contract 71532",
                   footer="PO Box 64560, St. Paul, MN 55164    Page {page} of {pages}")
    doc = read_pdf(pdf)
    assert "71532" not in doc.text and "64560" not in doc.text and "Page 2 of" not in doc.text
    assert stances(doc, mem) == {"K1001": "not_covered", "A9270": "not_covered"}
    assert strip_running_lines(["only one page\nPage 1 of 1"]) == ["only one page\nPage 1 of 1"]


def test_a_wrapped_table_cell_does_not_end_the_list(mem: MemoryChecker) -> None:
    doc = read_text("The following are not covered:\nK1001\tA device with a long description that\n"
                    "wraps onto a second line\nA9270\tNon-covered item\n")
    assert stances(doc, mem) == {"K1001": "not_covered", "A9270": "not_covered"}
    assert [b.kind for b in doc.blocks] == ["label", "row", "row"]


# -- what reaches the store and the policy page -------------------------------------------------------------
def test_history_is_stored_with_the_policy_and_shown_on_its_page(mem: MemoryChecker, tmp_path: Path,
                                                                catalog_path: Path) -> None:
    doc = read_html("<h1>Bone Growth Stimulation</h1><p>E0747 is medically necessary.</p>"
                    "<h2>Policy History</h2><table><tr><th>Date</th><th>Action</th></tr>"
                    "<tr><td>03/12/2026</td><td>Removed E0749 from the policy.</td></tr>"
                    "<tr><td>03/14/2025</td><td>Removed CPT 20975.</td></tr></table>",
                    source="bone.html")
    record = document_record(doc, mem, payer="Harborline Health", policy_id="bone")
    assert [h["code"] for h in record.attributes["history"]] == ["E0749", "20975"]
    store = PolicyStore(tmp_path / "store.sqlite")
    store.put(record)
    store.close()
    page = policy_page(tmp_path / "store.sqlite", "bone")
    assert {c["code"] for c in page["codes"]} == {"E0747"}
    assert [h["code"] for h in page["attributes"]["history"]] == ["E0749", "20975"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from starlette.testclient import TestClient
    with TestClient(create_app(catalog_path, store=tmp_path / "store.sqlite")) as client:
        html = client.get("/policies/bone").text
    cited = html[html.index('id="codes-h"'):html.index('id="history-h"')]
    past = html[html.index('id="history-h"'):html.index('id="doc-h"')]
    assert "E0747" in cited and "E0749" not in cited
    assert "Codes named in the policy&#39;s history" in past or "Codes named in the policy's history" in past
    assert 'href="/codes/hcpcs/E0749"' in past and "Removed E0749 from the policy." in past
    assert "20975" in past and 'href="/codes/cpt/20975"' not in past  # no CPT data: no page to link to
