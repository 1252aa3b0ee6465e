"""The explainer of one code: official facts (layer one) and stored generated text (layer two).

This is what a code record's `explainer` holds. Official sections always come first and are always
there; generated sections follow only when the store has text for the code that a reviewer has
not rejected, each labelled with its model, date and review status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import settings
from ..record import CodeRecord, Explainer, ExplainerSection, Generated, SectionSource
from ..storage import Location, location
from .facts import explainer_facts
from .prompt import facts_hash
from .store import ContentStore

GENERATED_LABEL = "Generated — not medical advice"


def explainer(store: ContentStore | str | Path | None, code_data: CodeRecord) -> Explainer:
    """The official sections, then the stored generated ones (when there are any a reviewer has not
    rejected). Every section's `text` is complete on its own; a section written as a list also has
    `items` (and, for official facts, `lead`: the sentence before the list).
    """
    sections = [ExplainerSection(f["title"], f["text"], SectionSource("official", tuple(f["source"]["fields"])),
                                 f.get("lead"), tuple(f.get("items") or ()))
                for f in explainer_facts(code_data)]
    item = _stored(store, code_data.system, code_data.code)
    if item is None:
        return Explainer(tuple(sections), None)
    generated = Generated(
        label=GENERATED_LABEL,
        model=item["model"],
        date=item["created"][:10],
        created=item["created"],
        prompt_version=item["prompt_version"],
        review_status=item["review_status"],
        reviewed_at=item["reviewed_at"],
        origin=item["origin"],
        # The official data changed since the text was written (a newer release): worth a re-run.
        stale=item["facts_hash"] != facts_hash(code_data),
    )
    source = SectionSource("generated", model=item["model"], date=generated.date,
                           review_status=item["review_status"], prompt_version=item["prompt_version"])
    sections += [ExplainerSection(s["title"], s["text"], source, items=tuple(s.get("items") or ()))
                 for s in item["sections"]]
    return Explainer(tuple(sections), generated)


_OPEN: dict[Location, ContentStore] = {}


def _stored(store: ContentStore | str | Path | None, system: str, code: str) -> dict[str, Any] | None:
    if store is None:
        return None
    if not isinstance(store, ContentStore):
        where = location(store)
        # one store object per store: its connections (one per thread, or a pool) are reused across pages
        found = _OPEN.get(where)
        store = found if found is not None else _OPEN.setdefault(where, ContentStore(where, create=False))
    return store.get(system, code, approved_only=settings.get("MEDCODES_CONTENT_REVIEWED_ONLY") in _YES)


_YES = ("1", "true", "yes", "on")
