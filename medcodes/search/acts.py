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

from .lexicon import Group

MATTER = frozenset(
    "clot clots thrombus thrombi embolus emboli blockage stone stones calculus calculi gallstone gallstones"
    " foreign object objects bead beads metal splinter splinters glass bullet bullets pebble debris stuck lodged"
    " impacted".split())
OUT = frozenset(
    "out removal remove removed removing pulling pull pulled sucking suck sucked suction extraction extract"
    " extracted retrieval retrieve retrieved clearing clear cleared taking take taken took dig digging"
    " fishing fished evac evacuation evacuated evacuate washout".split())
EXTIRPATION = ("extirpation", "matter")


def matter_removed(groups: list[Group]) -> list[Group]:
    """The groups of a query, a matter word also read as Extirpation when the query says it comes out."""
    said = {w for g in groups for w in g.words}
    if not said & OUT or not said & MATTER:
        return groups
    out = []
    for g in groups:
        if len(g.words) == 1 and g.words[0] in MATTER and EXTIRPATION not in g.alternatives:
            g = Group((*g.alternatives, EXTIRPATION), g.words, g.entry)
        out.append(g)
    return out


BROKEN = frozenset("fracture fractures fractured fx broken broke dislocated dislocation dislocations".split())
REPOSITION = ("reposition",)


def broken_set(groups: list[Group]) -> list[Group]:
    """In a procedure query, a broken or dislocated bone is put back in place: ICD-10-PCS Reposition
    ("fixing a broken eye socket": Reposition Orbit; "resetting a dislocated jaw": Reposition
    Temporomandibular Joint). PCS titles never say "fracture"."""
    out = []
    for g in groups:
        if any(w in BROKEN for w in g.words):
            # each way of saying it with the break as the operation: "broken nose" as "reposition nose",
            # the entry's "fracture nasal bones" as "reposition nasal bones"
            said = [tuple(REPOSITION[0] if w in BROKEN else w for w in alt) for alt in g.alternatives
                    if any(w in BROKEN for w in alt)]
            g = Group(tuple(dict.fromkeys((*g.alternatives, *said))), g.words, g.entry)
        out.append(g)
    return out


TAKEN_OUT = frozenset("removal remove removed removing explant explanted explantation".split())
INSERTION = "insertion"


def device_removed(groups: list[Group]) -> list[Group]:
    """A device the lexicon names by its insertion ("tunneled HD cath": insertion infusion device ...)
    is, when the query takes it out, also its Removal ("PD cath removal": Removal of Drainage Device
    from Peritoneal Cavity)."""
    if not any(w in TAKEN_OUT for g in groups for w in g.words):
        return groups
    out = []
    for g in groups:
        swapped = [("removal", *alt[1:]) for alt in g.alternatives if alt[:1] == (INSERTION,)]
        if swapped:
            g = Group(tuple(dict.fromkeys((*g.alternatives, *swapped))), g.words, g.entry)
        out.append(g)
    return out
