"""What a plain-words procedure query says is done, where the words alone do not name it.

ICD-10-PCS calls taking solid matter out of a body part (a clot, a stone, a foreign body) Extirpation,
a word nobody types: "sucking the clot out of the lung arteries", "getting a bead out of her ear",
"stones taken out of the bile duct", "a peanut stuck in his windpipe removed". When a query names such
matter and says it comes out, the matter word is also searched as "extirpation matter", so Extirpation
of Matter from the body part the query names can match every word that counts. Only where ICD-10-PCS
is searched: "blood clot in the leg" says nothing is taken out and stays a diagnosis.

A broken or dislocated bone in a procedure query is put back in place (Reposition): `broken_set`; a
device the lexicon names by its insertion is, when the query takes it out, its Removal: `device_removed`.
"""

from __future__ import annotations

import dataclasses

from .lexicon import Group

MATTER = frozenset(
    "clot clots thrombus thrombi embolus emboli blockage stone stones calculus calculi gallstone gallstones"
    " foreign object objects bead beads metal splinter splinters glass bullet bullets pebble debris stuck lodged"
    " impacted fb fbs hematoma hematomas hemorrhage".split())
OUT = frozenset(
    "out removal remove removed removing pulling pull pulled sucking suck sucked suction extraction extract"
    " extracted retrieval retrieve retrieved clearing clear cleared taking take taken took dig digging"
    " fishing fished evac evacuation evacuated evacuate washout".split())
EXTIRPATION = ("extirpation", "matter")


def matter_removed(groups: list[Group]) -> list[Group]:
    """The groups of a query, a matter word (or a term meaning matter somewhere: "SDH", subdural
    hemorrhage) also read as Extirpation when the query says it comes out."""
    said = {w for g in groups for w in g.words}
    meant = {w for g in groups for alt in g.alternatives for w in alt}
    if not said & OUT or not meant & MATTER:
        return groups
    out = []
    for g in groups:
        if len(g.words) == 1 and g.words[0] in MATTER and EXTIRPATION not in g.alternatives:
            g = Group((*g.alternatives, EXTIRPATION), g.words, g.entry)
        elif not set(g.words) & OUT:  # a term naming it where it is ("SDH": subdural hemorrhage)
            where = [(*EXTIRPATION, *(w for w in alt if w not in MATTER)) for alt in g.alternatives
                     if len(alt) > 1 and set(alt) & MATTER and not set(alt) & OUT]
            g = Group(tuple(dict.fromkeys((*g.alternatives, *where))), g.words, g.entry)
        out.append(g)
    return out


STONES = frozenset("stone stones calculus calculi gallstone gallstones".split())
BREAK_UP = frozenset(
    "laser lasered lasering lasers break breaking broken broke blast blasting blasted crush crushing crushed"
    " shatter shattering shattered zap zapping zapped shock lithotripsy lithotripter pulverize pulverized"
    " pulverizing fragment fragmented fragmenting".split())
FRAGMENTATION = ("fragmentation",)


def stone_broken_up(groups: list[Group]) -> list[Group]:
    """A stone lasered, blasted or crushed is its Fragmentation ("laser for stone in ureter":
    Fragmentation in Ureter), where it stays in the body part: the stone and the breaking both say it."""
    said = {w for g in groups for w in g.words}
    if not said & STONES or not said & BREAK_UP:
        return groups
    return [Group((*g.alternatives, FRAGMENTATION), g.words, g.entry)
            if set(g.words) & (STONES | BREAK_UP) and FRAGMENTATION not in g.alternatives else g for g in groups]


BROKEN = frozenset("fracture fractures fractured fx broken broke dislocated dislocation dislocations".split())
REPOSITION = ("reposition",)
# A broken hip is the top of the thigh bone (Reposition Upper Femur), not the hip joint, which is
# what a dislocated hip puts back; a broken wrist is mostly the end of the radius
FRACTURED_PLACES = {"hip": ("upper", "femur"), "hips": ("upper", "femur"), "wrist": ("radius",), "wrists": ("radius",)}
DISLOCATED = frozenset("dislocated dislocation dislocations".split())


