"""The shape of the house, measured: floors (import-linter), sizes and import circles (ast).

The three size and circle rules of the design notes are measured here with `ast` over
``src/codenook``: no class in ``gui`` over 400 lines, no function over 80 lines, and no two
modules that import each other (``TYPE_CHECKING`` and function-level imports included, since a
circle hidden there still ties the two modules together). The checkers are also run on small
synthetic trees so each is shown able to fail.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "codenook"

MAX_FUNCTION_LINES = 80
MAX_GUI_CLASS_LINES = 400


@dataclass(frozen=True)
class Offender:
    """One definition (or import edge) that breaks a rule, with where it is and its size."""

    path: str
    line: int
    name: str
    size: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name} ({self.size} lines)"


def _sources(src: Path, package: str) -> Iterator[tuple[Path, ast.Module]]:
    """Every Python file of `package` under `src`, parsed, in a stable order."""
    for path in sorted((src / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _rel(path: Path, src: Path) -> str:
    """`path` as written in a failure: from the repository root, or from `src` elsewhere."""
    return path.relative_to(ROOT if path.is_relative_to(ROOT) else src).as_posix()


def long_functions(src: Path, package: str, limit: int = MAX_FUNCTION_LINES) -> list[Offender]:
    """Functions and methods (nested ones too) longer than `limit` lines, decorators excluded."""
    found = []
    for path, tree in _sources(src, package):
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > limit:
                    found.append(Offender(_rel(path, src), node.lineno, node.name, size))
    return sorted(found, key=lambda o: o.size)


def long_classes(src: Path, package: str, limit: int = MAX_GUI_CLASS_LINES) -> list[Offender]:
    """Classes (nested ones too) longer than `limit` lines."""
    found = []
    for path, tree in _sources(src, package):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = node.end_lineno - node.lineno + 1
                if size > limit:
                    found.append(Offender(_rel(path, src), node.lineno, node.name, size))
    return sorted(found, key=lambda o: o.size)


def _module_name(path: Path, src: Path) -> tuple[str, bool]:
    """The dotted name of the module at `path`, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _import_targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]
) -> Iterator[str]:
    """The modules of `known` that one import statement in `module` names."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name in known:
                yield alias.name
        return
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    for alias in node.names:
        # `from pkg import name` imports the module pkg.name when there is one.
        if f"{base}.{alias.name}" in known:
            yield f"{base}.{alias.name}"
        elif base in known:
            yield base


def import_graph(src: Path, package: str) -> dict[str, dict[str, tuple[str, int]]]:
    """For each module, the modules of `package` it imports, each with the first import's place.

    Every import statement counts, wherever it stands: under ``if TYPE_CHECKING:``, inside
    a function, or at the top.
    """
    trees = {}
    for path, tree in _sources(src, package):
        name, is_package = _module_name(path, src)
        trees[name] = (path, tree, is_package)
    known = set(trees)
    graph: dict[str, dict[str, tuple[str, int]]] = {}
    for name, (path, tree, is_package) in trees.items():
        edges = graph.setdefault(name, {})
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _import_targets(node, name, is_package, known):
                    if target != name:
                        edges.setdefault(target, (_rel(path, src), node.lineno))
    return graph


def import_circles(src: Path, package: str) -> list[str]:
    """Pairs of modules that import each other, each with both imports' places."""
    graph = import_graph(src, package)
    found = []
    for a, edges in sorted(graph.items()):
        for b, (path_ab, line_ab) in sorted(edges.items()):
            if a < b and a in graph.get(b, {}):
                path_ba, line_ba = graph[b][a]
                found.append(f"{a} <-> {b} ({path_ab}:{line_ab}, {path_ba}:{line_ba})")
    return found


# The project itself.


def test_import_contract_holds() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_function_over_80_lines() -> None:
    found = long_functions(SRC, PACKAGE)
    if found:
        pytest.fail(f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(map(str, found)))


def test_no_gui_class_over_400_lines() -> None:
    found = long_classes(SRC, f"{PACKAGE}/gui")
    if found:
        pytest.fail(f"gui classes over {MAX_GUI_CLASS_LINES} lines:\n" + "\n".join(map(str, found)))


def test_no_two_modules_import_each_other() -> None:
    found = import_circles(SRC, PACKAGE)
    if found:
        pytest.fail("modules that import each other:\n" + "\n".join(found))


# The checkers, shown able to fail on small trees.


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _function(name: str, lines: int, indent: str = "") -> str:
    """Source of a function that is exactly `lines` lines long, decorator not counted."""
    body = "".join(f"{indent}    x{i} = {i}\n" for i in range(lines - 2))
    return f"{indent}@staticmethod\n{indent}def {name}():\n{body}{indent}    return 0\n"


def test_long_function_checker_flags_81_lines_not_80(tmp_path: Path) -> None:
    src = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/ok.py": _function("fits", 80),
            "pkg/bad.py": "class Holder:\n" + _function("too_long", 81, indent="    "),
            "pkg/nested.py": "async def outer():\n" + _function("inner", 82, indent="    "),
        },
    )
    found = long_functions(src, "pkg")
    assert [str(o) for o in found] == [
        "pkg/bad.py:3 too_long (81 lines)",
        "pkg/nested.py:3 inner (82 lines)",
        "pkg/nested.py:1 outer (84 lines)",
    ]


def test_class_checker_flags_401_lines(tmp_path: Path) -> None:
    body = "".join(f"    a{i} = {i}\n" for i in range(399))
    src = _write(
        tmp_path,
        {
            "pkg/gui/__init__.py": "",
            "pkg/gui/big.py": f"class Big:\n{body}    b = 0\n",
            "pkg/gui/fits.py": f"class Fits:\n{body}",
        },
    )
    assert [str(o) for o in long_classes(src, "pkg/gui")] == ["pkg/gui/big.py:1 Big (401 lines)"]


def test_circle_checker_sees_type_checking_and_function_imports(tmp_path: Path) -> None:
    src = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.b import B\n",
            "pkg/b.py": "from pkg import a\n",
            "pkg/sub/__init__.py": "from . import c\n",
            "pkg/sub/c.py": "def f():\n    from .. import sub\n",
            "pkg/d.py": "import pkg.e\n",
            "pkg/e.py": "from pkg.d import thing\n",
            "pkg/f.py": "from pkg import a\n",
        },
    )
    assert import_circles(src, "pkg") == [
        "pkg.a <-> pkg.b (pkg/a.py:3, pkg/b.py:1)",
        "pkg.d <-> pkg.e (pkg/d.py:1, pkg/e.py:1)",
        "pkg.sub <-> pkg.sub.c (pkg/sub/__init__.py:1, pkg/sub/c.py:2)",
    ]


def test_relative_imports_resolve_against_the_right_package(tmp_path: Path) -> None:
    src = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/x/__init__.py": "from .y import name\n",
            "pkg/x/y.py": "from ..z import thing\n",
            "pkg/z.py": "",
        },
    )
    graph = import_graph(src, "pkg")
    assert set(graph["pkg.x"]) == {"pkg.x.y"}
    assert set(graph["pkg.x.y"]) == {"pkg.z"}
    assert graph["pkg.z"] == {}
