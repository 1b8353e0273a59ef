"""``codenook debug``: the real error first, then its cause and a fix; --verify checks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook.cli.main import build_parser, parse
from tests.cli.jobs_support import (
    BAD_INPUTS,
    bad_input,
    history_tasks,
    one_error_line,
    run_scripted,
)
from tests.conftest import run_cli
from tests.scripted import ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")

DIVIDE = (
    "import sys\n\n\ndef ratio(a, b):\n    return a / b\n\n\nprint(ratio(1, int(sys.argv[1])))\n"
)
FIX = (
    "b can be 0.\n```diff\n--- a/div.py\n+++ b/div.py\n@@ -4,2 +4,2 @@\n def ratio(a, b):\n"
    "-    return a / b\n+    return a / b if b else 0.0\n```\n"
)


def test_debug_with_the_real_model_prints_the_error_first(tmp_path: Path) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    proc = run_cli(
        "debug", str(f), "--max-tokens", "40", "--temperature", "0", "--", "0", timeout=600
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert lines[0] == "ZeroDivisionError: division by zero"
    assert lines[1] == "  at div.py:5 (in ratio)"
    assert lines[2].startswith("(ran in the sandbox: exit 1")
    assert len(proc.stdout.decode().split("\n\n", 1)[1].strip()) > 0  # then the answer
    tasks = history_tasks()
    assert tasks == [("Debug div.py: ZeroDivisionError: division by zero", "debug", "python")]


def test_verify_runs_the_fixed_copy_and_says_the_error_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    code, out, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([FIX]), "debug", str(f), "--verify", "--", "0"
    )
    assert code == 0, err
    assert out.startswith("ZeroDivisionError: division by zero\n  at div.py:5 (in ratio)\n")
    assert "Verifying this fix on a copy:" in out
    assert "The error is gone: the fixed copy ran without an error (exit 0)." in out
    assert f.read_text() == DIVIDE


def test_verify_says_when_the_error_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "div.py"
    f.write_text(DIVIDE)
    useless = FIX.replace("if b else 0.0", "+ 0")
    code, out, _ = run_scripted(
        monkeypatch, capsys, ScriptedBackend([useless]), "debug", str(f), "--verify", "--", "0"
    )
    assert code == 1
    assert "The error is still there: ZeroDivisionError: division by zero at div.py:5" in out


def test_a_pasted_bash_error_is_read_without_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "deploy.sh"
    f.write_text('#!/bin/bash\nset -e\ncp "$1" /srv/\n')
    pasted = tmp_path / "error.txt"
    pasted.write_text("cp: missing destination\n./deploy.sh: line 3: /srv/: Is a directory\n")
    backend = ScriptedBackend(["Check the argument."])
    code, out, err = run_scripted(
        monkeypatch, capsys, backend, "debug", str(f), "--error-file", str(pasted)
    )
    assert code == 0, err
    assert out.startswith("Bash error: /srv/: Is a directory\n  at deploy.sh:3\n")
    assert "sandbox" not in out
    assert "Is a directory" in backend.user_messages()[0]


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line(kind: str, tmp_path: Path) -> None:
    path, expect = bad_input(kind, tmp_path)
    assert expect in one_error_line(run_cli("debug", str(path)))


def test_a_bad_error_file_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "ok.py"
    f.write_text("print(1)\n")
    empty = tmp_path / "err.txt"
    empty.write_text("")
    assert "empty" in one_error_line(run_cli("debug", str(f), "--error-file", str(empty)))


def test_arguments_after_double_dash_follow_options_after_the_file() -> None:
    parser = build_parser()
    args = parse(parser, ["debug", "f.py", "--verify", "--", "-x", "two words"])
    assert (args.file, args.verify, args.args) == ("f.py", True, ["-x", "two words"])
    args = parse(parser, ["run", "f.py", "--timeout", "3", "--", "0"])
    assert (args.timeout, args.args) == (3.0, ["0"])
    assert parse(parser, ["ask", "--", "-x"]).question == "-x"  # what parsed before still does
