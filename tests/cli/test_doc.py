"""``codenook doc``: docstrings and comments inserted without touching anything else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.cli.jobs_support import (
    BAD_INPUTS,
    bad_input,
    history_tasks,
    one_error_line,
    run_scripted,
)
from tests.conftest import run_cli
from tests.scripted import PausingBackend, ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")

SOURCE = (
    '"""Small maths."""\n\nimport math\n\n\ndef area(r):\n    return math.pi * r * r\n\n\n'
    "class Shape:\n    sides = 0\n\n    def describe(self):\n        return f'{self.sides} sides'\n"
)


def without_new_docstrings(text: str) -> str:
    """``text`` with every docstring of a function or class removed, whole lines at a time."""
    lines = text.splitlines(keepends=True)
    drop: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and ast.get_docstring(node):
            doc = node.body[0]
            drop.update(range(doc.lineno - 1, doc.end_lineno or doc.lineno))
    return "".join(ln for i, ln in enumerate(lines) if i not in drop)


def test_doc_with_the_real_model_changes_only_docstrings(tmp_path: Path) -> None:
    f = tmp_path / "shapes.py"
    f.write_text(SOURCE)
    proc = run_cli("doc", str(f), "--max-tokens", "24", "--temperature", "0", timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    new = proc.stdout.decode()
    ast.parse(new)
    assert without_new_docstrings(new) == SOURCE
    assert f.read_text() == SOURCE  # printed, not written
    err = proc.stderr.decode()
    assert "== function area (line 6)" in err and "== method Shape.describe (line 13)" in err
    tasks = history_tasks()
    assert [t[1:] for t in tasks] == [("document", "python")] * 3


def test_write_keeps_a_backup_and_bash_gets_comments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "backup.py"  # Bash, whatever its name says
    script = '#!/bin/bash\nsave() {\n  cp -- "$1" "$1.bak"\n}\nsave "$@"\n'
    f.write_text(script)
    backend = ScriptedBackend(["Usage: backup.py FILE", "Copy FILE to FILE.bak."])
    code, out, err = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--write")
    assert code == 0, err
    assert f.read_text() == (
        "#!/bin/bash\n# Usage: backup.py FILE\n# Copy FILE to FILE.bak.\nsave() {\n"
        '  cp -- "$1" "$1.bak"\n}\nsave "$@"\n'
    )
    assert Path(f"{f}.orig").read_text() == script
    assert f"Wrote {f} (backup: {f}.orig)." in out


def test_a_function_added_during_the_answer_survives_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "backup.sh"
    script = '#!/bin/bash\nsave() {\n  cp -- "$1" "$1.bak"\n}\nsave "$@"\n'
    f.write_text(script)
    added = 'restore() {\n  cp -- "$1.bak" "$1"\n}\n'
    backend = PausingBackend(["Usage: backup.sh FILE", "Copy FILE to FILE.bak."])
    editor = backend.append_while_answering(f, added)
    code, out, err = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--write")
    editor.join()
    assert code == 2, err
    assert f.read_text() == script + added
    proposed = tmp_path / "backup.sh.codenook-proposed"
    assert proposed.read_text() == (
        "#!/bin/bash\n# Usage: backup.sh FILE\n# Copy FILE to FILE.bak.\nsave() {\n"
        '  cp -- "$1" "$1.bak"\n}\nsave "$@"\n'
    )
    [line] = [ln for ln in err.splitlines() if ln.startswith("codenook: error:")]
    assert f"{f} changed while codenook was working" in line
    assert f"saved as {proposed}" in line
    assert not Path(f"{f}.orig").exists() and "Wrote" not in out


def test_a_readme_that_appears_during_the_answer_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "shapes.py"
    f.write_text(SOURCE)
    md = tmp_path / "shapes.md"
    backend = PausingBackend(["# shapes\n\nAreas of circles."])
    editor = backend.append_while_answering(md, "# my own notes\n")
    code, _, err = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--readme", "--write")
    editor.join()
    assert code == 2, err
    assert md.read_text() == "# my own notes\n"
    assert "shapes.md appeared while codenook was working" in err
    assert (tmp_path / "shapes.md.codenook-proposed").read_text().startswith("# shapes")


def test_readme_is_written_next_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "shapes.py"
    f.write_text(SOURCE)
    backend = ScriptedBackend(["# shapes\n\nAreas of circles."])
    code, out, _ = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--readme", "--write")
    assert code == 0
    assert out.startswith("# shapes\n\nAreas of circles.")
    assert (tmp_path / "shapes.md").read_text() == "# shapes\n\nAreas of circles.\n"
    assert f.read_text() == SOURCE


def test_a_file_that_does_not_parse_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "broken.py"
    f.write_text("def f(:\n    pass\n")
    line = one_error_line(run_cli("doc", str(f), "--max-tokens", "8"))
    assert "broken.py: The file does not parse as Python (line 1)" in line


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line(kind: str, tmp_path: Path) -> None:
    path, expect = bad_input(kind, tmp_path)
    assert expect in one_error_line(run_cli("doc", str(path)))


def test_unknown_style_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    assert "--style" in one_error_line(run_cli("doc", str(f), "--style", "pep"))


class CutBackend(ScriptedBackend):
    """Every answer ends at the token limit, as a real model's does at its limit."""

    def _stream(self, text: str):
        stream = super()._stream(text)
        stream.result.finish_reason = "length"
        return stream


def test_a_docstring_cut_at_the_token_limit_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "area.py"
    source = '"""Areas."""\n\n\ndef area(r):\n    return 3 * r * r\n'
    f.write_text(source)
    backend = CutBackend(['```python\ndef area(r):\n    """Return the area of a circle of'])
    code, _, err = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--write")
    assert code == 0, err
    assert f.read_text() == source and not Path(f"{f}.orig").exists()
    assert "The answer for function area (line 4) was cut at the token limit" in err
    assert "it was left out" in err


def test_a_fence_left_open_never_reaches_the_docstring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "area.py"
    f.write_text('"""Areas."""\n\n\ndef area(r):\n    return 3 * r * r\n')
    backend = ScriptedBackend(["```text\nReturn the area of a circle of radius r."])
    code, _, err = run_scripted(monkeypatch, capsys, backend, "doc", str(f), "--write")
    assert code == 0, err
    written = f.read_text()
    assert "```" not in written
    assert (
        ast.get_docstring(ast.parse(written).body[1]) == "Return the area of a circle of radius r."
    )


def test_a_summary_cut_at_the_token_limit_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "area.py"
    f.write_text("def area(r):\n    return 3 * r * r\n")
    backend = CutBackend(["# area.py\n\nComputes the area of"])
    code, _, err = run_scripted(
        monkeypatch, capsys, backend, "doc", str(f), "--readme", "--write", "--max-tokens", "5"
    )
    assert code == 0, err
    assert not (tmp_path / "area.md").exists()
    assert (
        f"The summary was cut at the token limit, so {tmp_path / 'area.md'} was not written." in err
    )
    assert "The answer was cut at the token limit (3 tokens): it is incomplete." in err