def broken_set(groups: list[Group]) -> list[Group]:
    """In a procedure query, a broken or dislocated bone is put back in place: ICD-10-PCS Reposition
    ("fixing a broken eye socket": Reposition Orbit; "resetting a dislocated jaw": Reposition
    Temporomandibular Joint). PCS titles never say "fracture". Where another word names another
    operation ("kyphoplasty L1 compression fx": Supplement), the break is why it is done: that
    operation's meanings also say it."""
    said_words = {w for g in groups for w in g.words}
    fractured = bool(said_words & (BROKEN - DISLOCATED)) and not said_words & DISLOCATED
    if fractured:  # "broken hip": the upper femur's
        groups = [Group((FRACTURED_PLACES[g.words[0]],), g.words, g.entry)
                  if len(g.words) == 1 and g.words[0] in FRACTURED_PLACES else g for g in groups]
    done = [[alt for alt in g.alternatives if len(alt) > 1 and alt[0] in ROOT_OPERATIONS] for g in groups
            if not any(w in BROKEN for w in g.words)]
    named = [alt for alts in done if alts for alt in alts]
    if named and not any(alts and alts[0][0] == REPOSITION[0] for alts in done):
        return [Group(tuple(dict.fromkeys((*g.alternatives, *named))), g.words, g.entry)
                if any(w in BROKEN for w in g.words) else g for g in groups]
    out = []
    for g in groups:
        if any(w in BROKEN for w in g.words):
            # each way of saying it with the break as the operation: "broken nose" as "reposition nose",
            # the entry's "fracture nasal bones" as "reposition nasal bones"
            said = [tuple(REPOSITION[0] if w in BROKEN else w for w in alt) for alt in g.alternatives
                    if any(w in BROKEN for w in alt)]
            if fractured:
                said = [tuple(x for w in alt for x in FRACTURED_PLACES.get(w, (w,))) for alt in said]
            g = Group(tuple(dict.fromkeys((*g.alternatives, *said))), g.words, g.entry)
        out.append(g)
    return out


ROOT_OPERATIONS = frozenset(
    "alteration bypass change control creation destruction detachment dilation division drainage excision"
    " extirpation extraction fragmentation fusion insertion inspection occlusion reattachment release removal"
    " repair replacement reposition resection restriction revision supplement transfer transplantation".split())
TAKEN_OUT = frozenset("removal remove removed removing explant explanted explantation".split())
INSERTION = "insertion"


def device_removed(groups: list[Group]) -> list[Group]:
    """A device the lexicon names by its insertion ("tunneled HD cath": insertion infusion device ...)
    or by another operation with a device ("lap band": restriction stomach extraluminal device) is,
    when the query takes it out, its Removal ("PD cath removal": Removal of Drainage Device from
    Peritoneal Cavity), no longer its insertion."""
    if not any(w in TAKEN_OUT for g in groups for w in g.words):
        return groups
    out = []
    for g in groups:
        put = [alt for alt in g.alternatives if alt[:1] == (INSERTION,) or ("device" in alt and alt[0] != "removal")]
        if put:
            # the device from any body part too: a removal title names the part by the table's own value
            # ("Removal of Infusion Device from Great Vessel", not the superior vena cava it went into)
            named = [alt[1:] if alt[0] in ROOT_OPERATIONS else alt for alt in put]
            swapped = [("removal", *alt) for alt in named] + \
                [("removal", *alt[:alt.index("device") + 1]) for alt in named if "device" in alt]
            kept = [alt for alt in g.alternatives if alt not in put]
            g = Group(tuple(dict.fromkeys((*kept, *swapped))), g.words, g.entry)
        out.append(g)
    return out


# What "removing" takes out decides the operation: a growth is cut out (Excision, Resection), a device
# is taken out (Removal). Words that say neither leave every reading open.
LESION = frozenset(
    "tumor tumors tumour tumours mass masses lump lumps growth growths cyst cysts polyp polyps lesion lesions nodule"
    " nodules neuroma neuromas lipoma lipomas wart warts mole moles fibroid fibroids ganglion keloid keloids spur spurs"
    " bunion bunions cancer cancers carcinoma neoplasm sarcoma melanoma adenoma meningioma hemangioma cholesteatoma"
    " papilloma".split())
