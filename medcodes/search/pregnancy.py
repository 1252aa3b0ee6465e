"""A pregnancy as notes say it: its weeks ("IUP at 32w"), the trimester they make, and the mother's age
("AMA G1", "pregnant at 38 years old"), read as the words the obstetric titles use (shorthand.py runs
this before its other rewrites)."""

from __future__ import annotations

import re

from .query import words

# Weeks of a pregnancy as notes write them: "IUP at 32w", "32w3d", "32wk"
_WEEKS = re.compile(r"(?<![\w/.])([1-4]?\d)\s?(?:w|wk|wks)(?:\s?\d\s?d)?(?![\w/])", re.IGNORECASE)


def read(text: str) -> str:
    """`text` with a pregnancy's weeks spelled out, the trimester they make beside a condition, and the
    mother's age as the titles' elderly or young primigravida or multigravida."""
    text = _mothers_age(text)
    pregnant = bool(_WEEKS.search(text) or _PREGNANT.search(text) or _OBSTETRIC.search(text))
    text = _WEEKS.sub(lambda m: f" {m.group(1)} weeks ", text)
    # "pre-e at 34w", "IUP at 20 weeks"; not "6 week post op visit"
    return _trimester(text) if pregnant else text


# The weeks of a pregnancy say its trimester, which the obstetric titles name ("pre-e at 34w": O14.93, third
# trimester): under 14 weeks the first, 14 to 27 the second, 28 on the third (the ICD-10-CM definitions)
_GESTATION = re.compile(r"\b([1-4]?\d)\s+weeks?\b(?!\s+(?:ago|postpartum|post partum|after|old))", re.IGNORECASE)
# a pregnancy that ended, whose codes name no trimester
_NO_TRIMESTER = re.compile(r"\b(?:lost|loss|losing|miscarr\w*|abortion|sab|iufd|stillbirth|stillborn|ectopic|molar"
                           r"|delivered|delivery|postpartum|born|post op|postop|post-op|surgery|operation)\b",
                           re.IGNORECASE)
_HAS_TRIMESTER = re.compile(r"\btrimester\b|\b(?:1st|2nd|3rd|first|second|third)\s+tri\b", re.IGNORECASE)


_PREGNANCY_ONLY = frozenset({"iup", "intrauterine", "pregnancy", "pregnant", "gestation", "gestational", "age", "at",
                             "of", "wk", "wks", "weeks", "d", "days", "currently", "now", "ga", "ega", "lmp",
                             "primigravida", "multigravida", "g1", "g2", "g3", "g4", "g5", "g1p0", "g2p1", "g2p0",
                             "g3p2", "g3p1", "g4p3", "viable", "single", "singleton", "live"})


def _trimester(text: str) -> str:
    m = _GESTATION.search(text)
    if m is None or _HAS_TRIMESTER.search(text) or _NO_TRIMESTER.search(text) or len(_GESTATION.findall(text)) != 1:
        return text
    weeks = int(m.group(1))
    said = {w for w in words(_GESTATION.sub(" ", text)) if not w.isdigit()} - _PREGNANCY_ONLY
    if not 4 <= weeks <= 42 or not said:  # "IUP at 32 wks" is its weeks (Z3A.32), no condition's trimester
        return text
    nth = "first" if weeks < 14 else "second" if weeks < 28 else "third"
    return f"{text} {nth} trimester"


# A mother's age beside her pregnancy: 35 or more at delivery is "elderly" in the obstetric titles (O09.5-),
# under 16 "young" (O09.6-); "pregnant at 38 years old" is no 38 weeks
_AGE = re.compile(r"\b(?:age\s+)?([1-5]\d)\s*(?:yo|y/o|yr old|yrs old|years old|year old|years of age|yrs)\b"
                  r"|\bage\s+([1-5]\d)\b", re.IGNORECASE)
_PREGNANT = re.compile(r"\b(?:pregnant|pregnancy|gravida|iup|g[1-9]|g[1-9]p[0-9]+|primigravida|multigravida)\b",
                       re.IGNORECASE)


_GRAVIDA = re.compile(r"\bg([1-9])(?:\s*p\d+)?\b", re.IGNORECASE)
_OBSTETRIC = re.compile(r"\b(?:pre-?e|preeclampsia|pre-eclampsia|eclampsia|gdm|gestational|g?htn of pregnancy|prom"
                        r"|pprom|placenta|previa|fetal|fetus|labor|labour|contractions|preterm|hyperemesis|ob|antepartum"
                        r"|prenatal|trimester)\b", re.IGNORECASE)
_AMA = re.compile(r"\b(?:ama|advanced maternal age)\b", re.IGNORECASE)  # beside a pregnancy; else "left AMA"


def _mothers_age(text: str) -> str:
    if not _PREGNANT.search(text) and not _WEEKS.search(text):
        return text
    m = _AGE.search(text)
    age = int(m.group(1) or m.group(2)) if m is not None else 0
    said = "elderly" if _AMA.search(text) or age >= 35 else "young" if 0 < age < 16 else ""
    if not said:
        return _AGE.sub(" ", text)
    # the pregnancies she has had say which: "G1" a primigravida, "G2P1" a multigravida
    gravida = _GRAVIDA.search(text)
    which = "primigravida multigravida" if gravida is None else \
        "primigravida" if gravida.group(1) == "1" else "multigravida"
    text = _GRAVIDA.sub(" ", _AMA.sub(" ", _AGE.sub(" ", text)))
    return f"{said} {which} {text}"
