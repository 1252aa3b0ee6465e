"""The vendored data layer (medcodes.data): derived files, their provenance, and what the build does with them.

Fixtures are the importers' own (made-up or public-domain excerpts in the official layouts); the real
official files are re-derived in the realdata tests at the end.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from medcodes import data
from medcodes.data import codec
from medcodes.data.derive import derive, derive_all
from medcodes.data.provenance import load
from medcodes.errors import MedcodesError, SourceError
from medcodes.index import Catalog
from medcodes.index.build import build_index
from medcodes.model import Change, Code, Note, Record, Reference, Relation, Release, Term
from medcodes.sources import hcpcs, icd10cm, icd10pcs, pos, reader

DATA = Path(__file__).resolve().parents[1] / "data"
HCPCS = DATA / "hcpcs" / "HCPC2025_JAN_ANWEB_fixture.txt"
PCS_TABLES = DATA / "icd10pcs" / "icd10pcs_tables_2026.xml"
PCS_INDEX = DATA / "icd10pcs" / "icd10pcs_index_2025.xml"
CM_TABULAR = DATA / "icd10cm" / "icd10cm_tabular_2026.xml"
CM_EINDEX = DATA / "icd10cm" / "icd10cm_eindex_2026.xml"
POS = DATA / "pos" / "CodeSystem-CMS-PlaceofServiceCodes.xml"
URL = "https://www.cms.gov/example.zip"


def hcpcs_zip(tmp_path: Path, name: str = "january-2025-hcpcs-fixture.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(HCPCS, HCPCS.name)
        zf.write(DATA / "hcpcs" / "proc_notes_JAN2025.txt", "proc_notes_JAN2025.txt")
    return path


def medcodes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "medcodes", *args], capture_output=True, text=True, timeout=300)


# --- the format -------------------------------------------------------------------


def test_every_record_type_reads_back_the_same(tmp_path: Path) -> None:
    records: list[Record] = [
        Release("hcpcs", "HCPCS Level II 2025 January (Q1)", "2025-01-01"),
        Code("hcpcs", "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", billable=True, parent="J0100-J8499",
             short_title="Dexamethasone sodium phos", notes=(Note("note", "Processing note 0088: text"),),
             synonyms=("dexamethasone",), attributes={"betos": "O1E", "types_of_service": ["1", "9"], "n": 3}),
        Term("icd10cm", "V94.11", "Accident (to), boat, boating, powered", "eindex",
             ("Accident (to)", "boat, boating", "powered")),
        Term("icd10pcs", "0SG", "Fusion", "pcs-index"),
        Reference("icd10cm", "Infarct", "see", "Infarction", "index", ("Infarct",)),
        Relation("gem", "icd9cm", "250.00", "icd10cm", "E11.9", {"approximate": True}),
        Change("hcpcs", "J1100", "HCPCS Level II 2025 January (Q1)", "revised", None, "new", "hcpcs action code C",
               "2025-01-01"),
    ]
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(codec.dumps(codec.header("hcpcs", "anweb"), records))
    assert list(codec.records(path, {})) == records
    assert codec.read_header(path) == {"format": "medcodes-derived", "version": 1, "source": "hcpcs",
                                       "part": "anweb", "expand": None}


def test_bytes_are_reproducible() -> None:
    records = [Release("pos", "CMS Place of Service codes 2024-05-02", "2024-05-02"), Code("pos", "11", "Office")]
    first = codec.dumps(codec.header("pos", "codes"), records)
    assert first == codec.dumps(codec.header("pos", "codes"), records)
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    assert first[3] & 0x08 == 0  # no file name in the gzip header


def test_official_files_are_not_derived_files() -> None:
    assert not data.is_derived(PCS_TABLES)
    assert not data.is_derived(HCPCS)


# --- derive -----------------------------------------------------------------------


def test_derive_writes_the_file_and_its_provenance(tmp_path: Path) -> None:
    official = hcpcs_zip(tmp_path)
    out = tmp_path / "layer"
    rec = derive("hcpcs", official, out, url=URL, note="a fixture", today="2026-01-02")
    assert rec.file == "hcpcs-anweb-2025-january-q1.jsonl.gz"
    assert rec.releases == ["HCPCS Level II 2025 January (Q1)"] and rec.effective == "2025-01-01"
    assert rec.official.file == official.name and rec.official.url == URL and rec.official.publisher == "CMS"
    assert rec.official.sha256 == hashlib.sha256(official.read_bytes()).hexdigest()
    assert rec.sha256 == hashlib.sha256((out / rec.file).read_bytes()).hexdigest()
    assert rec.derived_on == "2026-01-02" and rec.note == "a fixture"
    assert load(out) == [rec]
    # the derived file is read back as the official one is
    assert list(reader("hcpcs")(out / rec.file)) == list(hcpcs.read(official))


def test_a_second_derive_gives_the_same_bytes_and_keeps_the_record(tmp_path: Path) -> None:
    official = hcpcs_zip(tmp_path)
    out = tmp_path / "layer"
    first = derive("hcpcs", official, out, url=URL, today="2026-01-02")
    before = (out / first.file).read_bytes()
    again = derive("hcpcs", official, out, today="2026-02-03")  # the URL is the one recorded
    assert again == first  # same bytes: the derive date stays the first one
    assert (out / first.file).read_bytes() == before


def test_pcs_tables_keep_the_table_nodes_and_compose_the_codes_again(tmp_path: Path) -> None:
    rec = derive("icd10pcs", PCS_TABLES, tmp_path, url=URL)
    path = tmp_path / rec.file
    assert codec.read_header(path)["expand"] == "icd10pcs-tables"  # type: ignore[index]
    with gzip.open(path, "rt") as f:
        stored = [json.loads(line) for line in f][1:]
    assert not any(o["r"] == "code" and o.get("kind", "code") == "code" for o in stored)
    assert list(reader("icd10pcs")(path)) == list(icd10pcs.read(PCS_TABLES))


def test_derive_orders_the_layer_as_the_build_reads_it(tmp_path: Path) -> None:
    derive("pos", POS, tmp_path, url=URL)
    derive("icd10pcs", PCS_INDEX, tmp_path, url=URL)
    derive("hcpcs", hcpcs_zip(tmp_path), tmp_path, url=URL)
    derive("icd10cm", CM_EINDEX, tmp_path, url=URL)
    assert [(p.source, p.part) for p in load(tmp_path)] == [
        ("icd10cm", "eindex"), ("icd10pcs", "index"), ("hcpcs", "anweb"), ("pos", "codes")]
    assert data.layer_files("icd10cm", tmp_path) == [tmp_path / "icd10cm-eindex-fy2026.jsonl.gz"]


def test_the_vendored_layer_matches_its_provenance() -> None:
    records = data.layer()
    assert {(p.source, p.part) for p in records} == {
        ("icd10cm", "index"), ("icd10cm", "eindex"), ("icd10cm", "drug"), ("icd10cm", "neoplasm"),
        ("icd10pcs", "tables"), ("icd10pcs", "codes"), ("icd10pcs", "definitions"), ("icd10pcs", "index"),
        ("hcpcs", "anweb"), ("pos", "codes")}
    assert sum(p.size for p in records) < 20_000_000
    for p in records:
        assert data.verify(data.DATA_DIR / p.file) == p
        assert p.official.url.startswith("https://") and len(p.official.sha256) == 64
    pcs_index = next(p for p in records if (p.source, p.part) == ("icd10pcs", "index"))
    assert pcs_index.releases == ["ICD-10-PCS FY2025"] and "FY2026" in pcs_index.note


# --- bad input: derive ------------------------------------------------------------


def test_an_older_release_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    out = tmp_path / "layer"
    derive("hcpcs", hcpcs_zip(tmp_path), out, url=URL)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    old = DATA / "hcpcs" / "2020" / "HCPC2020_ANWEB_w_disclaimer.txt"
    with pytest.raises(SourceError, match="older than the HCPCS Level II 2025 January") as e:
        derive("hcpcs", old, out, url=URL)
    assert e.value.path == str(old)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    derive("hcpcs", old, out, url=URL, force=True)  # on purpose, it may
    assert [p.releases for p in load(out)] == [["HCPCS Level II 2020 January (Q1)"]]
    assert sorted(p.name for p in out.iterdir()) == ["hcpcs-anweb-2020-january-q1.jsonl.gz", "provenance.json"]


def test_a_file_named_for_another_release_than_its_content(tmp_path: Path) -> None:
    renamed = tmp_path / "icd10pcs_tables_2024.xml"  # the content says 2026
    shutil.copy(PCS_TABLES, renamed)
    with pytest.raises(SourceError, match="file name says 2024 but its content is ICD-10-PCS FY2026") as e:
        derive("icd10pcs", renamed, tmp_path / "layer", url=URL)
    assert e.value.path == str(renamed)
    assert not (tmp_path / "layer").exists()


@pytest.mark.parametrize(("source", "path", "message"), [
    ("hcpcs", PCS_TABLES, "no HCPCS records"),
    ("icd10pcs", HCPCS, "not a file of icd10pcs the data layer takes"),
    ("icd10cm", CM_TABULAR, "not its tabular file"),
    ("pos", PCS_TABLES, "is not a FHIR CodeSystem"),
    ("icd9cm", HCPCS, "not part of the data layer"),
    ("cpt", HCPCS, "never vendored"),
])
def test_a_file_of_the_wrong_layout_is_refused(tmp_path: Path, source: str, path: Path, message: str) -> None:
    with pytest.raises(SourceError, match=message) as e:
        derive(source, path, tmp_path / "layer", url=URL)
    assert e.value.path == str(path)
    assert not (tmp_path / "layer").exists()


def test_a_truncated_zip_is_refused(tmp_path: Path) -> None:
    whole = hcpcs_zip(tmp_path).read_bytes()
    cut = tmp_path / "cut" / "january-2025-hcpcs-fixture.zip"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError) as e:
        derive("hcpcs", cut, tmp_path / "layer", url=URL)
    assert e.value.path == str(cut)
    assert not (tmp_path / "layer").exists()


def test_a_truncated_gzip_is_refused(tmp_path: Path) -> None:
    cut = tmp_path / "icd10pcs_tables_2026.xml.gz"
    whole = gzip.compress(PCS_TABLES.read_bytes())
    cut.write_bytes(whole[: len(whole) - 40])
    with pytest.raises(SourceError, match="damaged or truncated") as e:
        derive("icd10pcs", cut, tmp_path / "layer", url=URL)
    assert e.value.path.startswith(str(cut))


def test_a_short_download_of_a_known_release_file_is_refused(tmp_path: Path) -> None:
    # The fetch table knows the size and SHA-256 of the official January 2025 zip.
    short = tmp_path / "january-2025-alpha-numeric-hcpcs-file.zip"
    shutil.copy(hcpcs_zip(tmp_path), short)
    with pytest.raises(SourceError, match="not the official hcpcs 2025-jan file .* truncated or altered") as e:
        derive("hcpcs", short, tmp_path / "layer")
    assert e.value.path == str(short)


def test_a_derived_file_is_not_derived_again(tmp_path: Path) -> None:
    rec = derive("pos", POS, tmp_path, url=URL)
    with pytest.raises(SourceError, match="already a derived file"):
        derive("pos", tmp_path / rec.file, tmp_path / "other", url=URL)


def test_no_url_known_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="give --url"):
        derive("pos", POS, tmp_path)


# --- bad input: build -------------------------------------------------------------


def built(tmp_path: Path, sources: list[tuple[str, Path]]) -> Path:
    out = tmp_path / "index.sqlite"
    build_index(sources, out)
    return out


def test_a_derived_file_that_does_not_match_its_provenance_is_refused(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    rec = derive("pos", POS, layer, url=URL)
    derived = layer / rec.file
    out = built(tmp_path, [("pos", derived)])
    before = out.read_bytes()
    records = list(codec.records(derived, {}))
    changed = [r if not isinstance(r, Code) or r.code != "11" else Code("pos", "11", "Tampered") for r in records]
    derived.write_bytes(codec.dumps(codec.header("pos", "codes"), changed))
    with pytest.raises(SourceError, match="does not match its provenance") as e:
        build_index([("pos", derived)], out)
    assert e.value.path == str(derived)
    assert out.read_bytes() == before  # the index that was serving still serves
    assert not list(tmp_path.glob(".index.sqlite.*"))


def test_a_truncated_derived_file_is_refused_by_its_hash(tmp_path: Path) -> None:
    rec = derive("hcpcs", hcpcs_zip(tmp_path), tmp_path / "layer", url=URL)
    derived = tmp_path / "layer" / rec.file
    derived.write_bytes(derived.read_bytes()[:-100])
    with pytest.raises(SourceError, match="does not match its provenance"):
        build_index([("hcpcs", derived)], tmp_path / "index.sqlite")
    assert not (tmp_path / "index.sqlite").exists()


def test_a_derived_file_without_provenance_is_refused(tmp_path: Path) -> None:
    rec = derive("pos", POS, tmp_path / "layer", url=URL)
    lone = tmp_path / "elsewhere" / rec.file
    lone.parent.mkdir()
    shutil.copy(tmp_path / "layer" / rec.file, lone)
    with pytest.raises(SourceError, match="without a provenance record") as e:
        build_index([("pos", lone)], tmp_path / "index.sqlite")
    assert e.value.path == str(lone)


def test_a_derived_file_given_as_another_source_is_refused(tmp_path: Path) -> None:
    rec = derive("pos", POS, tmp_path / "layer", url=URL)
    with pytest.raises(SourceError, match="a derived pos file, given as hcpcs"):
        build_index([("hcpcs", tmp_path / "layer" / rec.file)], tmp_path / "index.sqlite")


# --- the build: provenance, index targets ------------------------------------------


def test_sources_show_the_provenance(tmp_path: Path) -> None:
    rec = derive("pos", POS, tmp_path / "layer", url=URL, note="from a fixture")
    out = built(tmp_path, [("pos", tmp_path / "layer" / rec.file)])
    [src] = Catalog(out).sources()
    assert src["provenance"] == rec.as_dict()
    proc = medcodes("sources", "--db", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"derived {rec.derived_on} from CodeSystem-CMS-PlaceofServiceCodes.xml" in proc.stdout
    assert URL in proc.stdout and "note: from a fixture" in proc.stdout


def index_records(release: Release, *terms: tuple[str, str]) -> list[Record]:
    return [release, *(Term("icd10cm", code, text, "index", (text,)) for code, text in terms)]


def test_index_targets_missing_from_the_loaded_codes_are_reported_not_kept(tmp_path: Path) -> None:
    log: list[str] = []
    sources = [
        [Release("icd10cm", "ICD-10-CM FY2026", "2025-10-01"), Code("icd10cm", "E11.9", "Type 2", billable=True),
         Code("icd10cm", "E11", "Type 2 diabetes", kind="category", billable=False)],
        index_records(Release("icd10cm", "ICD-10-CM FY2025", "2024-10-01"), ("E11.9", "Diabetes, type 2"),
                      ("E11", "Diabetes"), ("Z99.999", "Invented, gone")),
    ]
    out = _build_records(tmp_path, sources, log)
    cat = Catalog(out)
    assert [(r["code"], r["term"]) for r in cat.conn.execute("SELECT code, term FROM terms ORDER BY code")] == [
        ("E11", "Diabetes"), ("E11.9", "Diabetes, type 2")]
    assert [(u["code"], u["term"], u["release"], u["reason"]) for u in cat.unresolved_terms()] == [
        ("Z99.999", "Invented, gone", "ICD-10-CM FY2025", "no such code in the loaded release")]
    assert cat.sources()[1]["counts"]["unresolved"] == 1
    assert any("not in the loaded release: 1 of 3" in m for m in log)
    # the FY2025 index's release is no release of codes in force
    assert cat.releases() == {"icd10cm": ["ICD-10-CM FY2026"]}
    proc = medcodes("sources", "--db", str(out), "--unresolved")
    assert proc.returncode == 0 and "Z99.999" in proc.stdout and "Invented, gone" in proc.stdout


def test_a_target_the_loaded_release_deleted_is_reported(tmp_path: Path) -> None:
    sources = [
        [Release("icd10cm", "FY2025", "2024-10-01"), Code("icd10cm", "A00.0", "Old", billable=True),
         Code("icd10cm", "A00.1", "Kept", billable=True)],
        [Release("icd10cm", "FY2026", "2025-10-01"), Code("icd10cm", "A00.1", "Kept", billable=True)],
        index_records(Release("icd10cm", "FY2025", "2024-10-01"), ("A00.0", "Cholera, old"), ("A00.1", "Cholera")),
    ]
    cat = Catalog(_build_records(tmp_path, sources))
    assert [(u["code"], u["reason"]) for u in cat.unresolved_terms()] == [("A00.0", "deleted in FY2026")]


def test_a_newer_index_replaces_the_older_one(tmp_path: Path) -> None:
    sources = [
        [Release("icd10cm", "FY2026", "2025-10-01"), Code("icd10cm", "A00.1", "Cholera", billable=True)],
        [*index_records(Release("icd10cm", "FY2025", "2024-10-01"), ("A00.1", "Cholera, old wording")),
         Reference("icd10cm", "Vibrio", "see", "Cholera", "index")],
        index_records(Release("icd10cm", "FY2026", "2025-10-01"), ("A00.1", "Cholera, new wording")),
    ]
    cat = Catalog(_build_records(tmp_path, sources))
    assert [t.term for t in cat.terms("icd10cm", "A00.1")] == ["Cholera, new wording"]
    assert cat.unresolved_terms() == []
    assert cat.term_refs("icd10cm", "Vibrio") == []  # it came with the older index


def test_a_newer_official_release_replaces_the_layer_file(tmp_path: Path) -> None:
    """What `medcodes build --source` and `medcodes update` do: the official file is read after the default."""
    rec = derive("hcpcs", hcpcs_zip(tmp_path), tmp_path / "layer", url=URL)
    lines = HCPCS.read_bytes().splitlines(keepends=True)
    april = [ln for ln in lines if not ln.startswith(b"G0027")]  # gone in April
    april = [ln.replace(b"Injection, dexamethasone sodium phosphate, 1 mg  ",
                        b"Injection, dexamethasone sodium phosphate, 2 mg  ") for ln in april]
    newer = tmp_path / "HCPC2025_APR_ANWEB_fixture.txt"
    newer.write_bytes(b"".join(april))
    out = built(tmp_path, [("hcpcs", tmp_path / "layer" / rec.file), ("hcpcs", newer)])
    cat = Catalog(out)
    j1100 = cat.conn.execute("SELECT title, release FROM codes WHERE system='hcpcs' AND code='J1100'").fetchone()
    assert tuple(j1100) == ("Injection, dexamethasone sodium phosphate, 2 mg", "HCPCS Level II 2025 April (Q2)")
    g0027 = cat.conn.execute("SELECT billable, deleted_in FROM codes WHERE system='hcpcs' AND code='G0027'").fetchone()
    assert tuple(g0027) == (0, "HCPCS Level II 2025 April (Q2)")


def test_references_and_paths_are_stored(tmp_path: Path) -> None:
    sources = [[Release("icd10cm", "FY2026", "2025-10-01"), Code("icd10cm", "V94.11", "Boat", billable=True),
                Term("icd10cm", "V94.11", "Accident (to), boat, boating", "eindex", ("Accident (to)", "boat, boating")),
                Reference("icd10cm", "Accident (to), aircraft", "see", "Accident, transport, aircraft", "eindex",
                          ("Accident (to)", "aircraft"))]]
    cat = Catalog(_build_records(tmp_path, sources))
    [(path,)] = cat.conn.execute("SELECT path FROM terms").fetchall()
    assert json.loads(path) == ["Accident (to)", "boat, boating"]
    assert cat.term_refs("icd10cm", "Accident (to), aircraft") == [
        {"kind": "see", "target": "Accident, transport, aircraft", "source": "eindex"}]


def _build_records(tmp_path: Path, sources: list[list[Record]], log: list[str] | None = None) -> Path:
    """Each record list a derived file of its own, built in order as `medcodes build` would."""
    layer = tmp_path / "layer"
    layer.mkdir(exist_ok=True)
    paths: list[tuple[str, Path]] = []
    for i, records in enumerate(sources):
        path = layer / f"part{i}.jsonl.gz"
        path.write_bytes(codec.dumps(codec.header("icd10cm", f"part{i}"), records))
        paths.append(("icd10cm", path))
    _provenance_for(layer, [p for _, p in paths])
    out = tmp_path / "index.sqlite"
    build_index(paths, out, log=(log.append if log is not None else lambda _m: None))
    return out


def _provenance_for(layer: Path, paths: list[Path]) -> None:
    from medcodes.data.provenance import Official, Provenance, save
    from medcodes.files import file_sha256

    save(layer, [Provenance(p.name, "icd10cm", p.stem, [], None, Official(p.name, "test", URL, "0" * 64, 0),
                            file_sha256(p), p.stat().st_size, "2026-01-01") for p in paths])


# --- CLI --------------------------------------------------------------------------


@pytest.mark.slow  # derives and verifies data files in subprocesses
def test_cli_derive_list_and_verify(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    proc = medcodes("data", "derive", "--dir", str(layer), "--url", URL, f"pos={POS}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("pos-codes-2024-05-02.jsonl.gz: CMS Place of Service codes 2024-05-02; 4 codes")
    proc = medcodes("data", "list", "--dir", str(layer))
    assert "from CodeSystem-CMS-PlaceofServiceCodes.xml" in proc.stdout
    assert medcodes("data", "verify", "--dir", str(layer)).stdout.startswith("1 derived files match")
    (layer / "pos-codes-2024-05-02.jsonl.gz").write_bytes(b"\x1f\x8b not really")
    proc = medcodes("data", "verify", "--dir", str(layer))
    assert proc.returncode == 1 and "pos-codes-2024-05-02.jsonl.gz: derived file does not match" in proc.stderr


def test_cli_derive_wants_source_equals_path() -> None:
    proc = medcodes("data", "derive", "pos")
    assert proc.returncode == 1 and "SOURCE=PATH" in proc.stderr


def test_unknown_source(tmp_path: Path) -> None:
    with pytest.raises(MedcodesError, match="unknown source 'nosuch'"):
        derive("nosuch", POS, tmp_path)


# --- official zips ------------------------------------------------------------------

PCS_ZIP_MEMBERS = [DATA / "icd10pcs" / n for n in
                   ("icd10pcs_tables_2026.xml", "icd10pcs_codes_2026.txt", "icd10pcs_definitions_2026.xml")]
CM_ZIP_MEMBERS = [DATA / "icd10cm" / n for n in ("icd10cm_tabular_2026.xml", "icd10cm_index_2026.xml",
                                                 "icd10cm_eindex_2026.xml", "icd10cm_drug_2026.xml",
                                                 "icd10cm_neoplasm_2026.xml")]


def official_zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    """A zip laid out as CMS and the CDC ship them: the files at its top, with their PDF beside them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
        zf.writestr("ReadMe.pdf", b"%PDF-1.4 not read")
    return path