DEVICE = frozenset(
    "device devices hardware wire wires screw screws plate plates rod rods pin pins implant implants stent stents"
    " catheter catheters cath caths port ports pump pumps band pacemaker generator battery lead leads drain drains"
    " mesh spacer expander expanders iud coil coils shunt stimulator stitch stitches suture sutures cerclage"
    " nexplanon prosthesis fixator fixators filter balloon".split())
CUT_OUT = (("excision",), ("resection",))
TAKEN = ("removal",)
# a verb that says removal only with "out" somewhere after it: "taking the wires out of my breastbone"
OUT_VERBS = frozenset("take taking taken took takes pull pulling pulled pulls".split())


def what_is_removed(groups: list[Group]) -> list[Group]:
    """A removal word read by what the query takes out: a growth ("removing a heart tumor") is cut
    out, Excision or Resection, not a device's Removal; a device ("taking the wires out of my
    breastbone") is Removal, not Excision. "Take ... out" is a removal word."""
    groups = _taken_out(groups)
    said = {w for g in groups for w in g.words}
    lesion = bool(said & LESION)
    device = bool(said & DEVICE) or any("device" in alt for g in groups for alt in g.alternatives
                                        if not g.words or g.words[0] not in TAKEN_OUT)
    if lesion == device:
        return groups
    out = []
    for g in groups:
        alts = set(g.alternatives)
        if TAKEN in alts and CUT_OUT[0] in alts and not (set(g.words) & (LESION | DEVICE)):
            g = Group(CUT_OUT if lesion else (TAKEN,), g.words, g.entry)
        out.append(g)
    return out


def _taken_out(groups: list[Group]) -> list[Group]:
    """"Take", "pull" with a later "out": one removal group for both words."""
    at = [i for i, g in enumerate(groups) if g.entry is None and g.words and g.words[-1] in OUT_VERBS]
    outs = [i for i, g in enumerate(groups) if g.words == ("out",)]
    if not at or not outs or outs[-1] < at[0]:
        return groups
    verb, out_at = at[0], next(i for i in outs if i > at[0])
    merged = Group((*CUT_OUT, ("extraction",), TAKEN), (groups[verb].words[-1], "out"))
    return [merged if i == verb else g for i, g in enumerate(groups) if i != out_at]


def says_operation(group: Group) -> bool:
    """Whether a group names what is done ("removal": resection, excision...): in an ICD-10-PCS title
    that is the head, however many codes say it."""
    return any(alt[0] in ROOT_OPERATIONS for alt in group.alternatives if alt)


INSPECTION = "inspection"
NEGATIONS = frozenset("no without not non nothing none".split())  # "colonoscopy, nothing removed"


def scope_with_act(groups: list[Group]) -> list[Group]:
    """A scope with something done through it ("colonoscopy with polyp removal", "cysto litholapaxy",
    "knee scope, meniscus trimmed") is that operation, done endoscopically: the scope's Inspection
    is looked at only when nothing else is done, so its body part and approach are also read
    without it."""
    scopes = [i for i, g in enumerate(groups) if any(alt[:1] == (INSPECTION,) for alt in g.alternatives)]
    done = [i for i, g in enumerate(groups) if i not in scopes and says_operation(g)
            and not (i and set(groups[i - 1].words) <= NEGATIONS)]  # "colonoscopy, no biopsy"
    if not scopes or not done:
        return groups
    out = list(groups)
    for i in scopes:
        g = groups[i]
        bare = [alt[1:] for alt in g.alternatives if alt[:1] == (INSPECTION,) and len(alt) > 1]
        # nor is the scope's own code (its Inspection) what the term means here
        entry = dataclasses.replace(g.entry, expect=()) if g.entry is not None else None
        out[i] = Group(tuple(dict.fromkeys((*g.alternatives, *bare))), g.words, entry)
    return out


def refused(groups: list[Group]) -> tuple[list[Group], list[Group]]:
    """The groups a procedure query asks for, and those it says are not there: "PTCA RCA, no stent"
    is a dilation with no device, "colonoscopy, no biopsy" an inspection."""
    kept: list[Group] = []
    denied: list[Group] = []
    i = 0
    while i < len(groups):
        if set(groups[i].words) <= NEGATIONS and i + 1 < len(groups) and 0 < i:
            denied.append(groups[i + 1])
            i += 2
            continue
        kept.append(groups[i])
        i += 1
    return (kept, denied) if kept else (groups, [])


