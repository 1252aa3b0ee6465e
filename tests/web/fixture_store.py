"""A small durable store for the web index: three made-up policies and one generated explainer.

It sits beside the index (`medcodes-store.sqlite`), where the app, `medcodes serve` and `medcodes show`
look by default. Payers, policies and the CPT citations are invented; no CPT descriptor is written.
One policy is hostile: its title, payer, snippet, link and stored HTML try script injection.
"""

from __future__ import annotations

from pathlib import Path

from medcodes.content.store import ContentStore
from medcodes.policies.records import Link, PolicyRecord, RangeLink
from medcodes.policies.store import PolicyStore, text_hash

XSS_SNIPPET = '<script>alert("snip")</script><img src=x onerror=alert("img")> E11.65 is mentioned'
XSS_TITLE = "Glucose <script>alert('title')</script> policy"
XSS_HTML = ('<h1 onclick="alert(1)">Policy</h1><p>Criteria <a href="javascript:alert(2)">here</a></p>'
            '<img src=x onerror="alert(3)"><script>alert(4)</script><p>E11.65 applies.</p>')

CGM = PolicyRecord(
    payer="Example Health Plan", title="Continuous glucose monitors", kind="document",
    content_hash=text_hash("cgm v1"), policy_id="example-cgm", number="MP-1.01.23",
    url="https://example.org/policies/cgm", effective="2024-01-01", last_reviewed="2025-06-01",
    text="Continuous glucose monitors are covered for members with E11.65 or E10.9.\n\nCoding: E11.65, E10.9, K0001.",
    links=(Link("icd10cm", "E11.65", "covered", "Covered for members with E11.65 when criteria are met.", "E11.65"),
           Link("icd10cm", "E10.9", "covered", "Covered for members with E10.9.", "E10.9"),
           Link("icd10cm", "E11.65", "coding", "Coding table: E11.65", "E11.65"),
           Link("hcpcs", "K0001", "coding", "Coding table: K0001", "K0001")),
)
SCS = PolicyRecord(
    payer="Example Health Plan", title="Spinal cord stimulation", kind="document",
    content_hash=text_hash("scs v1"), policy_id="example-scs", number="MP-7.01.25", effective="2023-05-01",
    text="Spinal cord stimulation (CPT 63650, 63685) is medically necessary when criteria are met.",
    links=(Link("cpt", "63650", "covered", "CPT 63650 is medically necessary when all criteria below are met.",
                "63650", validated=False),
           Link("cpt", "63685", "coding", "Coding table: 63685", "63685", validated=False),
           Link("icd10cm", "E11.65", "mentioned", "Diabetic members (E11.65) need a glucose check first.",
                "E11.65")),
    ranges=(RangeLink("cpt", "63650", "63688", "coding", "Codes 63650-63688 apply", "63650-63688"),),
)
HOSTILE = PolicyRecord(
    payer="Evil <b>Plan</b>", title=XSS_TITLE, kind="document", content_hash=text_hash("hostile v1"),
    policy_id="hostile", number="X-1", url="javascript:alert('url')", text="E11.65 is mentioned.",
    html=XSS_HTML,  # as a store written by hand or an older version might hold it: unsanitised
    links=(Link("icd10cm", "E11.65", "mentioned", XSS_SNIPPET, "E11.65"),),
)
GENERATED = {
    "system": "icd10cm", "code": "E11.65", "prompt_version": "test-v1", "section_set": "diagnosis",
    "sections": [{"key": "summary", "title": "Summary", "text": "High blood sugar in type 2 diabetes, in plain words."},
                 {"key": "symptoms", "title": "Symptoms", "text": "Thirst; tiredness.",
                  "items": ["Thirst", "Tiredness"]}],
    "model": "test-model-7b", "created": "2026-01-02T03:04:05Z", "facts_hash": "not-the-current-facts",
}


def build(index: Path, records: tuple[PolicyRecord, ...] = (CGM, SCS, HOSTILE), explainer: bool = True) -> Path:
    """The store beside `index`, holding `records` (and the generated explainer of E11.65)."""
    path = index.with_name("medcodes-store.sqlite")
    policies = PolicyStore(path)
    for record in records:
        policies.put(record)
    policies.close()
    if explainer:
        content = ContentStore(path)
        content.put(GENERATED)
        content.close()
    return path