@pytest.mark.parametrize("source, members", [("icd10pcs", PCS_ZIP_MEMBERS), ("icd10cm", CM_ZIP_MEMBERS)])
def test_an_official_zip_gives_the_files_its_members_give(tmp_path: Path, source: str, members: list[Path]) -> None:
    zipped = official_zip(tmp_path / f"2026-{source}-code-tables-and-index.zip",
                          [(p.name, p.read_bytes()) for p in members])
    recs = derive_all(source, zipped, tmp_path / "from-zip", url=URL)
    one_by_one = [derive(source, p, tmp_path / "one-by-one", url=URL) for p in members
                  if p.name != "icd10cm_tabular_2026.xml"]  # the tabular comes from a PyPI package
    assert sorted(r.file for r in recs) == sorted(r.file for r in one_by_one)
    for rec, single in zip(recs, sorted(one_by_one, key=lambda r: [x.file for x in recs].index(r.file)), strict=True):
        assert (tmp_path / "from-zip" / rec.file).read_bytes() == (tmp_path / "one-by-one" / single.file).read_bytes()
        member = next(p for p in members if p.name == rec.official.member)
        assert (rec.official.file, rec.official.size) == (zipped.name, zipped.stat().st_size)
        assert rec.official.content_sha256 == hashlib.sha256(member.read_bytes()).hexdigest()
    assert [p.file for p in load(tmp_path / "from-zip")] == [r.file for r in recs]
    assert "member" not in json.loads((tmp_path / "one-by-one" / "provenance.json").read_text())["files"][0]["official"]


