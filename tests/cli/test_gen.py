"""``codenook gen``: code from a description, checked, retried once, written only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.jobs_support import history_tasks, one_error_line, run_scripted
from tests.conftest import run_cli
from tests.scripted import ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")

BAD = "```python\nimport os\nprint(undefined_name)\n```\n"
GOOD = "```python\nprint('hello')\n```\n"


def test_gen_with_the_real_model_reports_its_checks(tmp_path: Path) -> None:
    out_file = tmp_path / "hello.py"
    proc = run_cli(
        "gen",
        "Print hello.",
        "--lang",
        "python",
        "-o",
        str(out_file),
        "--max-tokens",
        "48",
        "--temperature",
        "0",
        timeout=600,
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode in (0, 1), err
    assert "Traceback" not in err
    assert "Attempt 1: the code " in out
    passed = proc.returncode == 0
    # The exit status and the last verdict say the same thing.
    last = [ln for ln in out.splitlines() if ln.startswith("Attempt ")][-1]
    assert ("passes the checks" in last) == passed
    tasks = history_tasks()
    assert {t[1:] for t in tasks} == {("generate", "python")}
    assert tasks[0][0] == "Print hello."
    if out_file.exists():
        assert f"Wrote {out_file}" in out
    else:
        assert "No code to write" in err


def test_a_failing_first_answer_gets_one_more_turn_with_the_diagnostics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = ScriptedBackend([BAD, GOOD])
    out_file = tmp_path / "hello.py"
    code, out, err = run_scripted(
        monkeypatch, capsys, backend, "gen", "say hello", "--lang", "py", "-o", str(out_file)
    )
    assert code == 0, err
    second = backend.user_messages()[1]
    assert "F401" in second and "F821" in second and "undefined_name" in second
    assert out.index("Attempt 1: the code fails the checks (2):") < out.index("Asking the model")
    assert "Attempt 2: the code passes the checks." in out
    assert out_file.read_text() == "print('hello')\n"


def test_gen_exits_1_when_the_final_code_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = ScriptedBackend(["```bash\nif true; then\n```\n"] * 2)
    code, out, _ = run_scripted(monkeypatch, capsys, backend, "gen", "x", "--lang", "bash")
    assert code == 1
    assert "Attempt 2: the code fails the checks" in out and "syntax" in out


def test_gen_never_writes_over_a_file_without_force(tmp_path: Path) -> None:
    f = tmp_path / "keep.py"
    f.write_text("mine\n")
    line = one_error_line(run_cli("gen", "x", "--lang", "python", "-o", str(f)))
    assert "exists; add --force" in line
    assert f.read_text() == "mine\n"


def test_gen_needs_a_language() -> None:
    assert "--lang" in one_error_line(run_cli("gen", "x"))


def test_gen_refuses_an_empty_description() -> None:
    assert "empty" in one_error_line(run_cli("gen", "  ", "--lang", "bash"))
