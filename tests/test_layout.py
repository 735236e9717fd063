"""The shape of the package, checked: no import circle among harness/ modules, no module
too long to read in one sitting (issue 26's "done when"), and no `:g` number format outside
harness/units.py (issue 29: never scientific notation where a person reads).

An import circle is counted the way Python would meet it, and stricter: every import counts,
at the top of a module, inside a function, or under `if TYPE_CHECKING:`, because each one is an
arrow a reader has to follow and the next change may move it to the top. Importing
`harness.report.charts` runs `harness/report/__init__.py` first, so it is an import of the
package `harness.report` too, except from a module inside that package (its package already
ran before it did).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import harness

PACKAGE_DIR = Path(harness.__file__).parent
MAX_LINES = 600  # issue 26: a module a newcomer can read through


def module_files() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    modules = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    """The dotted names `module` imports anywhere in its text, relative ones made absolute:
    for `from A import n`, both A and A.n (n may be a submodule or a name defined in A)."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . import x / from ..y import z
                parts = package.split(".")
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def ancestors(module: str) -> list[str]:
    """harness.report.charts -> [harness, harness.report]."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module -> the harness modules it imports (itself and its own packages left out)."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for module, path in modules.items():
        own_packages = {module, *ancestors(module)}
        for name in imported_names(module, path):
            if name not in modules:
                continue  # outside harness/, or a class or function of a module
            for target in (*ancestors(name), name):
                if target in modules and target not in own_packages:
                    graph[module].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, kept
    iterative so a deep chain cannot reach the recursion limit), each sorted."""
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
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:  # every arrow out of `node` followed
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
    return sorted(found)


def a_path_round(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """One circle through the component's first module, for the message: a -> b -> a."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component  # unreachable for a strongly connected component


def test_no_import_circle_among_harness_modules():
    graph = import_graph()
    found = circles(graph)
    message = "\n".join(
        f"  {', '.join(c)}\n    e.g. {' -> '.join(a_path_round(c, graph))}" for c in found
    )
    assert not found, f"import circles (lazy and TYPE_CHECKING imports count):\n{message}"


def test_no_module_is_too_long_to_read():
    lengths = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in module_files().items()
    }
    long = {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}
    listed = "\n".join(f"  {name}: {n} lines" for name, n in long.items())
    assert not long, f"modules over {MAX_LINES} lines; split them by what they do:\n{listed}"


# The checker itself, on graphs small enough to see the answer.


def test_circles_are_found_and_a_line_is_not_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
    assert a_path_round(["a", "b", "c"], graph) == ["a", "b", "c", "a"]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_every_kind_of_import_counts(tmp_path):
    source = tmp_path / "harness" / "report" / "model.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import charts\n"
        "from ..engines.base import Engine\n"
        "if TYPE_CHECKING:\n"
        "    from harness.store import Store\n"
        "def later():\n"
        "    import harness.levels\n"
    )
    names = set(imported_names("harness.report.model", source))
    assert {
        "harness.report",
        "harness.report.charts",
        "harness.engines.base",
        "harness.store",
        "harness.levels",
    } <= names


def test_the_package_of_a_submodule_counts_except_from_inside_it():
    graph = import_graph()
    cli_imports = {name for name in imported_names("harness.cli", module_files()["harness.cli"])}
    for name in cli_imports:
        if name.startswith("harness.commands."):
            assert "harness.commands" in graph["harness.cli"]
    for module, targets in graph.items():
        assert not set(ancestors(module)) & targets, module


# House rule (issue 29): no scientific notation anywhere a person reads. "%g" switches to it
# ("1e+07 queries a day", "1.234e+04 s"), so a `:g` format spec lives only in harness/units.py,
# whose formatters (seconds, dollars, count, number …) say every quantity in plain decimals.
G_FORMAT = re.compile(r"\{[^{}]*:[<>^=+\-#0-9,_.]*[gG]\}")


def test_no_g_format_outside_units():
    found = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE_DIR.rglob("*.py"))
        if path != PACKAGE_DIR / "units.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if G_FORMAT.search(line)
    ]
    listed = "\n".join(f"  {place}" for place in found)
    assert not found, (
        "a :g format shows 1e+07 where a person reads; use a harness.units formatter "
        f"(seconds, dollars, count, number):\n{listed}"
    )


def test_the_g_format_rule_sees_every_spelling():
    for spelled in ('f"{x:g}"', 'f"{x:.4g} s"', 'f"{a / 2**20:,.2g}"', 'f"{x:>8.3G}"'):
        assert G_FORMAT.search(spelled), spelled
    for fine in ('f"{x:.2f}"', 'f"{x:,}"', '"{log}"', 'f"{flag}"', 'f"{x!r}"'):
        assert not G_FORMAT.search(fine), fine
