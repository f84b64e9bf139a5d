#!/usr/bin/env python3
"""Prove that the packages' imports point one way: no import cycle, no layer broken, no import hidden in a function.

Usage: ``python scripts/check_imports.py`` from anywhere; exit status 1 when something is wrong.

Reads the source with ``ast`` (nothing is imported), so it sees imports inside functions and under
``if TYPE_CHECKING:`` too, and counts every one of them. Three rules:

1. **Layers.** handlers -> workflows -> knowledge -> storage (workflows may also use storage directly); ``bot/``
   wires everything and nothing imports it.
2. **No cycles** between modules of the five packages (Tarjan's strongly connected components over the graph
   of module imports; an import of ``package.name`` counts as an import of the module ``package/name.py`` when
   there is one, else of ``package/__init__.py``).
3. **No import inside a function** (in the packages, the tests and the benches) unless a comment containing
   ``lazy:`` says why, just above the import or the block of imports it starts. That is for heavy third-party
   libraries loaded only by the command that needs them, never for getting round a cycle.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "workflows", "storage", "knowledge")
ALSO_CHECKED_FOR_FUNCTION_IMPORTS = ("tests", "bench", "scripts")
# The packages each one may import, besides itself.
ALLOWED = {
    "bot": {"handlers", "workflows", "storage", "knowledge"},
    "handlers": {"workflows", "storage", "knowledge"},
    "workflows": {"storage", "knowledge"},
    "storage": set(),
    "knowledge": {"storage"},
}


@dataclass(frozen=True)
class Import:
    name: str  # the dotted name imported, e.g. "workflows.replies.Reply"
    line: int
    in_function: bool
    explained: bool  # a "lazy:" comment covers it


def module_files() -> dict[str, Path]:
    """Every module of the five packages by dotted name ("workflows.feedback" for its __init__.py)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _explained(lines: list[str], first_line: int) -> bool:
    """A comment with "lazy:" on the lines just above ``first_line`` (1-based)."""
    index = first_line - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        if "lazy:" in lines[index]:
            return True
        index -= 1
    return False


def imports_of(module: str, path: Path) -> Iterator[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def names(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parent = parts[: len(parts) - node.level + 1]
            base = ".".join(parent + ([base] if base else []))
        return [f"{base}.{alias.name}" for alias in node.names]

    def walk(body: list[ast.stmt], in_function: bool) -> Iterator[Import]:
        block_explained = False
        previous_was_import = False
        for statement in body:
            if isinstance(statement, ast.Import | ast.ImportFrom):
                if not previous_was_import:  # the first import of a block: its comment covers the block
                    block_explained = _explained(lines, statement.lineno)
                for name in names(statement):
                    yield Import(name, statement.lineno, in_function, block_explained)
                previous_was_import = True
                continue
            previous_was_import = False
            yield from walk_children(statement, in_function)

    def walk_children(statement: ast.stmt, in_function: bool) -> Iterator[Import]:
        inner = in_function or isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(statement, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield from walk(block, inner)
        for handler in getattr(statement, "handlers", []) or []:
            yield from walk(handler.body, inner)
        for case in getattr(statement, "cases", []) or []:
            yield from walk(case.body, inner)

    yield from walk(ast.parse(source, str(path)).body, False)


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module a dotted import name lands in: the longest known prefix."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for following in successors:
                if following not in index:
                    index[following] = low[following] = len(index)
                    stack.append(following)
                    on_stack.add(following)
                    work.append((following, iter(sorted(graph[following]))))
                    break
                if following in on_stack:
                    low[node] = min(low[node], index[following])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def function_import_problems(path: Path, module: str) -> Iterator[str]:
    relative = path.relative_to(ROOT).as_posix()
    for found in imports_of(module, path):
        if found.in_function and not found.explained:
            yield (
                f"{relative}:{found.line}: `{found.name}` is imported inside a function; import it at the top, "
                "or say why it must load late in a '# lazy: ...' comment above it"
            )


def main() -> int:
    known = module_files()
    graph: dict[str, set[str]] = {name: set() for name in known}
    problems: list[str] = []
    for module, path in known.items():
        problems += function_import_problems(path, module)
        for found in imports_of(module, path):
            target = resolve(found.name, known)
            if target is None or target == module:
                continue
            graph[module].add(target)
            source_top, target_top = module.split(".")[0], target.split(".")[0]
            allowed = target_top == source_top or target_top in ALLOWED[source_top]
            if not allowed:
                problems.append(
                    f"{path.relative_to(ROOT)}:{found.line}: {source_top}/ must not import {target} ({target_top}/)"
                )
    for folder in ALSO_CHECKED_FOR_FUNCTION_IMPORTS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            problems += function_import_problems(path, module)
    problems += ["import cycle: " + " -> ".join(cycle) for cycle in cycles(graph)]
    for problem in problems:
        print(problem)
    edges = sum(len(targets) for targets in graph.values())
    summary = f"{len(known)} modules in {', '.join(PACKAGES)}; {edges} imports between them"
    if problems:
        print(f"{summary}: {len(problems)} problems.")
        return 1
    print(f"{summary}: no import cycles, every import points down the layers, none hidden in a function.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
