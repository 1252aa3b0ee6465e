"""Clinician shorthand: notes and problem lists as written ("s/p CABG x3", "hx of DVT on eliquis",
"UTI 2/2 klebsiella", "DVT LLE", "CKD 3b") read as the words the code sets use.

`read(text)` rewrites the query text before it is parsed and says what the text asks for beyond
words: the status or history of a condition ("s/p CABG" is the status code Z95.1, not the bypass
procedure again), the long-term use of a drug ("on eliquis": Z79.01), and the two conditions of
"X due to Y" / "X with Y", which the searcher looks up one by one when no code says both.

Status, history and long-term-use codes come from status.tsv, each row checked against the
official titles on the full index (tests/search/test_shorthand.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources

from . import lexicon, pregnancy, wordparts
from .query import words

# Whole-token rewrites, matched case-insensitively between non-word characters. Order matters:
# "w/o" before "w/". A slash inside a token would otherwise split it into letters that mean nothing.
_REWRITES: tuple[tuple[str, str], ...] = (
    # "fx L hip s/p fall": what happened to the patient now, the cause of what is coded, not a status
    (r"(?:s/p|s\\p|status[- ]post)(?=\s+(?:fall|falls|fell|mvc|mva|mvcs|accident|assault|trauma|gsw|syncope)\b)",
     " "),
    (r"s/p|s\\p|status[- ]post", " status post "),
    (r"fhx?\.? of|fhx|fh|family hx\.? of|family hx|fam hx|family history of", " family history of "),
    (r"h/o|h\\o|hx\.? of|hx|pmhx? of|pmhx?|history of|hist of", " history of "),
    (r"2/2|2/t|d/t|secondary to|sec to|2nd to|due 2", " due to "),
    (r"1°|1ry", " primary "),  # "1° hyperPTH": primary hyperparathyroidism
    (r"2°|2ry", " secondary "),
    (r"3°", " tertiary "),
    (r"i&d|i & d|i/d|i ?\+ ?d|i and d", " incision and drainage "),
    (r"t&a|t & a|t and a", " tonsillectomy and adenoidectomy "),
    (r"d&c|d & c", " dilation and curettage "),
    (r"d/o", " disorder "),  # "cannabis use d/o"
    (r"w/o|w/out", " without "),
    (r"c/b", " with "),  # "DM2 c/b gastroparesis": the titles' "with diabetic gastroparesis"
    (r"pod ?#? ?\d{1,2}|post ?op day ?\d{1,2}|postoperative day ?\d{1,2}", " postprocedural "),  # "fever POD 2"
    (r"[rl] ?[>=] ?[rl]", " bilateral "),  # "radiculopathy R>L": both sides, one worse
    # "reflux, no esophagitis": the titles' "without esophagitis" (not "bruises for no reason")
    (r"(?<=\S\s)(?<!for\s)(?:with )?no(?=\s+(?!reason|apparent|obvious|known|cause|longer|more|one\b)[a-z])",
     " without "),  # "with no loss of consciousness": without
    (r"w/", " with "),
    (r"w(?=\s+\w)", " with "),  # "ercp w stent", typed without the slash
    (r"r/o|rule out|ruled out|eval for", " "),
    (r"c/o|complains of|complaining of", " "),
    (r"b/l|bil|bilat|bilaterally", " bilateral "),
    (r"lle", " left lower limb "),
    (r"rle", " right lower limb "),
    (r"lue", " left upper limb "),
    (r"rue", " right upper limb "),
    (r"llq", " left lower quadrant "),
    (r"rlq", " right lower quadrant "),
    (r"luq", " left upper quadrant "),
    (r"ruq", " right upper quadrant "),
    (r"l[- ]?spine", " lumbar spine "),  # "L-spine stenosis": the lumbar spine, not a left one
    (r"ls[- ]?spine", " lumbosacral spine "),
    (r"lt|l", " left "),
    (r"rt|r", " right "),
    (r"x ?\d+|\d+x", " "),  # "CABG x3", "3x": a count, not a code or a level
    (r"(?:on )?(?:the )?(?:left|lt) side(?! of)", " left "),  # "kidney stone on left side": the side, not the titles'
    (r"(?:on )?(?:the )?(?:right|rt) side(?! of)", " right "),  # "epiphora, right side"
    (r"yo|y/o|yr old|year old", " "),
    # "keeps falling" is the titles' repeated falls ("keeps" alone says nothing: a stop word)
    (r"keeps? (?:on )?falling(?: down| over)?", " repeated falls "),
)
# Each rewrite is a whole token: not inside a word, and ("w/o" aside) not followed by one; "w/" may be
# written against its word ("w/stent").
_PATTERN = re.compile("|".join(
    f"(?P<r{i}>(?<![\\w/])(?:{p})" + ("" if p.endswith("/") else "(?![\\w/])") + ")"
    for i, (p, _) in enumerate(_REWRITES)), re.IGNORECASE)
# Ophthalmology writes the eye's side in Latin: oculus dexter (OD), sinister (OS), uterque (OU). Read
# so only beside an eye's condition: elsewhere "OD" is an overdose and "os" a bone or an opening.
_EYE = re.compile(r"\b(?:eyes?|amd|armd|macular|glaucoma|poag|pacg|ntg|cataracts?|retinal?|retinopathy|npdr|pdr|dme|cme"
                  r"|vitreous|pvd|uveitis|iritis|keratitis|conjunctivitis|chalazion|hordeolum|stye|pterygium"
                  r"|blepharitis|ptosis|corneal?|cornea|vision|visual|ocular|optic|amblyopia|strabismus|esotropia"
                  r"|exotropia|myopia|hyperopia|astigmatism|presbyopia|iop|crvo|brvo|crao|brao|floaters"
                  # and the eye's operations and injections ("DMEK OS", "phaco/IOL OD", "LPI OU")
                  r"|phaco|phacoemulsification|iol|dmek|dsaek|dalk|pkp|cxl|lasik|prk|trab|trabeculectomy"
                  r"|vitrectomy|ppv|yag|slt|lpi|prp|intravitreal|istent|lens|retina|sclera|scleral"
                  # and more of the eye's conditions as notes write them ("VH OD", "NAION OS", "ERM OU")
                  r"|vh|naion|aion|erm|epiretinal|keratoconus|hyphema|scleritis|episcleritis|ectropion|entropion"
                  r"|trichiasis|dacryocystitis|papilledema|drusen|rvo|cnvm|cnv|macula|maculopathy)\b",
                  re.IGNORECASE)
_EYE_SIDE = re.compile(r"(?<![\w/])(od|os|ou)(?![\w/])", re.IGNORECASE)
_EYE_SIDES = {"od": " right eye ", "os": " left eye ", "ou": " bilateral "}
# Stages and grades: "stg 3b" -> "stage 3b", "CKD 3b" -> "chronic kidney disease stage 3b".
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6"}
_SCALE = re.compile(r"\b(stage|grade|type|class|degree|gr|stg)\s*([ivx]{1,3}|\d)([ab])?\b", re.IGNORECASE)
_CKD = re.compile(r"\bckd\s*(?:stage\s*)?([1-5]|[ivx]{1,3})([ab])?\b(?!/)", re.IGNORECASE)  # not "CKD 2/2 HTN"
# Spine levels: "L4-5", "L5-S1", "C5-C6", "T12-L1", "C2": the region the titles name ("lumbar",
# "lumbosacral", "cervical"), the level where a title names it ("at C5-C6 level"), and for one
# vertebra its ordinal where the text is about the bone ("fracture of fourth lumbar vertebra").
# Only vertebrae that exist (C1-C7, T1-T12, L1-L5, S1-S5); a thoracic level alone stays as typed
# ("T2" is a tumour stage more often, and the titles write "T11-T12 vertebra"), and codes ("C50",
# "L89") have two digits after the letter.
_SPINE = re.compile(r"(?<![\w/.])([ctls])([1-9]|1[0-2])"
                    r"(?:\s*(?:-|\u2013|\s(?:thru|through|to)\s)\s*([ctls])?([1-9]|1[0-2]))?"
                    r"(?![\w/.-])"
                    r"(?!\s+level)", re.IGNORECASE)  # "C5 level", "T7-T12 level": the titles' own words
# two levels written with a space ("L5 S1 fusion") are a span, as "L5-S1" is (not "S1 S2": heart sounds)
_SPACED_SPAN = re.compile(r"(?<![\w/.])([ctl])([1-9]|1[0-2])\s+([ctls])([1-9]|1[0-2])(?![\w/.-])", re.IGNORECASE)
_LEVELS = {"c": 7, "t": 12, "l": 5, "s": 5}
_REGION = {("c", "c"): "cervical", ("c", "t"): "cervicothoracic", ("t", "t"): "thoracic",
           ("t", "l"): "thoracolumbar", ("l", "l"): "lumbar", ("l", "s"): "lumbosacral", ("s", "s"): "sacral"}
# Operations coded by the joints between the vertebrae they span ("L4-5 TLIF": a lumbar vertebral joint)
_FUSION = re.compile(r"\b(fusion|fused|fuse|acdf|acf|tlif|plif|alif|xlif|olif|llif|arthrodesis|pcdf|pcf)\b",
                     re.IGNORECASE)
_VERTEBRA = re.compile(r"\b(fx|fracture|fractured|vertebra|vertebral|burst|compression)\b", re.IGNORECASE)
# an operation on a vertebra: "kyphoplasty T12" is the thoracic vertebra (ICD-10-PCS names no level), where a
# fracture's "T12" stays as the ICD-10-CM titles write it ("fracture of T11-T12 vertebra")
_ON_VERTEBRA = re.compile(r"\b(kyphoplasty|kypho|vertebroplasty|corpectomy|laminectomy|lami|laminotomy|discectomy"
                          r"|foraminotomy)\b", re.IGNORECASE)
_ORDINAL = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth")
# "X due to Y", "X with Y", "X and Y", "X secondary to Y": two conditions, coded together or one by one
# (not the "and" of an operation's name spelled out above: "incision and drainage")
_JOIN = re.compile(r"(?<!incision)(?<!tonsillectomy)(?<!dilation)\s(?:due to|with|and|caused by)\s", re.IGNORECASE)
_CAUSE = re.compile(r"\s(?:due to|caused by)\s", re.IGNORECASE)
_STATUS = re.compile(r"(?<!family )\b(status post|history of)\s+(.+?)"
                     r"(?=\s(?:on|with|and|due to|status post|history of)\s|$)", re.IGNORECASE)
_ON = re.compile(r"\bon\s+(?:chronic\s+|long term\s+)?(.+?)(?=\s(?:with|and|due to|for)\s|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Status:
    """A code the text names by its status: (system, code, why)."""

    system: str
    code: str
    why: str
    side: str = ""  # "left", "right" or "bilateral" when the text says it: the sided code under `code`
    kind: str = ""  # status, history or drug (status.tsv's kinds); pregnancy (results.py, pregnancy.tsv)


@dataclass
class Reading:
    text: str  # the query with shorthand spelled out
    changed: bool = False
    status: list[Status] = field(default_factory=list)
    parts: tuple[str, ...] = ()  # the conditions of "X due to Y", when the text names two
    cause: bool = False  # the second condition is the cause of the first ("due to", "caused by")


# "MV >96 hrs", "vent <24 hours": the titles' "Greater than 96 Consecutive Hours" ("GBS+" is _POSITIVE's)
_MORE_OR_LESS = re.compile(r"([<>])\s?(?=\d)")


def read(text: str) -> Reading:
    """The query with shorthand spelled out, and what it asks for beyond words."""
    if not text or not any(ch.isalpha() for ch in text):
        return Reading(text)
    out = _CKD.sub(lambda m: f"chronic kidney disease stage {_arabic(m.group(1))}{(m.group(2) or '').lower()}", text)
    out = _SCALE.sub(_scale, out)
    out = _SPACED_SPAN.sub(r"\1\2-\3\4", out)
    out = _SPINE.sub(functools.partial(_spine, vertebra=bool(_VERTEBRA.search(out)),
                                       operation=bool(_FUSION.search(out)),
                                       on_vertebra=bool(_ON_VERTEBRA.search(out))), out)
    if _EYE.search(out):  # "POAG OD", "wet AMD OS": the eye's side, where the text is about an eye
        out = _EYE_SIDE.sub(lambda m: _EYE_SIDES[m.group(1).lower()], out)
    out = pregnancy.read(out)
    out = _BYPASS_COUNT.sub(lambda m: f"{m.group(1)} {_arteries(m.group(2))}", out)
    out = _VESSEL_BYPASS.sub(lambda m: f"{m.group(2)} {_arteries(m.group(1))}", out)
    out = _PATTERN.sub(_rewrite, out)
    out = _MORE_OR_LESS.sub(lambda m: " greater than " if m.group(1) == ">" else " less than ", out)
    out = _POSITIVE.sub(" positive", out)
    out = _dated(out)
    out = _contrast(out)
    out = _after_stroke(out)
    out = _had(out)
    out = re.sub(r"\s+", " ", out).strip()
    if out.lower() == re.sub(r"\s+", " ", text).strip().lower():
        out = text  # nothing spelled out: keep the text as typed (a trailing space says "finished")
    elif text[-1:].isspace():
        out += " "
    reading = Reading(out, out != text)
    reading.status = _statuses(out)
    bmi = body_mass(out)
    if bmi is not None:
        reading.status.append(bmi)
    reading.parts = _parts(out)
    reading.cause = bool(reading.parts) and bool(_CAUSE.search(out))
    return reading


# A test result written with a plus ("GBS+", "HIV+ on ART", "ER+ breast ca"): the titles' "positive". Only
# right after letters, and not "i+d" (incision and drainage) or a "+" between words ("HTN + DM")
_POSITIVE = re.compile(r"(?<=[a-z])\+(?=[\s,;.)]|$)", re.IGNORECASE)


# A device said to be in place ("PPM in situ", "foley in place"); "melanoma in situ" is no status: only a
# status row's term before it counts
_IN_PLACE = re.compile(r"^\s*(.+?)\s+(?:in situ|in place|present)\s*$", re.IGNORECASE)
# The count of a coronary bypass is its arteries ("CABG x3", "3v CABG": Bypass Coronary Artery, Three
# Arteries), where elsewhere a count is no word of a title
_BYPASS_COUNT = re.compile(r"\b(cabg|bypass(?:es)?)\s*(?:x|times)\s*([1-9])\b", re.IGNORECASE)
_VESSEL_BYPASS = re.compile(r"\b([1-9])\s*-?\s*(?:v|vessel)\s+(cabg|bypass)\b", re.IGNORECASE)


def _arteries(count: str) -> str:
    return {"1": "one artery", "2": "two arteries", "3": "three arteries"}.get(count, "four or more arteries")


# A year beside what a problem list names: "R TKA 2019", "appendectomy (2010)", "MI in 2019"
_YEAR = re.compile(r"(?:\b(?:in|on|since)\s+)?(?<![\w/.-])\(?(?:19[5-9]\d|20[0-4]\d)\)?(?![\w/.-])", re.IGNORECASE)
_NOT_HAD = re.compile(r"\b(?:status post|history of|family history|covid|coronavirus|ncov|sars|influenza|flu)\b",
                      re.IGNORECASE)


def _dated(text: str) -> str:
    """A condition or operation with the year it happened is one the patient had: "R TKA 2019" asks
    for the status (Z96.651) as "s/p R TKA" does. Not a text that already says so, nor a disease
    named by its year ("COVID 2019")."""
    if len(_YEAR.findall(text)) != 1 or _NOT_HAD.search(text):
        return text
    rest = _YEAR.sub(" ", text).strip()
    return f"status post {rest}" if any(ch.isalpha() for ch in rest) else text


# What a problem list says was had, in its own words: "prior CABG", "remote DVT" (history of), "L BKA
# status" (status post), "breast ca in remission, done w/ tx" (a cancer treated: its history)
_BEFORE = re.compile(r"^\s*(?:prior|previous|remote|past)\s+(?=\w)", re.IGNORECASE)
_STATUS_LAST = re.compile(r"^(.+?)[\s,;:-]+status\s*$", re.IGNORECASE)
_CANCER = re.compile(r"\b(?:ca|cancer|carcinoma|malignancy|malignant|tumou?r|bcc|scc|adenocarcinoma|melanoma)\b",
                     re.IGNORECASE)
_BLOOD_CANCER = re.compile(r"\b(?:leukemia|leukaemia|lymphoma|myeloma|cll|aml|all|cml)\b", re.IGNORECASE)
_TREATED = re.compile(r"[\s,;]*\b(?:in remission|(?:done|completed|finished|complete)(?:\s+(?:with|w))?"
                      r"\s+(?:tx|treatment|therapy|chemo|chemotherapy|radiation|xrt)|ned|no evidence of disease)\b",
                      re.IGNORECASE)


# A deficit a stroke left ("h/o CVA w/ residual L hemiparesis", "R hemiparesis 2/2 old CVA"): a sequela of
# the cerebral infarction (I69.3-), neither the stroke again nor a history "without residual deficits"
_STROKE = re.compile(r"\b(?:cva|cvas|stroke|strokes|cerebral infarct|cerebral infarction|brain infarct)\b",
                     re.IGNORECASE)
_DEFICIT = re.compile(r"\b(?:hemiparesis|hemiplegia|hemiplegic|aphasia|dysphagia|dysarthria|facial droop"
                      r"|facial weakness|monoplegia|ataxia|cognitive deficits?|apraxia|weakness)\b", re.IGNORECASE)
_BEFORE_NOW = re.compile(r"\b(?:history of|status post|old|prior|remote|residual|post|following|after|due to"
                         r"|sequelae?|late effects?)\b", re.IGNORECASE)
_ONE_SIDE = re.compile(r"\b(?:one[ -]sided weakness|weakness (?:on|of) one side|weak on one side|one side weak)\b",
                       re.IGNORECASE)
_SIDE_WORD = re.compile(r"\b(?:left|right|bilateral)\b", re.IGNORECASE)


# Contrast as imaging orders say it, beside a scan: "with and without contrast" is the titles' "using ...
# Contrast, Unenhanced and Enhanced"; "no dye" the code that names no contrast; "with dye" one that does.
# Elsewhere "dye" stays ("allergic to iodine dye").
_SCAN = re.compile(r"\b(?:ct|cat|cta|mri|mra|mrcp|scan|x ray|xray|angiogram|angiography|arteriogram|venogram"
                   r"|fluoroscopy|fluoro|pyelogram|myelogram|cholangiogram|imaging|study)\b", re.IGNORECASE)
_BOTH_CONTRAST = re.compile(r"\b(?:with|w)\s*(?:and|&|/)?\s*(?:without|wo|w/o)\s+(?:iv\s+)?(?:contrast|dye)\b",
                            re.IGNORECASE)
_NO_CONTRAST = re.compile(r"\b(?:(?:without|no|non|wo)\s*-?\s*(?:iv\s+)?(?:contrast|dye)|noncontrast|noncon)\b",
                          re.IGNORECASE)
_WITH_CONTRAST = re.compile(r"\b(?:(?:with|w)\s+(?:iv\s+)?(?:contrast|dye)|dye)\b", re.IGNORECASE)


def _contrast(text: str) -> str:
    if not _SCAN.search(text):
        return text
    text = _BOTH_CONTRAST.sub(" using contrast unenhanced and enhanced ", text)
    text = _NO_CONTRAST.sub(" ", text)
    return _WITH_CONTRAST.sub(" using contrast ", text) if "unenhanced" not in text.lower() else text


def _after_stroke(text: str) -> str:
    if not (_STROKE.search(text) and _BEFORE_NOW.search(text)):
        return text
    text = _ONE_SIDE.sub(" hemiparesis ", text)
    # weakness after a stroke is the weakness of a side, unless the face's
    deficits = list(dict.fromkeys("hemiparesis" if m.group(0).lower() == "weakness" else m.group(0).lower()
                                  for m in _DEFICIT.finditer(text)))
    if not deficits:
        return text
    sides = list(dict.fromkeys(m.group(0).lower() for m in _SIDE_WORD.finditer(text)))
    return " ".join([*deficits, "following cerebral infarction", *sides])


def _had(text: str) -> str:
    """The words that say a condition or operation was had, read as "history of" / "status post", where
    the status or history that reading names is one the tables know (a "prior auth" stays as typed)."""
    if _NOT_HAD.search(text):
        return text
    said = ""
    if _BEFORE.search(text):
        said = "history of " + _BEFORE.sub("", text)
    elif (last := _STATUS_LAST.match(text)) is not None:
        said = f"status post {last.group(1)}"
    elif _CANCER.search(text) and _TREATED.search(text) and not _BLOOD_CANCER.search(text):
        return "history of " + _TREATED.sub(" ", text)  # solid cancers' remission has no code of its own
    if said and (_statuses(said) or status_search(said)):
        return said
    return text


def _arabic(value: str) -> str:
    return _ROMAN.get(value.lower(), value)


def _scale(m: re.Match[str]) -> str:
    """"stg 3b" -> "stage 3b"; a roman numeral stays (the lexicon reads "ii" as 2 or ii: ICD-9-CM
    titles write "type II", ICD-10-CM "type 2")."""
    word = {"gr": "grade", "stg": "stage"}.get(m.group(1).lower(), m.group(1).lower())
    return f"{word} {m.group(2).lower()}{(m.group(3) or '').lower()}"


def _joints(region: str, joints: int) -> str:
    """The ICD-10-PCS body part of a fusion over `joints` joints of one region of the spine."""
    if joints == 1:
        return f"{region} vertebral joint"
    if region == "thoracic":
        return "2 to 7 thoracic vertebral joints" if joints <= 7 else "8 or more thoracic vertebral joints"
    return f"2 or more {region} vertebral joints"


def _spine(m: re.Match[str], vertebra: bool, operation: bool = False, on_vertebra: bool = False) -> str:
    first, low = m.group(1).lower(), int(m.group(2))
    second = (m.group(3) or first).lower()
    high = int(m.group(4)) if m.group(4) else None
    region = _REGION.get((first, second))
    if region is None or low > _LEVELS[first] or (high is not None and high > _LEVELS[second]):
        return m.group(0)
    if operation and first == second and first in "ctl" and high is not None and high > low:
        return f" {_joints(region, high - low)} "  # "ACDF C5-6": Fusion of Cervical Vertebral Joint
    if operation and (first, second) in (("l", "s"), ("c", "t"), ("t", "l")):
        return f" {region} joint " if first == "l" else f" {region} vertebral joint "
    if high is None:
        if first == "t" and not on_vertebra:  # tumour stages ("T2"), and the titles' own "fracture of
            return m.group(0)  # T11-T12 vertebra"
        if first == "t":
            return f" {region} vertebra "
        return f" {_ORDINAL[low]} {region} " if vertebra else f" {region} "
    if first == second == "c":
        return f" {region} c{low} c{high} "  # the cervical disc codes name the level ("at C5-C6 level")
    return f" {region} "


def _rewrite(m: re.Match[str]) -> str:
    name = m.lastgroup or ""
    return _REWRITES[int(name[1:])][1]


def _statuses(text: str) -> list[Status]:
    out: list[Status] = []
    table = _table()
    for m in _STATUS.finditer(text):
        kind = "status" if m.group(1).lower() == "status post" else "history"
        found = _lookup(table, kind, m.group(2))
        if found is None:  # "s/p MI": a condition had, its history code; "hx CABG": an operation had, its status
            found = _lookup(table, "history" if kind == "status" else "status", m.group(2))
        if found is not None:
            out.append(found)
    placed = _IN_PLACE.search(text)
    if placed is not None and not out:  # "PPM in situ", "pacer in place": a device the patient has
        found = _lookup(table, "status", placed.group(1))
        if found is not None:
            out.append(found)
    for m in _ON.finditer(text):
        found = _lookup(table, "drug", m.group(1))
        if found is not None:
            out.append(found)
    return list(dict.fromkeys(out))


STATUS_WORDS = 8  # words of what was done worth reading
STATUS_CHARS = 200
# "hx of appendectomy" says the operation was had, as "s/p appendectomy" does
_AFTER = re.compile(r"\b(?:status post|history of)\s+(.+?)(?=\s(?:on|with|and|due to)\s|\s*[,;]|$)", re.IGNORECASE)
_AMPUTATED = frozenset({"amp", "amps", "amputation", "amputations", "amputated", "amputee", "ray"})
_TRANSPLANTED = frozenset({"transplant", "transplants", "transplanted", "transplantation", "tx", "txp"})
_CANCERS = frozenset({"ca", "cancer", "cancers", "carcinoma", "malignancy", "malignant", "tumor", "tumour",
                      "neoplasm", "adenocarcinoma", "bcc", "scc", "dcis", "melanoma", "lymphoma", "sarcoma"})
_CANCER_SITES = {"bcc": "skin", "scc": "skin"}  # the skin's cancers, as notes name them
_REPLACED = frozenset({"replacement", "replacements", "replaced", "arthroplasty", "arthroplasties"})


def what_was_had(text: str) -> str | None:
    """What "history of X" / "status post X" names, as typed ("history of kidney cancer": "kidney cancer")."""
    m = _AFTER.search(text)
    return m.group(1)[:STATUS_CHARS] if m else None


def status_search(text: str) -> tuple[str, tuple[str, ...]] | None:
    """What "status post X" asks for when status.tsv has no row for X: the ICD-10-CM status category of
    that kind of operation and the words its title says it with. An amputation is an acquired absence
    (Z89: "s/p R great toe amp" -> "acquired absence right great toe"), an "-ectomy" the absence of the
    organ it names (Z90: "lobectomy" -> lung), a transplant a transplant status (Z94), a joint
    replacement an artificial joint (Z96.6), an "-ostomy" an artificial opening status (Z93)."""
    m = _AFTER.search(text)
    if m is None:
        return None
    ws = tuple(w for w in words(m.group(1)[:STATUS_CHARS]) if w not in lexicon.STOPWORDS)[:STATUS_WORDS]
    rest = tuple(w for w in ws if w not in _AMPUTATED | _TRANSPLANTED | _REPLACED and not any(c.isdigit() for c in w))
    if m.group(0).lower().startswith("history") and set(ws) & _CANCERS:  # "h/o BCC": Z85, by the cancer's site
        sites = tuple(dict.fromkeys(_CANCER_SITES.get(w, w) for w in ws
                                    if w not in _CANCERS - set(_CANCER_SITES) and w not in lexicon.SIDES))
        return ("Z85", ("malignant", "neoplasm", *sites)) if sites else None
    if set(ws) & _AMPUTATED and rest:
        return "Z89", ("acquired", "absence", *rest)
    if set(ws) & _TRANSPLANTED and rest:
        return "Z94", (*rest, "transplant", "status")
    if set(ws) & _REPLACED and rest:
        return "Z96.6", ("artificial", *rest)
    for w in ws:
        if w.endswith("ostomy") and len(w) > 8:
            return "Z93", (w, "status")
        if w.endswith("ectomy") and len(w) > 8:
            organs = [r for r in wordparts.meanings(w) if r and r[0] in ("resection", "excision")]
            if organs:
                others = tuple(x for x in ws if x != w)
                return "Z90", ("acquired", "absence", *organs[0][1:], *others)
    return None


def body_mass(text: str) -> Status | None:
    """"BMI 42", "bmi of 42.5": the adult body mass index code of that value (Z68.1-Z68.45, by the
    ranges the official titles give)."""
    m = _BMI.search(text)
    if m is None:
        return None
    value = float(m.group(1))
    if not 10 <= value < 150:
        return None
    if value < 20:
        code = "Z68.1"
    elif value < 40:
        code = f"Z68.{int(value)}"
    else:
        code = "Z68.4" + str(next(i for i, top in enumerate((45, 50, 60, 70, 999), 1) if value < top))
    return Status("icd10cm", code, f"BMI {m.group(1)}: body mass index, adult")


_BMI = re.compile(r"\bbmi\s*(?:of|=|:|is)?\s*(\d{2,3}(?:\.\d)?)\b", re.IGNORECASE)


def drug_alone(text: str) -> tuple[Status, tuple[str, ...]] | None:
    """A query that is only a drug's name ("eliquis", "xarelto", "taking ozempic"): the long-term
    use code status.tsv gives that drug, and the name's words."""
    ws = tuple(w for w in words(text) if w not in lexicon.STOPWORDS and w not in _TAKING)
    found = _table().get(("drug", lexicon.key(ws))) if 0 < len(ws) <= 3 else None
    return (found, ws) if found is not None else None


