"""Words whose meaning the rest of the query decides.

"Cervical" is the neck's in most titles (Cervical Vertebra, cervical radiculopathy) and the
cervix's in women's health: "removing a cervical polyp" is Excision of Cervix, "repairing a cervical
tear after delivery" is Repair Cervix, "cervical stitch" a cerclage of the cervix. Beside a word of
pregnancy, birth or gynecology, "cervical" is also searched as the cervix (ICD-10-PCS "Cervix",
ICD-10-CM "cervix uteri").
"""

from __future__ import annotations

from .lexicon import Group

CERVICAL = frozenset({"cervical"})
WOMENS = frozenset(
    "delivery delivered deliver pregnancy pregnant labor labour birth childbirth postpartum cerclage stitch"
    " stitches pap leep cone colposcopy uterus uterine womb vaginal vagina gyn gynecologic polyp polyps"
    " dysplasia cin hpv ob obstetric".split())
CERVIX = (("cervix",), ("cervix", "uteri"))


def cervix(groups: list[Group]) -> list[Group]:
    """The groups, "cervical" also read as the cervix where the query is about women's health."""
    said = {w for g in groups for w in g.words}
    if not said & CERVICAL or not said & WOMENS:
        return groups
    return [Group(tuple(dict.fromkeys((*g.alternatives, *CERVIX))), g.words, g.entry)
            if len(g.words) == 1 and g.words[0] in CERVICAL else g for g in groups]
