"""Every official release file medcodes can fetch: one table, read by `medcodes fetch` and `update`.

A row names one file of one release of one code system: where its publisher
serves it (a path under the publisher's base URL, itself a setting so a
mirror can stand in), the importer that reads it (`medcodes.sources`), and
what a good copy looks like (zip members that must be there; size and
SHA-256 where known).

The URL paths follow the publishers' naming as seen on cms.gov and
ftp.cdc.gov, but they were NOT checked against the live sites when this
table was written (no network here): a path that has moved fails with an
error naming the URL. Size and SHA-256 are filled in only where they were
checked against an unmodified copy of the official file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import MedcodesError

# publisher -> the setting that holds its base URL
PUBLISHERS: dict[str, str] = {
    "cms": "MEDCODES_CMS_BASE_URL",
    "cdc": "MEDCODES_CDC_BASE_URL",
    "fda": "MEDCODES_FDA_BASE_URL",
    "nlm": "MEDCODES_NLM_BASE_URL",
    "loinc": "MEDCODES_LOINC_BASE_URL",
}

_CDC_ICD10CM = "/pub/Health_Statistics/NCHS/Publications/ICD10CM"


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    system: str  # what the user names: `medcodes fetch icd10cm`
    release: str  # "2026", "2026-apr", "2025-jan"
    effective: str  # ISO date the release takes effect
    file: str  # name in the local cache
    publisher: str  # key of PUBLISHERS
    path: str  # URL path under the publisher's base URL (already %-encoded)
    importer: str  # name in medcodes.sources.IMPORTERS
    members: tuple[str, ...] = ()  # glob patterns (case-insensitive) that must each match a zip member
    size: int | None = None
    sha256: str | None = None
    note: str = ""  # said when the download is not a good copy (a publisher that asks for a login)


def _hcpcs(release: str, effective: str, month: str, year: int,
           size: int | None = None, sha256: str | None = None) -> ReleaseFile:
    name = f"{month}-{year}-alpha-numeric-hcpcs-file.zip"
    return ReleaseFile("hcpcs", release, effective, name, "cms", f"/files/zip/{name}", "hcpcs",
                       ("HCPC*ANWEB*.txt",), size, sha256)


def _ndc(release: str, effective: str, month: str, year: int) -> tuple[ReleaseFile, ...]:
    """A quarter of the CMS ASP NDC-HCPCS crosswalk, with the FDA NDC Directory as served when fetched
    (the FDA publishes only the current directory, updated daily)."""
    crosswalk = f"{month}-{year}-asp-ndc-hcpcs-crosswalk.zip"
    return (ReleaseFile("ndc", release, effective, "ndctext.zip", "fda", "/cder/ndctext.zip", "ndc",
                        ("product.txt", "package.txt")),
            ReleaseFile("ndc", release, effective, crosswalk, "cms", f"/files/zip/{crosswalk}", "ndc",
                        ("*crosswalk*.csv",)))


def _rxnorm(day: str) -> ReleaseFile:
    """RxNorm Current Prescribable Content of a monthly release (the first Monday): no licence needed."""
    name = f"RxNorm_full_prescribe_{day[5:7]}{day[8:10]}{day[:4]}.zip"
    return ReleaseFile("rxnorm", day, day, name, "nlm", f"/rxnorm/{name}", "rxnorm", ("RXNCONSO.RRF",))


_LOINC_NOTE = ("loinc.org asks for a free account before it serves the LOINC table file: download it there"
               " in a browser and put it in the cache at the path below, then run the command again")

# Rows of one release are read in table order; releases in order of their effective dates.
RELEASES: tuple[ReleaseFile, ...] = (
    # ICD-10-CM: CMS code files (order + codes), CDC tabular and index XML.
    ReleaseFile("icd10cm", "2025", "2024-10-01", "2025-code-descriptions-tabular-order.zip", "cms",
        "/files/zip/2025-code-descriptions-tabular-order.zip", "icd10cm",
        ("icd10cm_order_2025.txt", "icd10cm_codes_2025.txt"),
        2_317_827, "4f6c65f0034736d2b02fa9eb1128aab564fa673dd4d99363f8b2167af3994816"),
    ReleaseFile("icd10cm", "2025", "2024-10-01", "icd10cm-table-index-2025.zip", "cdc",
        f"{_CDC_ICD10CM}/2025/icd10cm-table-index-2025.zip", "icd10cm",
        ("icd*tabular*2025.xml", "icd*[-_]index[-_]2025.xml")),
    ReleaseFile("icd10cm", "2025-apr", "2025-04-01", "icd10cm-table-index-April-2025.zip", "cdc",
        f"{_CDC_ICD10CM}/2025-Update/icd10cm-table-index-April-2025.zip", "icd10cm",
        ("icd*tabular*2025.xml", "icd*[-_]index[-_]2025.xml")),
    ReleaseFile("icd10cm", "2026", "2025-10-01", "2026-code-descriptions-tabular-order.zip", "cms",
        "/files/zip/2026-code-descriptions-tabular-order.zip", "icd10cm",
        ("icd10cm_order_2026.txt", "icd10cm_codes_2026.txt")),
    ReleaseFile("icd10cm", "2026", "2025-10-01", "icd10cm-table-and-index-2026.zip", "cdc",
        f"{_CDC_ICD10CM}/2026/icd10cm-Table%20and%20Index-2026.zip", "icd10cm",
        ("icd*tabular*2026.xml", "icd*[-_]index[-_]2026.xml")),
    ReleaseFile("icd10cm", "2026-apr", "2026-04-01", "april-1-2026-code-descriptions-tabular-order.zip", "cms",
        "/files/zip/april-1-2026-code-descriptions-tabular-order.zip", "icd10cm",
        ("icd10cm_order_*2026*.txt",)),
    # FY2027's XML comes from CMS's own tables zip: the only FY2027 XML path seen published.
    ReleaseFile("icd10cm", "2027", "2026-10-01", "2027-code-descriptions-tabular-order.zip", "cms",
        "/files/zip/2027-code-descriptions-tabular-order.zip", "icd10cm",
        ("icd10cm_order_2027.txt", "icd10cm_codes_2027.txt")),
    ReleaseFile("icd10cm", "2027", "2026-10-01", "2027-code-tables-tabular-index.zip", "cms",
        "/files/zip/2027-code-tables-tabular-index.zip", "icd10cm",
        ("icd10cm_tabular_2027.xml", "icd10cm_index_2027.xml")),
    # ICD-10-PCS: CMS codes file, then tables, index and definitions XML.
    ReleaseFile("icd10pcs", "2025", "2024-10-01", "2025-icd-10-pcs-codes-file.zip", "cms",
        "/files/zip/2025-icd-10-pcs-codes-file.zip", "icd10pcs", ("icd10pcs_codes_2025.txt",)),
    ReleaseFile("icd10pcs", "2025", "2024-10-01", "2025-icd-10-pcs-code-tables-and-index.zip", "cms",
        "/files/zip/2025-icd-10-pcs-code-tables-and-index.zip", "icd10pcs",
        ("icd10pcs_tables_2025.xml", "icd10pcs_index_2025.xml", "icd10pcs_definitions_2025.xml")),
    ReleaseFile("icd10pcs", "2026", "2025-10-01", "2026-icd-10-pcs-codes-file.zip", "cms",
        "/files/zip/2026-icd-10-pcs-codes-file.zip", "icd10pcs", ("icd10pcs_codes_2026.txt",)),
    ReleaseFile("icd10pcs", "2026", "2025-10-01", "2026-icd-10-pcs-code-tables-and-index.zip", "cms",
        "/files/zip/2026-icd-10-pcs-code-tables-and-index.zip", "icd10pcs",
        ("icd10pcs_tables_2026.xml", "icd10pcs_index_2026.xml", "icd10pcs_definitions_2026.xml")),
    ReleaseFile("icd10pcs", "2027", "2026-10-01", "2027-icd-10-pcs-codes-file.zip", "cms",
        "/files/zip/2027-icd-10-pcs-codes-file.zip", "icd10pcs", ("icd10pcs_codes_2027.txt",)),
    ReleaseFile("icd10pcs", "2027", "2026-10-01", "2027-icd-10-pcs-code-tables-index.zip", "cms",
        "/files/zip/2027-icd-10-pcs-code-tables-index.zip", "icd10pcs",
        ("icd10pcs_tables_2027.xml", "icd10pcs_index_2027.xml", "icd10pcs_definitions_2027.xml")),
    # HCPCS Level II: CMS quarterly alpha-numeric files. (Some 2023-2024 quarters were named
    # "...-hcpcs-files.zip"; those quarters are not listed.)
    _hcpcs("2025-jan", "2025-01-01", "january", 2025,
           2_408_475, "b18148a90422eb857311484203e15cd96d69917ad8e477d74e6331a3124495ac"),
    _hcpcs("2025-apr", "2025-04-01", "april", 2025),
    _hcpcs("2025-jul", "2025-07-01", "july", 2025),
    _hcpcs("2025-oct", "2025-10-01", "october", 2025),
    _hcpcs("2026-jan", "2026-01-01", "january", 2026),
    _hcpcs("2026-apr", "2026-04-01", "april", 2026),
    _hcpcs("2026-jul", "2026-07-01", "july", 2026),
    _hcpcs("2026-oct", "2026-10-01", "october", 2026),
    # GEMs: the 2018 files are the last CMS published.
    ReleaseFile("gems", "2018", "2017-10-01", "2018-icd-10-cm-general-equivalence-mappings.zip", "cms",
        "/medicare/coding/icd10/downloads/2018-icd-10-cm-general-equivalence-mappings.zip", "gems",
        ("2018_I10gem.txt", "2018_I9gem.txt")),
    ReleaseFile("gems", "2018", "2017-10-01", "2018-icd-10-pcs-general-equivalence-mappings.zip", "cms",
        "/medicare/coding/icd10/downloads/2018-icd-10-pcs-general-equivalence-mappings.zip", "gems",
        ("gem_i9pcs.txt", "gem_pcsi9.txt")),
    # ICD-9-CM: version 32 is the final release (diagnoses and procedures in one zip).
    ReleaseFile("icd9cm", "v32", "2014-10-01", "icd-9-cm-v32-master-descriptions.zip", "cms",
        "/medicare/coding/icd9providerdiagnosticcodes/downloads/icd-9-cm-v32-master-descriptions.zip", "icd9cm",
        ("CMS32_DESC_LONG_DX.txt", "CMS32_DESC_LONG_SG.txt")),
    # LOINC: the release zip with LoincTable/Loinc.csv (the user's own download: see _LOINC_NOTE).
    ReleaseFile("loinc", "2.81", "2025-08-01", "Loinc_2.81.zip", "loinc", "/download/loinc-complete/", "loinc",
        ("Loinc.csv",), note=_LOINC_NOTE),
    # NDC: the FDA NDC Directory with a quarter of the CMS NDC-HCPCS crosswalk.
    *_ndc("2026-jul", "2026-07-01", "july", 2026),
    *_ndc("2026-oct", "2026-10-01", "october", 2026),
    # RxNorm prescribable content, monthly.
    _rxnorm("2026-10-05"),
    _rxnorm("2026-11-02"),
)

# What `medcodes update` keeps current by default: the systems that still publish releases.
# GEMs and ICD-9-CM are final and already in the embedded default.
MAINTAINED: tuple[str, ...] = ("icd10cm", "icd10pcs", "hcpcs")


def systems(table: Sequence[ReleaseFile] = RELEASES) -> list[str]:
    return list(dict.fromkeys(rf.system for rf in table))


def releases(system: str, table: Sequence[ReleaseFile] = RELEASES) -> list[str]:
    """Release ids of a system, oldest first."""
    rows = sorted((rf for rf in table if rf.system == system), key=lambda rf: rf.effective)
    if not rows:
        raise MedcodesError(f"no releases to fetch for {system!r}; known: {', '.join(systems(table))}")
    return list(dict.fromkeys(rf.release for rf in rows))


def files(system: str, release: str | None = None, table: Sequence[ReleaseFile] = RELEASES) -> list[ReleaseFile]:
    """The files of one release (default: the newest) of a system, in table order."""
    known = releases(system, table)
    release = release or known[-1]
    if release not in known:
        raise MedcodesError(f"no {system} release {release!r}; known: {', '.join(known)}")
    return [rf for rf in table if rf.system == system and rf.release == release]