def test_the_cli_derives_each_member_of_a_zip(tmp_path: Path) -> None:
    zipped = official_zip(tmp_path / "2026-icd-10-pcs-code-tables-and-index.zip",
                          [(p.name, p.read_bytes()) for p in PCS_ZIP_MEMBERS])
    proc = medcodes("data", "derive", "--dir", str(tmp_path / "layer"), "--url", URL, f"icd10pcs={zipped}")
    assert proc.returncode == 0, proc.stderr
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [
        "icd10pcs-tables-fy2026.jsonl.gz (from icd10pcs_tables_2026.xml)",
        "icd10pcs-codes-fy2026.jsonl.gz (from icd10pcs_codes_2026.txt)",
        "icd10pcs-definitions-fy2026.jsonl.gz (from icd10pcs_definitions_2026.xml)"]
    assert medcodes("data", "verify", "--dir", str(tmp_path / "layer")).stdout.startswith("3 derived files match")


def test_a_zip_without_a_file_the_layer_takes_is_refused(tmp_path: Path) -> None:
    zipped = official_zip(tmp_path / "2026-code-descriptions-tabular-order.zip",
                          [(n, (DATA / "icd10cm" / n).read_bytes()) for n in ("icd10cm_order_2026.txt",
                                                                             "icd10cm_codes_2026.txt")])
    with pytest.raises(SourceError, match=r"zip holds no icd10cm file the data layer takes .* it holds: "
                                          r"icd10cm_order_2026.txt \(order\)") as e:
        derive_all("icd10cm", zipped, tmp_path / "layer", url=URL)
    assert e.value.path == str(zipped)
    assert not (tmp_path / "layer").exists()


