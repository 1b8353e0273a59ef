"""``codenook complete``: only the inserted text, from the code around the cursor."""

from __future__ import annotations

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

SQUARE = "def square(x):\n    return \n\n\nprint(square(3))\n"


def test_complete_with_the_real_model_prints_only_the_insertion(tmp_path: Path) -> None:
    f = tmp_path / "sq.py"
    f.write_text(SQUARE)
    proc = run_cli(
        "complete", str(f), "--line", "2", "--column", "12", "--max-tokens", "32",
        "--temperature", "0", timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "def square" not in out and "print(square(3))" not in out
    assert f.read_text() == SQUARE
    assert history_tasks() == [("Complete sq.py at line 2, column 12.", "complete", "python")]


def test_apply_writes_the_insertion_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "sq.py"
    f.write_text(SQUARE)
    backend = ScriptedBackend(["```python\nx * x\n    print('no')\nprint('never')\n```\n"])
    code, out, err = run_scripted(
        monkeypatch, capsys, backend, "complete", str(f), "--line", "2", "--column", "12",
        "--apply",
    )  # fmt: skip
    assert code == 0, err
    assert out == "x * x\n    print('no')\n"  # the block ends at the dedent
    assert f.read_text() == SQUARE.replace("return \n", "return x * x\n    print('no')\n")
    assert Path(f"{f}.orig").read_text() == SQUARE
    assert f"Inserted into {f}" in err


def test_an_edit_during_the_answer_survives_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "sq.py"
    f.write_text(SQUARE)
    backend = PausingBackend(fills=["x * x\n"], can_fill=True)
    editor = backend.append_while_answering(f, "print(square(4))\n")
    code, _, err = run_scripted(
        monkeypatch, capsys, backend, "complete", str(f), "--line", "2", "--column", "12",
        "--apply",
    )  # fmt: skip
    editor.join()
    assert code == 2, err
    assert f.read_text() == SQUARE + "print(square(4))\n"
    proposed = tmp_path / "sq.py.codenook-proposed"
    assert proposed.read_text() == SQUARE.replace("return \n", "return x * x\n")
    assert f"{f} changed while codenook was working" in err and str(proposed) in err


def test_cursor_past_the_end_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "sq.py"
    f.write_text(SQUARE)
    line = one_error_line(run_cli("complete", str(f), "--line", "40", "--column", "1"))
    assert "past the end of the file" in line


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line(kind: str, tmp_path: Path) -> None:
    path, expect = bad_input(kind, tmp_path)
    proc = run_cli("complete", str(path), "--line", "1", "--column", "1")
    assert expect in one_error_line(proc)


QWEN_FILE = '''import os


def read_lines(path):
    """Return the lines of a text file without their newlines."""
    with open(path) as f:
        return [line.rstrip("\\n") for line in f]


def count_words(text):
    """Count the words in text."""
    return len(text.split())


def fizzbuzz(n):
    """Return 'Fizz', 'Buzz', 'FizzBuzz' or the number as text."""
    if n % 15 == 0:
        return "FizzBuzz"
    if n % 3 == 0:
        return "Fizz"
    if n % 5 == 0:
        return "Buzz"
    return str(n)


if __name__ == "__main__":
    for i in range(1, 16):
        print(fizzbuzz(i))
'''
#: Real gaps: a line whose next line the instruct model writes again, a function's last
#: line after which it writes a new function, and a branch of two lines in the middle of
#: a chain, after which it runs on to a later line of the function.
QWEN_GAPS = [
    "with open(path) as f:",
    "return len(text.split())",
    'if n % 3 == 0:\n        return "Fizz"',
]


@pytest.mark.parametrize("gap", QWEN_GAPS)
def test_fill_in_the_middle_with_a_real_coder_gives_only_the_middle(
    gap: str, qwen_model: Path, tmp_path: Path
) -> None:
    at = QWEN_FILE.index(gap)
    text = QWEN_FILE[:at] + QWEN_FILE[at + len(gap) :]
    line = text[:at].count("\n") + 1
    column = at - text.rfind("\n", 0, at)
    f = tmp_path / "tools.py"
    f.write_text(text)
    proc = run_cli(
        "complete", str(f), "--line", str(line), "--column", str(column),
        "--model", str(qwen_model), "--temperature", "0", "--seed", "1", timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    middle = proc.stdout.decode().removesuffix("\n")  # the Printer ends with a newline
    assert middle.strip(), "the model suggested nothing"
    assert "<|" not in middle and "|>" not in middle  # no marker text
    suffix = text[at:]
    first_after = next(s.strip() for s in suffix.splitlines() if s.strip())
    assert first_after not in middle  # the suffix is not written again
    assert "def " not in middle and "__main__" not in middle  # nothing past the gap
    filled = text[:at] + middle + suffix
    compile(filled, "tools.py", "exec")  # the insertion fits where it goes
    assert filled.count("\n") - text.count("\n") <= 2, middle


AVERAGE = "def average(numbers):\n    total = 0\n    \n\n\nprint(average([1, 2]))\n"
#: What small instruct models answer there (SmolLM2 does, at temperature 0): the
#: function's head again, then a body of their own in place of the lines already there.
HEAD_ECHO = "```python\ndef average(numbers):\n    return sum(numbers) / len(numbers)\n```\n"


def parses(path: Path) -> bool:
    """Whether the file compiles as Python."""
    try:
        compile(path.read_text(), str(path), "exec")
    except SyntaxError:
        return False
    return True


def test_an_echo_of_the_function_head_is_dropped_and_apply_leaves_code_that_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "avg.py"
    f.write_text(AVERAGE)
    code, out, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([HEAD_ECHO]), "complete", str(f), "--line", "3",
        "--column", "5", "--apply",
    )  # fmt: skip
    assert code == 0, err
    assert out == "return sum(numbers) / len(numbers)\n"
    assert f.read_text().count("def average") == 1 and parses(f)


def test_the_real_model_echoing_the_head_leaves_a_file_that_parses(tmp_path: Path) -> None:
    f = tmp_path / "avg.py"
    f.write_text(AVERAGE)
    proc = run_cli(
        "complete", str(f), "--line", "3", "--column", "5", "--apply", "--max-tokens", "64",
        "--temperature", "0", timeout=600,
    )  # fmt: skip
    assert proc.returncode in (0, 2), proc.stderr.decode()
    assert parses(f)
    if proc.returncode == 0:
        assert f.read_text().count("def average") == 1
        assert f.read_text() != AVERAGE and "def average" not in proc.stdout.decode()


@pytest.mark.parametrize(
    ("name", "source", "answer", "line", "column", "bad_line"),
    [
        ("sq.py", SQUARE, "```python\n(x *\n```\n", 2, 12, 2),
        ("s.sh", "#!/bin/bash\nif true; then\n  echo a\n  \nfi\n", "fi\n", 4, 3, 5),
    ],
)
def test_apply_refuses_a_completion_that_would_not_parse(
    name: str, source: str, answer: str, line: int, column: int, bad_line: int,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    f = tmp_path / name
    f.write_text(source)
    code, _, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([answer]), "complete", str(f), "--line", str(line),
        "--column", str(column), "--apply",
    )  # fmt: skip
    assert code == 2
    assert f.read_text() == source and not Path(f"{f}.orig").exists()
    proposed = tmp_path / f"{name}.codenook-proposed"
    assert proposed.exists() and proposed.read_text() != source
    errors = [ln for ln in err.splitlines() if ln.startswith("codenook: error:")]
    assert len(errors) == 1 and "Traceback" not in err
    assert f"{f} was not written: the code would not parse (line {bad_line}:" in errors[0]
    assert str(proposed) in errors[0]
