"""A local stand-in for the CMS Coverage API: answers shaped by its OpenAPI spec v1.5 (checked in a test).

One article (A52837) with CPT/HCPCS and ICD-10 groups, one LCD (L36668), one NCD (250.4), the three
report lists (the article list split over two pages with meta.next_token), a license token that is
replaced once (so the client must refresh on 401), and one 503 and one 429 on the way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .servers import Answer, Request, json_answer

AMA_TEXT = "INVENTED DESCRIPTOR THAT MUST NEVER BE STORED"


def meta(fields: list[str], **extra: Any) -> dict[str, Any]:
    return {"status": {"id": 200, "message": "OK"}, "notes": "test", "fields": fields, "children": [], **extra}


ARTICLE = {"article_id": 52837, "article_version": 14, "article_type": 1,
           "article_type_description": "Billing and Coding", "title": "Billing and Coding: Blepharoplasty",
           "article_pub_date": "12/19/2024", "article_eff_date": "01/01/2025", "article_end_date": "",
           "description": "<p>Codes for <strong>eyelid</strong> surgery.</p>", "other_comments": "",
           "status": "A", "last_updated": "12/18/2024", "key_article": "N"}
HCPC_CODES = [
    {"article_id": 52837, "article_version": 14, "hcpc_code_id": "15822", "hcpc_code_version": 1, "hcpc_code_group": 1,
     "long_description": AMA_TEXT, "short_description": AMA_TEXT, "range": "", "last_updated": "12/18/2024"},
    {"article_id": 52837, "article_version": 14, "hcpc_code_id": "67901", "hcpc_code_version": 1, "hcpc_code_group": 1,
     "long_description": AMA_TEXT, "short_description": AMA_TEXT, "range": "67901-67908", "last_updated": "12/18/2024"},
    {"article_id": 52837, "article_version": 14, "hcpc_code_id": "15820", "hcpc_code_version": 1, "hcpc_code_group": 2,
     "long_description": AMA_TEXT, "short_description": AMA_TEXT, "range": "", "last_updated": "12/18/2024"},
    {"article_id": 52837, "article_version": 14, "hcpc_code_id": "A9270", "hcpc_code_version": 1, "hcpc_code_group": 2,
     "long_description": "Non-covered item or service", "short_description": "Non-covered item", "range": "",
     "last_updated": "12/18/2024"},
]
HCPC_GROUPS = [
    {"article_id": 52837, "article_version": 14, "hcpc_code_group": 1, "last_updated": "12/18/2024",
     "paragraph": "<p>The following CPT codes are covered when the criteria in the LCD are met.</p>"},
    {"article_id": 52837, "article_version": 14, "hcpc_code_group": 2, "last_updated": "12/18/2024",
     "paragraph": "<p>The following codes are not covered (cosmetic).</p>"},
]
ICD_COVERED = [
    {"article_id": 52837, "article_version": 14, "icd10_code_id": "H02.831", "icd10_code_version": 1,
     "icd10_covered_group": 1, "range": "", "sort_order": 1, "description": "Dermatochalasis of right upper eyelid",
     "asterisk": "", "last_updated": "12/18/2024"},
    {"article_id": 52837, "article_version": 14, "icd10_code_id": "H02.401", "icd10_code_version": 1,
     "icd10_covered_group": 1, "range": "H02.401-H02.439", "sort_order": 2, "description": "Ptosis of eyelid",
     "asterisk": "", "last_updated": "12/18/2024"},
]
ICD_COVERED_GROUPS = [{"article_id": 52837, "article_version": 14, "icd10_covered_group": 1, "icd10_covered_ast": "",
                       "paragraph": "<p>Upper eyelid surgery.</p>", "last_updated": "12/18/2024"}]
ICD_NONCOVERED = [{"article_id": 52837, "article_version": 14, "icd10_code_id": "H53.40", "icd10_code_version": 1,
                   "icd10_noncovered_group": 1, "range": "", "sort_order": 1, "description": "Visual field defect",
                   "last_updated": "12/18/2024"}]
ICD_NONCOVERED_GROUPS = [{"article_id": 52837, "article_version": 14, "icd10_noncovered_group": 1,
                          "paragraph": "<p>Alone, these do not support medical necessity.</p>",
                          "last_updated": "12/18/2024"}]
LCD = {"lcd_id": 36668, "lcd_version": 45, "display_id": 36668, "title": "Vitamin D Assay Testing",
       "orig_det_eff_date": "10/01/2015", "rev_eff_date": "08/14/2025", "last_reviewed_on": "07/30/2025",
       "indication": "<p>Testing is covered for hypercalcemia (E83.52). Screening (Z13.21) is not reasonable and"
                     " necessary.</p>", "coding_guidelines": "<p>Report CPT 82306 once per year.</p>",
       "doc_reqs": "", "status": "A", "last_updated": "08/06/2025"}
LCD_CODES = [{"lcd_id": 36668, "lcd_version": 45, "hcpc_code_id": "82306", "hcpc_code_version": 1,
              "hcpc_code_group": 1, "long_description": AMA_TEXT, "short_description": AMA_TEXT, "range": "",
              "last_updated": "08/06/2025"}]
LCD_GROUPS = [{"lcd_id": 36668, "lcd_version": 45, "hcpc_code_group": 1, "paragraph": "<p>Assays.</p>",
               "last_updated": "08/06/2025"}]
NCD = {"document_id": "250.4", "document_version": 1, "document_display_id": "250.4",
       "title": "Treatment of Actinic Keratosis", "effective_date": "11/26/2001",
       "item_service_description": "<p>Actinic keratoses (L57.0) are common.</p>",
       "indications_limitations": "<p>Destruction of actinic keratoses (CPT 17000, 17003, 17004) is covered.</p>",
       "other_text": ""}
ARTICLE_LIST = [
    {"document_id": "52837", "document_version": 14, "document_display_id": "A52837", "document_type": "Article",
     "note": "", "title": "Billing and Coding: Blepharoplasty", "contractor_name_type": "Test MAC, LLC\n(MAC - Part B)",
     "updated_on": "12/18/2024", "updated_on_sort": "20241218000000", "effective_date": "01/01/2025",
     "retirement_date": "N/A", "url": "https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=52837"},
    {"document_id": "52838", "document_version": 1, "document_display_id": "A52838", "document_type": "Article",
     "note": "", "title": "Second", "contractor_name_type": "Test MAC", "updated_on": "12/18/2024",
     "updated_on_sort": "20241218000000", "effective_date": "01/01/2025", "retirement_date": "N/A", "url": ""},
    {"document_id": "52839", "document_version": 1, "document_display_id": "A52839", "document_type": "Article",
     "note": "", "title": "Third", "contractor_name_type": "Test MAC", "updated_on": "12/18/2024",
     "updated_on_sort": "20241218000000", "effective_date": "01/01/2025", "retirement_date": "N/A", "url": ""},
]

# path -> (spec schema of one data row, rows)
RESPONSES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "/v1/data/article/": ("DataArticle", [ARTICLE]),
    "/v1/data/article/hcpc-code": ("DataArticleHcpcCode", HCPC_CODES),
    "/v1/data/article/hcpc-code-group": ("DataArticleHcpcCodeGroup", HCPC_GROUPS),
    "/v1/data/article/icd10-covered": ("DataArticleIcd10Covered", ICD_COVERED),
    "/v1/data/article/icd10-covered-group": ("DataArticleIcd10CoveredGroup", ICD_COVERED_GROUPS),
    "/v1/data/article/icd10-noncovered": ("DataArticleIcd10Noncovered", ICD_NONCOVERED),
    "/v1/data/article/icd10-noncovered-group": ("DataArticleIcd10NoncoveredGroup", ICD_NONCOVERED_GROUPS),
    "/v1/data/article/icd10-pcs-code": ("DataArticleIcd10PcsCode", []),
    "/v1/data/article/icd10-pcs-code-group": ("DataArticleIcd10PcsCodeGroup", []),
    "/v1/data/lcd/": ("DataLcd", [LCD]),
    "/v1/data/lcd/hcpc-code": ("DataLcdHcpcCode", LCD_CODES),
    "/v1/data/lcd/hcpc-code-group": ("DataLcdHcpcCodeGroup", LCD_GROUPS),
    "/v1/data/ncd/": ("DataNcd", [NCD]),
    "/v1/reports/local-coverage-articles/": ("DataReportsLocalCoverageArticle", ARTICLE_LIST),
    "/v1/metadata/license-agreement/": ("MetadataLicenseAgreement", [{"token": "tok-1"}]),
}


def _matches(row: dict[str, Any], query: dict[str, str]) -> bool:
    """The document the query names (articleid / lcdid / ncdid), its version when one is asked for."""
    for key, field in (("articleid", "article_id"), ("lcdid", "lcd_id"), ("ncdid", "document_id")):
        if key in query and field in row and str(row[field]) != query[key]:
            return False
    return True


def routes() -> dict[str, Callable[[Request], Answer]]:
    """Handlers with state: token tok-1 is stale once tok-2 exists; one 503 and one 429 along the way."""
    state = {"licenses": 0, "failed_once": set()}  # type: dict[str, Any]

    def license_(req: Request) -> Answer:
        state["licenses"] += 1
        token = f"tok-{state['licenses']}"
        return json_answer({"meta": meta(["token"]), "data": [{"token": token}]})

    def data(path: str) -> Callable[[Request], Answer]:
        rows = RESPONSES[path][1]

        def handle(req: Request) -> Answer:
            needs_token = path.startswith(("/v1/data/article", "/v1/data/lcd"))
            if needs_token and req.headers.get("authorization") != "Bearer tok-2":
                return json_answer({"message": "Invalid or expired license token", "code": 401}, 401)
            if path == "/v1/data/article/hcpc-code" and "503" not in state["failed_once"]:
                state["failed_once"].add("503")
                return json_answer({"message": "busy", "code": 503}, 503)
            if path == "/v1/data/lcd/" and "429" not in state["failed_once"]:
                state["failed_once"].add("429")
                return json_answer({"message": "slow down", "code": 429}, 429, **{"Retry-After": "0"})
            if path == "/v1/reports/local-coverage-articles/":
                if req.query.get("next_token") == "page-2":
                    return json_answer({"meta": meta(list(rows[0])), "data": rows[2:]})
                return json_answer({"meta": meta(list(rows[0]), next_token="page-2"), "data": rows[:2]})
            wanted = [r for r in rows if _matches(r, req.query)]
            return json_answer({"meta": meta(list(rows[0]) if rows else []), "data": wanted})

        return handle

    out: dict[str, Callable[[Request], Answer]] = {p: data(p) for p in RESPONSES}
    out["/v1/metadata/license-agreement/"] = license_
    return out
