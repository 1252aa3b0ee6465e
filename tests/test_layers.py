"""The package's layers point one way: sources -> index -> search, content, policies -> app ->
web, api, cli. Read from the source with ast, so an import inside a function (the usual way to
hide a cycle) counts as much as one at the top of a module."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "medcodes"

# The rank of each subpackage (or top-level module; a dotted name ranks a part of one, the longest name
# wins): a module may import its own part and any of a lower rank, never one of a higher rank. Parts of
# one rank may import each other as long as they form no cycle (content reads the policies a code is
# cited by).
RANKS: dict[str, int] = {
    "errors": 0, "systems": 0, "model": 0, "settings": 0, "memo": 0, "record": 0, "http_client": 0, "dates": 0,
    "files": 0, "fts": 0, "migrations": 0, "service_date": 0, "storage": 0,
    "data": 0,  # the embedded data files and their lookup (importers read them)
    "sources": 1,
    "data.derive": 4, "data.cli": 5,  # deriving the data files downloads and runs the importers
    "index": 2,
    "search": 3, "content": 3, "policies": 3, "edits": 3,
    "app": 4, "fetch": 4, "backup": 4,
    "web": 5, "api": 5, "cli": 5, "__main__": 5,
}
# `medcodes.search(...)`: the package itself forwards to the search layer when first asked (PEP 562).
FACADE = "medcodes"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        return [name] + [f"{name}.{a.name}" for a in node.names]
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
        arg = node.args[0] if node.args else None
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return [arg.value]  # relative names (".search") stay in their own package
    return []


def _layer(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "medcodes":
        return None
    for size in range(len(parts) - 1, 0, -1):
        if ".".join(parts[1:size + 1]) in RANKS:
            return ".".join(parts[1:size + 1])
    return parts[1] if len(parts) > 1 else FACADE


@functools.cache
def imports() -> dict[tuple[str, str], list[str]]:
    """(importing layer, imported layer) -> the modules where that happens, every import counted.
    Read once per test run: parsing every module is most of these tests' time."""
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _layer(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node, module, path.name == "__init__.py"):
                layer = _layer(target)
                if layer is None or layer == source or layer == FACADE:
                    continue
                if module not in edges.setdefault((source, layer), []):
                    edges[(source, layer)].append(module)
    return edges


def test_every_layer_has_a_rank() -> None:
    layers = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir()
              if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}
    assert layers - set(RANKS) == set(), "give each new subpackage or module a rank in RANKS"


def test_imports_point_down() -> None:
    upward = {f"{a} -> {b} ({', '.join(where)})" for (a, b), where in imports().items()
              if a != FACADE and RANKS[b] > RANKS[a]}
    assert upward == set()


def test_no_cycle_between_layers() -> None:
    graph: dict[str, set[str]] = {}
    for a, b in imports():
        if a != FACADE:
            graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path + [node, nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            assert (cycle := visit(start, [])) is None, " -> ".join(cycle)


def test_the_layer_reader_sees_imports_inside_functions(tmp_path: Path) -> None:
    tree = ast.parse("def f():\n    from ..app import codes\n    importlib.import_module('medcodes.web')\n")
    found = [t for node in ast.walk(tree) for t in _targets(node, "medcodes.index.catalog", False)]
    assert "medcodes.app.codes" in found and "medcodes.web" in found