def test_a_bad_member_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    """All members or none: a truncated or renamed member fails the derive before anything is written."""
    layer = tmp_path / "layer"
    derive("pos", POS, layer, url=URL)
    before = {p.name: p.read_bytes() for p in layer.iterdir()}
    tables = PCS_ZIP_MEMBERS[0].read_bytes()
    cut = official_zip(tmp_path / "2026-icd-10-pcs-code-tables-and-index.zip",
                       [(PCS_ZIP_MEMBERS[1].name, PCS_ZIP_MEMBERS[1].read_bytes()),
                        (PCS_ZIP_MEMBERS[0].name, tables[: len(tables) // 2])])
    with pytest.raises(SourceError) as e:
        derive_all("icd10pcs", cut, layer, url=URL)
    assert e.value.path.startswith(f"{cut}!")
    other_year = official_zip(tmp_path / "2024-icd-10-pcs-code-tables-and-index.zip",
                              [(p.name, p.read_bytes()) for p in PCS_ZIP_MEMBERS])
    with pytest.raises(SourceError, match="the file name says 2024 but its content is ICD-10-PCS FY2026") as e:
        derive_all("icd10pcs", other_year, layer, url=URL)
    assert e.value.path == str(other_year)
    whole = other_year.read_bytes()
    truncated = tmp_path / "t" / "2026-icd-10-pcs-code-tables-and-index.zip"
    truncated.parent.mkdir()
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError, match="unreadable zip") as e:
        derive_all("icd10pcs", truncated, layer, url=URL)
    assert e.value.path == str(truncated)
    assert {p.name: p.read_bytes() for p in layer.iterdir()} == before


# --- real data --------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("rec", data.layer(), ids=lambda p: p.file)
def test_each_vendored_file_is_re_derived_byte_for_byte(shared_data: Path, tmp_path: Path,
                                                        rec: data.Provenance) -> None:
    found = sorted(shared_data.rglob(rec.official.file))
    if not found:
        pytest.skip(f"{rec.official.file} is not in ../shared/data")
    [official] = found
    again = derive(rec.source, official, tmp_path, url=rec.official.url, note=rec.note)
    assert again.official == rec.official
    assert (tmp_path / again.file).read_bytes() == (data.DATA_DIR / rec.file).read_bytes()
    assert again.sha256 == rec.sha256 and again.counts == rec.counts and again.releases == rec.releases


@pytest.mark.realdata
def test_the_layer_reads_as_its_official_files_do(shared_data: Path) -> None:
    for rec in data.layer():
        if rec.part in ("index", "drug") or rec.source == "hcpcs":
            continue  # the largest: the byte comparison above covers them
        [official] = sorted(shared_data.rglob(rec.official.file))
        module = {"icd10cm": icd10cm, "icd10pcs": icd10pcs, "pos": pos}[rec.source]
        assert list(reader(rec.source)(data.DATA_DIR / rec.file)) == list(module.read(official)), rec.file


def _member_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


@pytest.mark.realdata
def test_the_official_pcs_zip_gives_the_vendored_files(shared_data: Path, tmp_path: Path) -> None:
    """The FY2026 tables, codes and definitions in one zip, as CMS serves them, give the vendored files
    byte for byte."""
    xml = shared_data / "cms_icd10pcs_xml" / "2026"
    given = {"icd10pcs_tables_2026.xml": xml / "icd10pcs_tables_2026.xml.gz",
             "icd10pcs_codes_2026.txt": shared_data / "cms_icd10_fy2026_codes" / "icd10pcs_codes_2026.txt.gz",
             "icd10pcs_definitions_2026.xml": xml / "icd10pcs_definitions_2026.xml"}
    missing = [str(p) for p in given.values() if not p.is_file()]
    if missing:
        pytest.skip(f"absent: {', '.join(missing)}")
    zipped = official_zip(tmp_path / "2026-icd-10-pcs-code-tables-and-index.zip",
                          [(name, _member_bytes(p)) for name, p in given.items()])
    recs = derive_all("icd10pcs", zipped, tmp_path / "layer", url=URL)
    assert [r.part for r in recs] == ["tables", "codes", "definitions"]
    for rec in recs:
        assert (tmp_path / "layer" / rec.file).read_bytes() == (data.DATA_DIR / rec.file).read_bytes(), rec.file
        assert rec.official.member in given and rec.official.file == zipped.name


@pytest.mark.realdata
def test_the_official_cm_zips(shared_data: Path, tmp_path: Path) -> None:
    """The CDC's index zip gives the index files (named for the April update its name says); the CMS
    code-descriptions zip holds nothing the layer takes (its code list comes from a PyPI package)."""
    folder = shared_data / "cdc_icd10cm_2025_april"
    given = {"icd-10-cm-eindex-2025.xml": folder / "icd-10-cm-eindex-2025.xml",
             "icd-10-cm-neoplasm-2025.xml": folder / "icd-10-cm-neoplasm-2025.xml",
             "icd-10-cm-drug-2025.xml": folder / "icd-10-cm-drug-2025.xml.gz"}
    descriptions = shared_data / "cms_icd10cm_fy2025_code_descriptions" / "2025-code-descriptions-tabular-order.zip"
    missing = [str(p) for p in [*given.values(), descriptions] if not p.is_file()]
    if missing:
        pytest.skip(f"absent: {', '.join(missing)}")
    zipped = official_zip(tmp_path / "icd10cm-table-index-April-2025.zip",
                          [(name, _member_bytes(p)) for name, p in given.items()])
    recs = derive_all("icd10cm", zipped, tmp_path / "layer", url=URL)
    assert [r.part for r in recs] == ["eindex", "drug", "neoplasm"]
    vendored = {p.part: p for p in data.layer() if p.source == "icd10cm"}
    for rec in recs:
        assert rec.releases == ["ICD-10-CM FY2025, April 2025 update"] and rec.effective == "2025-04-01"
        got = [r for r in reader("icd10cm")(tmp_path / "layer" / rec.file) if not isinstance(r, Release)]
        want = [r for r in reader("icd10cm")(data.DATA_DIR / vendored[rec.part].file) if not isinstance(r, Release)]
        assert got == want, rec.file
    with pytest.raises(SourceError, match="zip holds no icd10cm file the data layer takes") as e:
        derive_all("icd10cm", descriptions, tmp_path / "other")
    assert e.value.path == str(descriptions) and not (tmp_path / "other").exists()
