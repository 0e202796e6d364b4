"""The house keeps its shape: no domain folder imports one that imports it back (imports inside functions too).

The delivery modules a domain folder holds (routes, cli, forms, webhooks, the upload page) and the delivery
folders (api, admin, scheduler) sit above the workflows and are left out: they may import any domain. What
is left must be a one-way street; import-linter (`make check`) keeps the layers and the independence of the
services, this test keeps the domains from forming a knot through their models and queries.
"""

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "telecollect"
DELIVERY_MODULES = {"routes", "cli", "forms", "webhooks", "web"}
DELIVERY_FOLDERS = {"api", "admin", "scheduler", "workflows"}


def _folder_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else None


def _folder_imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if len(parts) < 3 or parts[1] in DELIVERY_FOLDERS or parts[-1] in DELIVERY_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("telecollect."):
                target = _folder_of(node.module)
                if target and target != parts[1]:
                    edges[parts[1]].add(target)
    return edges


def _knots(edges: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of two or more folders (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    knots: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                knots.append(group)

    for node in list(edges):
        if node not in index:
            visit(node)
    return knots


def test_no_domain_folder_imports_one_that_imports_it_back():
    edges = _folder_imports()
    assert edges["payments"], "the scan found nothing: the package moved?"
    assert _knots(edges) == []


def test_the_scan_finds_a_knot_when_there_is_one():
    assert _knots({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
