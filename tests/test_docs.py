"""docs/ARCHITECTURE.md stays true: every module, name and path it cites exists.

Names are checked with `ast`, not by importing (some modules pull in PyTorch): a cited
``codenook.a.b.Name.attr`` must be a module ``codenook.a.b`` (or package) that defines
``Name`` at its top level, with ``attr`` defined in that class's body.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
DOC = ROOT / "docs" / "ARCHITECTURE.md"

_CODE = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"codenook(?:\.\w+)+")
_PATH = re.compile(r"(?:src|tests|docs|benchmarks|scripts)/[\w./-]+|pyproject\.toml")


def _module_file(src: Path, dotted: str) -> Path | None:
    """The file of module `dotted` under `src` (a package's ``__init__.py``), or None."""
    base = src.joinpath(*dotted.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _defined(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names a module or class body defines: defs, classes, assignments, imports."""
    names: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
    return names


def missing_name(src: Path, dotted: str) -> str | None:
    """Why `dotted` does not exist under `src`, or None when it does."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        path = _module_file(src, ".".join(parts[:cut]))
        if path is not None:
            break
    else:
        return f"{dotted}: no such module"
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for name in parts[cut:]:
        node = _defined(body).get(name)
        if node is None:
            return f"{dotted}: {'.'.join(parts[:cut])} defines no {name!r}"
        body = node.body if isinstance(node, ast.ClassDef) else []
        cut += 1
    return None


def cited(text: str) -> tuple[set[str], set[str]]:
    """The dotted codenook names and the repository paths a document cites in backticks."""
    names: set[str] = set()
    paths: set[str] = set()
    for code in _CODE.findall(text):
        names.update(_DOTTED.findall(code))
        paths.update(p.rstrip(".") for p in _PATH.findall(code) if "<" not in code)
    return names, paths


def test_every_cited_name_and_path_exists() -> None:
    names, paths = cited(DOC.read_text(encoding="utf-8"))
    assert len(names) > 20 and len(paths) > 5  # the document does cite the code
    wrong = [why for n in sorted(names) if (why := missing_name(SRC, n))]
    wrong += [f"{p}: no such file or folder" for p in sorted(paths) if not (ROOT / p).exists()]
    assert not wrong, "docs/ARCHITECTURE.md cites what is not there:\n" + "\n".join(wrong)


def test_the_checker_catches_a_wrong_name_and_a_wrong_path(tmp_path: Path) -> None:
    pkg = tmp_path / "codenook" / "sub"
    pkg.mkdir(parents=True)
    (tmp_path / "codenook" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .mod import Thing\n")
    (pkg / "mod.py").write_text("class Thing:\n    def go(self):\n        pass\nLIMIT = 1\n")
    assert missing_name(tmp_path, "codenook.sub.mod.Thing.go") is None
    assert missing_name(tmp_path, "codenook.sub.Thing") is None
    assert missing_name(tmp_path, "codenook.sub.mod.LIMIT") is None
    assert missing_name(tmp_path, "codenook.sub.mod.Thing.stop") == (
        "codenook.sub.mod.Thing.stop: codenook.sub.mod.Thing defines no 'stop'"
    )
    assert (
        missing_name(tmp_path, "codenook.nothere")
        == "codenook.nothere: codenook defines no 'nothere'"
    )
    assert missing_name(tmp_path / "sub", "codenook.x") == "codenook.x: no such module"
    names, paths = cited("See `codenook.sub.mod.go()` in `src/codenook/sub/mod.py`, not `x`.")
    assert names == {"codenook.sub.mod.go"}
    assert paths == {"src/codenook/sub/mod.py"}
