"""RxNorm (system `rxnorm`): the NLM RxNorm Current Prescribable Content, from the user's download.

The release zip (`RxNorm_full_prescribe_MMDDYYYY.zip`, member `rrf/RXNCONSO.RRF`) or RXNCONSO.RRF itself:
pipe-delimited, no header, 18 fields and a trailing pipe:

    RXCUI|LAT|TS|LUI|STT|SUI|ISPREF|RXAUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SRL|SUPPRESS|CVF|

Only SAB=RXNORM rows are read (the full release also carries other sources' names under their own
licences). Each RXCUI becomes a code titled with its RxNorm normalized name (the STR of its one
non-synonym term type: IN, SCD, SBD, ...); synonyms (SY, TMSY) and the prescribable name (PSN) are
synonyms. Codes sit under a node for their term type ("SCD: Semantic Clinical Drug"). Suppressed
names (SUPPRESS O, Y, E) are skipped; a concept with no other name is left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import SourceError
from ..model import Code, Record, Release
from .zipped import members

SYSTEM = "rxnorm"
FIELDS = 18
_DATED = re.compile(r"([01][0-9])([0-3][0-9])(20[0-9]{2})")  # RxNorm_full_prescribe_12012025.zip: MMDDYYYY
SYNONYM_TTYS = frozenset({"SY", "TMSY", "PSN"})
TTY_NAMES: dict[str, str] = {
    "IN": "Ingredient", "PIN": "Precise Ingredient", "MIN": "Multiple Ingredients", "BN": "Brand Name",
    "SCDC": "Semantic Clinical Drug Component", "SCDF": "Semantic Clinical Drug Form",
    "SCDFP": "Semantic Clinical Drug Form Precise", "SCDG": "Semantic Clinical Dose Form Group",
    "SCDGP": "Semantic Clinical Dose Form Group Precise", "SCD": "Semantic Clinical Drug",
    "SBDC": "Semantic Branded Drug Component", "SBDF": "Semantic Branded Drug Form",
    "SBDFP": "Semantic Branded Drug Form Precise", "SBDG": "Semantic Branded Dose Form Group",
    "SBD": "Semantic Branded Drug", "GPCK": "Generic Pack", "BPCK": "Branded Pack",
    "DF": "Dose Form", "DFG": "Dose Form Group", "ET": "Entry Term",
}
# When a concept has several non-synonym names, the most specific drug name is its title.
_ORDER = ("SCD", "SBD", "GPCK", "BPCK", "SCDC", "SBDC", "SCDF", "SBDF", "SCDFP", "SBDFP", "SCDG", "SBDG",
          "SCDGP", "SBDGP", "MIN", "PIN", "IN", "BN", "DF", "DFG", "ET")


def read(path: Path) -> Iterator[Record]:
    path = Path(path)
    if path.suffix.lower() == ".zip":
        for name, data in members(path, lambda m: m.upper().rsplit("/", 1)[-1] == "RXNCONSO.RRF",
                                  "no RXNCONSO.RRF in the zip: is this an RxNorm release?"):
            yield from _read_text(Path(f"{path}!{name}"), data.decode("utf-8", errors="replace"), _release(path.name))
        return
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise SourceError(path, f"cannot read: {e.strerror}") from None
    yield from _read_text(path, text, _release(path.name))


def _release(name: str) -> str:
    m = _DATED.search(name)
    kind = "prescribable content" if "prescribe" in name.lower() else "RXNCONSO"
    return f"RxNorm {kind} {m.group(3)}-{m.group(1)}-{m.group(2)}" if m else f"RxNorm {kind}"


def _read_text(path: Path, text: str, release: str) -> Iterator[Record]:
    names: dict[str, dict[str, list[str]]] = {}  # rxcui -> tty -> names
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        f = line.split("|")
        if len(f) != FIELDS + 1 or f[-1] != "":
            raise SourceError(path, f"{len(f) - 1} pipe-terminated fields, RXNCONSO.RRF has {FIELDS}", no)
        rxcui, sab, tty, string, suppress = f[0], f[11], f[12], f[14], f[16]
        if not rxcui.isdigit() or not tty or not string:
            raise SourceError(path, f"not an RXNCONSO row (RXCUI, TTY, STR): {line[:60]!r}", no)
        if sab != "RXNORM" or suppress in ("O", "Y", "E"):
            continue
        names.setdefault(rxcui, {}).setdefault(tty, []).append(string)
    if not names:
        raise SourceError(path, "no unsuppressed SAB=RXNORM rows: is this RXNCONSO.RRF of an RxNorm release?")
    yield Release(SYSTEM, release)
    used: set[str] = set()
    for rxcui, by_tty in names.items():
        main = next((t for t in _ORDER if t in by_tty), None) or next(
            (t for t in by_tty if t not in SYNONYM_TTYS), None)
        if main is None:
            continue  # only synonyms left after suppression: no name of its own
        title = by_tty[main][0]
        synonyms = tuple(dict.fromkeys(s for t, ss in by_tty.items() for s in ss if s != title))
        attributes = {"tty": main, "tty_label": TTY_NAMES.get(main, main)}
        if "PSN" in by_tty:
            attributes["prescribable_name"] = by_tty["PSN"][0]
        used.add(main)
        yield Code(SYSTEM, rxcui, title, billable=None, parent=main, synonyms=synonyms, attributes=attributes)
    for tty in sorted(used, key=lambda t: _ORDER.index(t) if t in _ORDER else len(_ORDER)):
        yield Code(SYSTEM, tty, f"{tty}: {TTY_NAMES.get(tty, tty)}", kind="section", billable=False)
