"""Words whose meaning the rest of the query decides.

"Cervical" is the neck's in most titles (Cervical Vertebra, cervical radiculopathy) and the
cervix's in women's health: "removing a cervical polyp" is Excision of Cervix, "repairing a cervical
tear after delivery" is Repair Cervix, "cervical stitch" a cerclage of the cervix. Beside a word of
pregnancy, birth or gynecology, "cervical" is also searched as the cervix (ICD-10-PCS "Cervix",
ICD-10-CM "cervix uteri"): `cervix`.

"After X" is what the titles call post-X: `after`.
"""

from __future__ import annotations

from collections.abc import Callable

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


# "After X" is ICD-10-CM's "postX": "nerve pain after shingles" is postherpetic neuralgia, "dryness
# after menopause" postmenopausal, "headache after a concussion" postconcussional.
AFTER = frozenset({("after",), ("following",)})  # a group's words
HAVING = frozenset({("having",), ("giving",), ("had",), ("her",), ("his",), ("their",), ("our",)})
POST = {  # where the word is not the prefixed one
    "shingles": ("postherpetic",), "zoster": ("postherpetic",), "herpes": ("postherpetic",),
    "delivery": ("postpartum", "puerperal"), "birth": ("postpartum", "puerperal"),
    "childbirth": ("postpartum", "puerperal"), "baby": ("postpartum",), "pregnancy": ("postpartum",),
    "surgery": ("postprocedural", "postoperative"), "operation": ("postprocedural", "postoperative"),
    "procedure": ("postprocedural",), "op": ("postprocedural", "postoperative"),
    "infection": ("postinfectious",), "virus": ("postviral",), "flu": ("postviral",),
    "clot": ("postthrombotic",), "dvt": ("postthrombotic",), "thrombosis": ("postthrombotic",),
    "injury": ("posttraumatic",), "trauma": ("posttraumatic",),
}


def after(groups: list[Group], known: Callable[[str], bool]) -> list[Group]:
    """The word after "after" also searched as its "post-" form where the index knows it; the "after"
    then says nothing more."""
    out: list[Group] = []
    i = 0
    while i < len(groups):
        g = groups[i]
        if g.entry is None and g.words in AFTER:
            j = i + 1
            while j < len(groups) - 1 and groups[j].words in HAVING:
                j += 1  # "after having a baby"
            nxt = groups[j] if j < len(groups) else None
            posts = [p for alt in nxt.alternatives if len(alt) == 1 for p in _post_forms(alt[0]) if known(p)] \
                if nxt is not None else []
            if nxt is not None and posts:
                out.append(Group(tuple(dict.fromkeys((*nxt.alternatives, *((p,) for p in posts)))),
                                 nxt.words, nxt.entry))
                i = j + 1
                continue
        out.append(g)
        i += 1
    return out


def _post_forms(word: str) -> tuple[str, ...]:
    if word in POST:
        return POST[word]
    stem = word[:-1] if word.endswith("e") else word
    return ("post" + word, "post" + word + "al", "post" + stem + "al", "post" + word + "tic")