_TAKING = frozenset({"taking", "takes", "use", "uses", "using", "current", "long", "term", "chronic"})


def _lookup(table: dict[tuple[str, tuple[str, ...]], Status], kind: str, phrase: str,
            qualified: bool = False) -> Status | None:
    """The row whose term is the longest start of `phrase` ("DVT LLE" -> dvt), or a lexicon term's
    meaning. A side before the term ("left THA", "right BKA") that no row names with it is kept
    with the row, for its sided code."""
    ws = [w for w in words(phrase) if w not in lexicon.STOPWORDS]
    for n in range(min(len(ws), 5), 0, -1):
        found = table.get((kind, lexicon.key(tuple(ws[:n]))))
        if found is not None:
            # a side after the term ("s/p TKR rt knee": the notes' "rt" is read as "right" by then)
            if n < len(ws) and ws[n] in lexicon.SIDES and not found.side and kind == "status":
                return Status(found.system, found.code, found.why, ws[n], found.kind)
            return found
    if len(ws) > 1 and ws[0] in lexicon.SIDES:
        limb = 3 if ws[1:3] in (["lower", "limb"], ["upper", "limb"]) else 1  # "LLE DVT": a left leg's DVT
        found = _lookup(table, kind, " ".join(ws[limb:]))
        if found is not None and not found.side:
            return Status(found.system, found.code, found.why, ws[0], found.kind)
        return found
    if len(ws) > 1 and not qualified:  # one word qualifying the term: "s/p mechanical AVR", "h/o recurrent UTI"
        return _lookup(table, kind, " ".join(ws[1:]), qualified=True)
    return None




