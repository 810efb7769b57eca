"""No new import cycles (issue 29: the next contributor's first hour). Every ``import`` in the
package, at module level or inside a function, is an edge (an import under ``if TYPE_CHECKING:``
is for type hints only and never runs, so it is not); modules that reach each other form a cycle.
Today's cycles are listed below so the test passes now: a cycle that is new, or that grew, fails
it. Break one, and remove it from the list."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "zimage_desktop"

# Known today (issue 29 names them); each is the set of modules (or packages) in one cycle.
# The cli_enhance ⇄ cli_generate ⇄ cli_history circle went with the cli/ package (its shared helpers in
# cli/common.py); the ui ⇄ cli one that the package would have made went with remote/server_check.py.
KNOWN_MODULE_CYCLES: list[set[str]] = []
KNOWN_PACKAGE_CYCLES = [
    {"engine", "models"},  # the planner reads the catalog at import
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node.test)
                     for stmt in node.body for inner in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                elif node.module and node.module.startswith("zimage_desktop"):
                    stem = node.module.removeprefix("zimage_desktop").lstrip(".")
                else:
                    continue
                targets = [f"{stem}.{a.name}".lstrip(".") for a in node.names] + [stem]
            elif isinstance(node, ast.Import):
                targets = [a.name.removeprefix("zimage_desktop").lstrip(".") for a in node.names
                           if a.name.startswith("zimage_desktop.")]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
                    break
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    top = {name: name.split(".")[0] for name in graph}
    packages: dict[str, set[str]] = {p: set() for p in top.values()}
    for name, targets in graph.items():
        packages[top[name]].update(top[t] for t in targets if top[t] != top[name])
    return packages


def new_cycles(found: list[set[str]], known: list[set[str]]) -> list[set[str]]:
    return [c for c in found if not any(c <= k for k in known)]


def test_no_new_import_cycles_between_modules():
    assert new_cycles(cycles(import_graph()), KNOWN_MODULE_CYCLES) == []


def test_no_new_import_cycles_between_packages():
    assert new_cycles(cycles(package_graph(import_graph())), KNOWN_PACKAGE_CYCLES) == []


def test_the_check_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]
    assert new_cycles(cycles(graph), []) == [{"a", "b", "c"}]


def test_the_cli_package_is_a_leaf_and_its_commands_share_helpers_not_each_other():
    """The command line imports the rest of the app, never the other way round (only the entry points reach
    it), and cli/common.py, what the commands share, imports no other command."""
    graph = import_graph()
    cli = {name for name in graph if name == "cli" or name.startswith("cli.")}
    assert {"cli.common", "cli.entry", "cli.generate", "cli.history", "cli.enhance"} <= cli  # the walk sees it
    assert graph["cli.common"] & cli == set()
    assert {name for name, targets in graph.items() if name not in cli and targets & cli} == {"__main__"}
