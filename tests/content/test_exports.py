"""The package's exports are the functions, whatever was imported before (`explainer` was a submodule)."""

from __future__ import annotations

import subprocess
import sys

from medcodes.content.facts import explainer_facts
from medcodes.record import CodeRecord


def test_explainer_is_the_function_even_after_its_module_loaded() -> None:
    import medcodes.content.explain  # noqa: F401  (a submodule named like the function used to replace it)
    from medcodes.content import explainer, explainer_facts, similar_codes

    assert callable(explainer) and explainer.__name__ == "explainer"
    assert callable(explainer_facts) and callable(similar_codes)


def test_explainer_export_in_a_fresh_interpreter() -> None:
    code = ("import medcodes.content.explain, medcodes.content.facts, medcodes.content.similar\n"
            "from medcodes.content import explainer, explainer_facts, similar_codes\n"
            "import types; assert not any(isinstance(f, types.ModuleType)"
            " for f in (explainer, explainer_facts, similar_codes))\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_facts_of_a_cited_cpt_code_without_its_descriptor() -> None:
    data = CodeRecord.bare("cpt", "63650", system_name="CPT", system_label="CPT® code", kind="code", in_index=False)
    (fact,) = explainer_facts(data)
    assert fact["text"].startswith("63650 is a CPT® code. Its descriptor is not shown")
    assert "None" not in fact["text"] and fact["source"] == {"type": "official", "fields": ["in_index"]}
