"""``codenook gen``: code from a description, checked, retried once, written only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.jobs_support import history_tasks, one_error_line, run_scripted
from tests.conftest import run_cli
from tests.scripted import PausingBackend, ScriptedBackend

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
    else:  # no code came back, or it was cut at the token limit (then it is kept aside)
        kept = Path(f"{out_file}.codenook-proposed")
        assert "No code to write" in err or (
            f"so {out_file} was not written" in err and kept.exists()
        )


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


def test_a_file_that_appears_during_the_answer_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    f = work / "hello.py"
    backend = PausingBackend([GOOD])
    editor = backend.append_while_answering(f, "mine\n")
    code, out, err = run_scripted(
        monkeypatch, capsys, backend, "gen", "say hello", "--lang", "python", "-o", str(f)
    )
    editor.join()
    assert code == 2, err
    assert "Wrote" not in out
    assert f.read_text() == "mine\n"
    proposed = work / "hello.py.codenook-proposed"
    assert proposed.read_text() == "print('hello')\n"
    assert f"{f} appeared while codenook was working" in err and str(proposed) in err
    assert sorted(p.name for p in work.iterdir()) == ["hello.py", proposed.name]


def test_a_dangling_link_at_output_is_refused_and_its_target_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "elsewhere" / "planted.py"
    target.parent.mkdir()
    link = tmp_path / "out.py"
    link.symlink_to(target)
    backend = ScriptedBackend([GOOD])
    code, _, err = run_scripted(
        monkeypatch, capsys, backend, "gen", "x", "--lang", "python", "-o", str(link)
    )
    assert code == 2
    assert f"{link} is a symbolic link to {target}, which does not exist" in err
    assert "--force" in err
    assert not target.exists() and link.is_symlink()
    assert backend.calls == []  # refused before the model was asked


def test_force_replaces_a_link_at_output_never_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "theirs.py"
    target.write_text("theirs\n")
    link = tmp_path / "out.py"
    link.symlink_to(target)
    code, out, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([GOOD]), "gen", "x", "--lang", "python",
        "-o", str(link), "--force",
    )  # fmt: skip
    assert code == 0, err
    assert not link.is_symlink() and link.read_text() == "print('hello')\n"
    assert target.read_text() == "theirs\n"
    assert f"it was a symbolic link to {target}; the link was replaced" in out


def test_gen_needs_a_language() -> None:
    assert "--lang" in one_error_line(run_cli("gen", "x"))


def test_gen_refuses_an_empty_description() -> None:
    assert "empty" in one_error_line(run_cli("gen", "  ", "--lang", "bash"))


class CutBackend(ScriptedBackend):
    """Every answer ends at the token limit, as a real model's does at --max-tokens."""

    def _stream(self, text: str):
        stream = super()._stream(text)
        stream.result.finish_reason = "length"
        return stream


def test_an_answer_cut_at_the_token_limit_is_not_written_as_if_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Code that stops at the limit may still parse: it is kept aside, never said to pass."""
    out_file = tmp_path / "hello.py"
    code, out, err = run_scripted(
        monkeypatch, capsys, CutBackend(["```python\nprint('hello')\n"]), "gen", "say hello",
        "--lang", "python", "-o", str(out_file), "--no-retry",
    )  # fmt: skip
    assert code == 1, err
    assert not out_file.exists()
    assert Path(f"{out_file}.codenook-proposed").read_text() == "print('hello')\n"
    assert "passes the checks" not in out and "Attempt 1: the code fails the checks" in out
    assert "The answer was cut at the token limit (2 tokens): it is incomplete." in err
    assert f"so {out_file} was not written" in err


def test_code_that_does_not_parse_is_refused_and_kept_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "loop.sh"
    broken = "```bash\nfor f in *; do\n  echo $f\n```\n"
    code, _, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([broken]), "gen", "loop", "--lang", "bash",
        "-o", str(out_file), "--no-retry",
    )  # fmt: skip
    assert code == 2
    assert not out_file.exists()
    kept = Path(f"{out_file}.codenook-proposed")
    assert kept.read_text() == "for f in *; do\n  echo $f\n"
    errors = [ln for ln in err.splitlines() if ln.startswith("codenook: error:")]
    assert errors == [
        f"codenook: error: {out_file} was not written: the code would not parse "
        f"(line 3: syntax error: unexpected end of file); the proposal is kept as {kept}."
    ]
