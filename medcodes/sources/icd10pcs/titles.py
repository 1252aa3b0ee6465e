"""A readable long title for a PCS code composed from its axis labels.

The tables XML gives each character's label but not the code's long
description; that comes from the codes file, which overrides these titles
when it is loaded. The rules below follow the official descriptions closely
enough to match most of them word for word ("Fusion of Right Hip Joint with
Nonautologous Tissue Substitute, Percutaneous Endoscopic Approach"); the rest
read naturally but differ in word order. Codes composed this way carry
attributes["title_composed"] = True.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Labels that say "nothing here" and vanish from a title.
_EMPTY = frozenset({"No Device", "No Qualifier", "None", "No Method", "No Equipment", "No Substance",
                    "Other Substance"})

# Root operations whose title names the device first: "Insertion of {device} into {body part}".
_DEVICE_FIRST = {"Insertion": ("of", "into"), "Removal": ("of", "from"), "Revision": ("of", "in"),
                 "Change": ("", "in"), "Introduction": ("of", "into"), "Transfusion": ("of", "into")}
# Root operations written without "of": "Repair Left Knee Bursa and Ligament".
NO_OF = frozenset({"Bypass", "Map", "Release", "Repair", "Reposition", "Supplement", "Transfer", "Change",
                    "Control"})
# Root operations with their own connecting words.
LEADS = {"Control": "Control Bleeding in", "Extirpation": "Extirpation of Matter from",
         "Fragmentation": "Fragmentation in", "Detachment": "Detachment at"}
# Qualifiers that name a technique: "Dilation of Left Renal Artery using Drug-Coated Balloon".
_USING = frozenset({"Drug-Coated Balloon", "Laser Interstitial Thermal Therapy"})
_COUNTS = frozenset({"Two", "Three", "Four"})


def _qualifier_last(qualifier: str) -> bool:
    """Whether the qualifier follows the approach ("..., Open Approach, Diagnostic"); most precede it."""
    return qualifier == "Diagnostic" or qualifier.startswith("New Technology Group")


def natural(label: str) -> str:
    """Table labels put the qualifying words last ("Hip Joint, Right"); titles put them first."""
    parts = label.split(", ")
    if len(parts) == 1 or "/" in parts[-1]:
        return label
    text = " ".join(reversed(parts))
    if parts[-1].split()[0] in _COUNTS and text.endswith("Device"):
        text += "s"  # "Intraluminal Device, Two" -> "Two Intraluminal Devices"
    return text


def approach(label: str) -> str:
    if not label or label.startswith("Via") or label.endswith("Approach"):
        return label
    return f"{label} Approach"


def compose_title(section: str, labels: Sequence[str]) -> str:
    """Title for the code whose 7 axis labels are `labels` (section label first).

    `section` is the code's first character: each section writes its
    descriptions in its own pattern.
    """
    parts = ["" if label in _EMPTY else label for label in labels]
    rule = _RULES.get(section, _operation_title)
    return rule(parts)


def _operation_title(parts: list[str], device_word: str = "with") -> str:
    """Medical and Surgical and the sections built like it: op, body part, approach, device, qualifier."""
    op, body, device, qualifier = parts[2], natural(parts[3]), natural(parts[5]), parts[6]
    if op == "Introduction" and qualifier and not _qualifier_last(qualifier):
        device, qualifier = qualifier, ""  # the qualifier names the substance more precisely
    elif op == "Transfusion" and qualifier and not _qualifier_last(qualifier):
        device, qualifier = f"{qualifier} {device}", ""
    if op in _DEVICE_FIRST and device:
        of, into = _DEVICE_FIRST[op]
        head = " ".join(w for w in (op, of, device, into, body) if w)
    else:
        lead = LEADS.get(op) or (op if op in NO_OF else f"{op} of")
        head = f"{lead} {body}" if body else op
        if op in ("Bypass", "Transfer") and qualifier:
            head, qualifier = f"{head} to {natural(qualifier)}", ""
        if device:
            head = f"{head} {device_word} {device}"
    if qualifier in _USING:
        head, qualifier = f"{head}{',' if device else ''} using {qualifier}", ""
    early, late = ("", qualifier) if _qualifier_last(qualifier) else (qualifier, "")
    return ", ".join(p for p in (head, early, approach(parts[4]), late) if p)


def _new_technology(parts: list[str]) -> str:
    return _operation_title(parts, "using")


def _administration(parts: list[str]) -> str:
    return _operation_title(parts, "using")


def _measurement(parts: list[str]) -> str:
    """"Monitoring of Cardiac Rate, External Approach": the function follows the body system."""
    head = " ".join(p for p in (f"{parts[2]} of", parts[3], parts[5]) if p)
    return ", ".join(p for p in (head, parts[6], approach(parts[4])) if p)


def _placement(parts: list[str]) -> str:
    """"Change Bandage on Left Toe", "Immobilization of Right Foot using Brace"."""
    op, body, device = parts[2], natural(parts[3]), parts[5]
    if op in ("Change", "Removal") and device:
        return f"{op}{' of' if op == 'Removal' else ''} {device} on {body}"
    head = f"{op} of {body}"
    return f"{head} using {device}" if device else head


def _imaging(parts: list[str]) -> str:
    """"Plain Radiography of Portal and Splanchnic Veins using High Osmolar Contrast"."""
    contrast = parts[4]
    if contrast.endswith("Osmolar"):
        contrast += " Contrast"
    title = _of_using(parts[2], parts[3], [contrast])
    return ", ".join(p for p in (title, parts[5], parts[6]) if p)


def _radiation(parts: list[str]) -> str:
    """"Beam Radiation of Tongue using Photons 1 - 10 MeV", "Low Dose Rate (LDR) Brachytherapy of ..."."""
    op, modality = parts[2], parts[4]
    if op == "Brachytherapy":
        return _of_using(f"{modality} {op}", parts[3], [parts[5], parts[6]])
    if op in ("Stereotactic Radiosurgery", "Other Radiation"):
        return _of_using(modality, parts[3], [parts[5], parts[6]])
    return _of_using(op, parts[3], [modality, parts[5], parts[6]])


def _rehabilitation(parts: list[str]) -> str:
    """"Muscle Performance Treatment of Integumentary System - Whole Body using Orthosis"."""
    kind = parts[2].split()[-1]  # Treatment, Assessment, Training, Fitting
    head = f"{parts[4]} {kind}" if parts[4] else parts[2]
    return _of_using(head, parts[3], [parts[5], parts[6]])


def _services(parts: list[str]) -> str:
    """Mental health and substance abuse: "Individual Psychotherapy, Cognitive-Behavioral"."""
    return ", ".join(p for p in (parts[2], parts[3], parts[4], parts[5], parts[6]) if p)


def _of_using(head: str, body: str, rest: list[str]) -> str:
    head = f"{head} of {natural(body)}" if body else head
    using = ", ".join(natural(p) for p in rest if p)
    return f"{head} using {using}" if using else head


_RULES: dict[str, Callable[[list[str]], str]] = {
    "2": _placement,
    "3": _administration,
    "4": _measurement,
    "B": _imaging,
    "C": _imaging,
    "D": _radiation,
    "F": _rehabilitation,
    "G": _services,
    "H": _services,
    "X": _new_technology,
}