# Words that say something is put in, fixed or done without saying how: beside a word that names the
# operation ("artificial hip put in": Replacement; "hernia fixed with mesh": Supplement) they mean it.
VAGUE_ACTS = frozenset("put putting placed placement inserted insert implanted fixed fixing repaired done".split())


def vague_act(groups: list[Group]) -> list[Group]:
    """A vague verb ("put in", "placed", "fixed") also reads as the operation another group of the
    query names: "new left hip joint put in" is the hip's Replacement, not an Insertion of Spacer into
    it; "fixing a broken eye socket" its Reposition."""
    vague = [i for i, g in enumerate(groups) if g.words and g.words[0] in VAGUE_ACTS]
    if not vague:
        return groups
    named = [alt[0] for i, g in enumerate(groups) if i not in vague for alt in g.alternatives
             if alt and alt[0] in ROOT_OPERATIONS]
    if not named:
        return groups
    out = list(groups)
    for i in vague:
        g = groups[i]
        out[i] = Group(tuple(dict.fromkeys((*g.alternatives, *((op,) for op in named)))), g.words, g.entry)
    return out


GENERIC = frozenset("surgery surgical surgeries operation operations procedure".split())


def operation_elsewhere(groups: list[Group]) -> list[Group]:
    """A term that names a root operation by a generic word ("bypass surgery": on the heart) may, with
    another word of the query beside it, be that operation on what the word names ("stomach bypass
    surgery": Bypass Stomach): the root operation alone is one more way to read it."""
    if len(groups) < 2:
        return groups
    out = []
    for g in groups:
        bare = tuple(w for w in g.words if w not in GENERIC)
        if g.entry is not None and len(bare) == 1 and len(g.words) > 1 and bare[0] in ROOT_OPERATIONS \
                and bare not in g.alternatives:
            g = Group((*g.alternatives, bare), g.words, g.entry)
        out.append(g)
    return out


LOOK = frozenset({"look", "looking", "looked"})
IMAGING = frozenset({"fluoroscopy", "ultrasonography", "radiography", "computerized", "magnetic"})


def look_through_scope(groups: list[Group]) -> list[Group]:
    """To "look" is to inspect or to image ("heart cath to look at the arteries": Fluoroscopy); where
    another word of the query is a scope ("colonoscopy to look at the colon", "camera down to look at
    the stomach"), it is the scope's Inspection, not a picture."""
    scoped = any("endoscopic" in alt or alt[:1] == (INSPECTION,) for g in groups if not set(g.words) & LOOK
                 for alt in g.alternatives)
    if not scoped:
        return groups
    return [Group(tuple(alt for alt in g.alternatives if not set(alt) & IMAGING), g.words, g.entry)
            if set(g.words) & LOOK else g for g in groups]


TENDONS = frozenset("tendon tendons flexor extensor pulley".split())
DIGITS = {"finger": "hand", "fingers": "hand", "thumb": "hand", "toe": "foot", "toes": "foot", "hallux": "foot"}


def digit_of_a_tendon(groups: list[Group]) -> list[Group]:
    """A finger's or a toe's tendon is the hand's or the foot's in ICD-10-PCS ("flexor tendon repair L ring
    finger": Repair Left Hand Tendon, not the finger's own Repair): where the query names a tendon, the
    digit also says the hand or the foot."""
    if not any(TENDONS & set(alt) for g in groups for alt in g.alternatives):
        return groups
    out = []
    for g in groups:
        limb = next((DIGITS[w] for w in g.words if w in DIGITS), None)
        if limb is not None and not any(TENDONS & set(alt) for alt in g.alternatives):
            g = Group(tuple(dict.fromkeys((*g.alternatives, (limb,)))), g.words, g.entry)
        out.append(g)
    return out


def read_procedure(groups: list[Group]) -> list[Group]:
    """What a procedure query's words say is done, each reading in turn on what the one before made."""
    for read in (broken_set, device_removed, what_is_removed, scope_with_act, vague_act, operation_elsewhere,
                 look_through_scope, digit_of_a_tendon):
        groups = read(groups)
    return groups
