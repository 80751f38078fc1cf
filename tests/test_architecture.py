"""The tree is the architecture: the layer contract in pyproject.toml holds, and no module imports itself back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

grimp = pytest.importorskip("grimp")
importlinter = pytest.importorskip("importlinter")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]


def test_the_layer_contract_is_kept() -> None:
    """An upward import fails here, and import-linter's report names the importing line."""
    # In a child process: import-linter configures logging, which would silence the package's logger here.
    script = (
        "import sys; from importlinter.cli import lint_imports; "
        f"sys.exit(lint_imports(config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"an import breaks the layers in pyproject.toml:\n{done.stdout}{done.stderr}"


def _ignored_edges() -> set[tuple[str, str]]:
    edges = set()
    for contract in _contract()["contracts"]:
        for line in contract.get("ignore_imports", []):
            importer, _, imported = line.partition(" -> ")
            edges.add((importer.strip(), imported.strip()))
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


def test_no_module_imports_itself_back() -> None:
    """No import cycles, lazy imports inside functions included (only the contract's reviewed exceptions aside)."""
    graph = grimp.build_graph("wattprint", exclude_type_checking_imports=True)
    ignored = _ignored_edges()
    edges = {
        module: {other for other in graph.find_modules_directly_imported_by(module) if (module, other) not in ignored}
        for module in graph.modules
    }
    assert _cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_layer_is_a_package_and_no_module_sits_flat() -> None:
    """Only the package's own plumbing (private modules, the version, ``__main__``) stays at the top."""
    package = ROOT / "src" / "wattprint"
    flat = sorted(p.name for p in package.glob("*.py") if not p.name.startswith("_"))
    assert flat == []
    layers = [name.strip() for layer in _contract()["contracts"][0]["layers"] for name in layer.split("|")]
    for layer in layers:
        assert (package / layer.removeprefix("wattprint.") / "__init__.py").is_file(), layer


def test_tests_are_laid_out_like_the_code_and_share_helpers_only_through_fakes() -> None:
    """Each layer's tests sit in tests/<layer>/; a test module imports no other test module."""
    import ast

    tests = ROOT / "tests"
    package = ROOT / "src" / "wattprint"
    outside = ("fakes", "__pycache__", "js")  # js: the JavaScript client's tests (clients/js, outside the package)
    for folder in sorted(p for p in tests.iterdir() if p.is_dir() and p.name not in outside):
        assert (package / folder.name / "__init__.py").is_file(), f"tests/{folder.name} names no layer of the package"
    offenders = []
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names
                          if name.rsplit(".", 1)[-1].startswith("test_")]
    assert offenders == []


def test_every_test_module_has_a_name_of_its_own() -> None:
    """Test folders are not packages: two test modules with one name stop pytest's collection of the whole suite."""
    tests = Path(__file__).resolve().parent
    seen: dict[str, list[str]] = {}
    for path in tests.rglob("test_*.py"):
        seen.setdefault(path.name, []).append(str(path.relative_to(tests)))
    assert not {name: paths for name, paths in seen.items() if len(paths) > 1}