def _parts(text: str) -> tuple[str, ...]:
    """The conditions joined by "due to" / "with" / "and": each with a word that is not a stop word."""
    found = tuple(p.strip() for p in _JOIN.split(text) if p.strip())
    kept = tuple(p for p in found if any(w not in lexicon.STOPWORDS for w in words(p)))
    return kept if len(kept) >= 2 else ()


@functools.cache
def _table() -> dict[tuple[str, tuple[str, ...]], Status]:
    """status.tsv: kind, term, system:code, why (the code's official title)."""
    out: dict[tuple[str, tuple[str, ...]], Status] = {}
    text = resources.files(__package__).joinpath("status.tsv").read_text(encoding="utf-8")
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4 or cols[0] not in ("status", "history", "drug"):
            raise ValueError(f"status.tsv:{n}: want kind, terms, system:code, title; got {line!r}")
        system, _, code = cols[2].partition(":")
        for term in cols[1].split("|"):
            out[(cols[0], lexicon.key(tuple(words(term))))] = Status(system, code, f"{cols[0]}: {cols[3]}",
                                                                     kind=cols[0])
    return out


@functools.cache
def titled() -> dict[tuple[str, str, str, str], str]:
    """(kind, terms, system, code) -> the official title status.tsv gives, for the tests that check them."""
    text = resources.files(__package__).joinpath("status.tsv").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            kind, terms, target, title = line.split("\t")
            system, _, code = target.partition(":")
            out[(kind, terms, system, code)] = title
    return out


def rows() -> list[tuple[str, str, str, str]]:
    """(kind, term, system, code) of every status.tsv row, for the tests that check them."""
    return sorted({(k, " ".join(t), s.system, s.code) for (k, t), s in _table().items()})
