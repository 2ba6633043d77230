"""Imports between promoplan's packages point one way.

Every ``import app.x…`` in ``app/`` (at module level or inside a function) is an
edge from the importing package to ``x``; the top-level modules (``app/__init__``,
``cli``, ``schema``, ``scheduler``, ``dashboard``) put the application together and
are the only ones allowed to import everything. A cycle between packages fails.
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict

APP = pathlib.Path(__file__).resolve().parent.parent / "app"
#: Feature packages sit above these; none of them may import a feature.
FOUNDATION = {"extensions", "common", "models", "outbox"}


def package_edges() -> dict[str, dict[str, list[str]]]:
    """package → imported package → ["file:line", …] for every import of another package."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP).parts
        if len(parts) == 1 and parts[0] != "extensions.py":
            continue  # the application's composition root
        source = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                names = names[:1] if node.module != "app" else names[1:]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                bits = name.split(".")
                if bits[0] == "app" and len(bits) > 1 and bits[1] != source:
                    edges[source][bits[1]].append(f"{'/'.join(parts)}:{node.lineno}")
    return edges


def find_cycle(edges: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of the graph as [a, b, …, a], or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, {})):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages():
    edges = package_edges()
    cycle = find_cycle(edges)
    if cycle:
        where = [f"{a} → {b}: {', '.join(edges[a][b][:3])}" for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import cycle between packages:\n" + "\n".join(where))


def test_foundation_imports_no_feature():
    """common, the models and the outbox sit beneath every feature."""
    edges = package_edges()
    for package in FOUNDATION:
        above = {
            target: where for target, where in edges.get(package, {}).items() if target not in FOUNDATION
        }
        assert not above, f"{package} imports {above}"


def test_the_check_finds_a_cycle():
    """The detector itself: a made-up cycle a → b → c → a is reported."""
    edges = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": ["w"]}}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": ["x"]}, "b": {}}) is None
