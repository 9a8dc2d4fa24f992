"""The shape of the package holds: layers, no import cycles, and imports that say why.

`docs/architecture.md` says which module owns what and which way imports may point;
these tests make that page true. The layers are import-linter contracts in
pyproject.toml (`[tool.importlinter]`); grimp, its import graph, also sees imports
inside functions, so a cycle hidden by a late import fails here too.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp", reason="import-linter (the [test] extra) checks the layers")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pytest_ftdata"


def test_layers_contract_is_kept():
    result = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_in_a_circle():
    graph = grimp.build_graph("pytest_ftdata")
    modules = {module for module in graph.modules if module.startswith("pytest_ftdata")}
    edges = {module: {m for m in graph.find_modules_directly_imported_by(module) if m in modules} for module in modules}
    # A package's own __init__ re-exporting its submodules is not a cycle of code.
    for module in modules:
        edges[module] = {m for m in edges[module] if not module.startswith(m + ".")}
    assert _strongly_connected(edges) == []


def _late_imports():
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        yield path.relative_to(ROOT).as_posix(), inner.lineno, lines


def test_every_import_inside_a_function_says_why():
    unexplained = []
    for path, line, lines in _late_imports():
        here, above = lines[line - 1], lines[line - 2] if line > 1 else ""
        if "#" not in here and not above.strip().startswith("#"):
            unexplained.append(f"{path}:{line}: {here.strip()}")
    assert unexplained == [], "imports inside functions need a comment saying why:\n" + "\n".join(unexplained)


# -- the page that explains the house ------------------------------------------------------------

ARCHITECTURE_PAGE = ROOT / "docs" / "architecture.md"


def _module_files() -> list[str]:
    """Every module of the package, as the page names it (`plugin.py`, `families/schema.py`)."""
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py"))


def test_every_module_is_named_on_the_architecture_page():
    page = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    missing = [name for name in _module_files() if f"`{name}`" not in page]
    assert missing == [], f"docs/architecture.md does not say what these modules own: {missing}"


def test_the_architecture_page_shows_the_layers_of_the_contract():
    try:  # Python 3.11+
        import tomllib  # the stdlib TOML reader; tomli on 3.10
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    layers = next(contract["layers"] for contract in contracts if contract["type"] == "layers")
    page = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \|", page, re.M)
    # The table lists the layers top to bottom, exactly as the contract does.
    assert [row.replace("\\|", "|") for row in rows[: len(layers)]] == layers
