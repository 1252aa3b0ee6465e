"""Explainers and similar codes: official facts said plainly (layer one), generated text with
provenance from a language model (layer two), and a ranked list of similar codes with reasons.

Nothing heavy is imported here: the HTTP client and numpy load only when used. The explainer
function lives in `explain.py`, not `explainer.py`: a submodule named like the function it exports
replaces that function on the package once it is imported, so `from medcodes.content import
explainer` gave the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .explain import explainer
    from .facts import explainer_facts
    from .similar import similar_codes

__all__ = ["explainer", "explainer_facts", "similar_codes"]


def __getattr__(name: str) -> Any:
    if name == "explainer":
        from .explain import explainer

        return explainer
    if name == "explainer_facts":
        from .facts import explainer_facts

        return explainer_facts
    if name == "similar_codes":
        from .similar import similar_codes

        return similar_codes
    raise AttributeError(name)
