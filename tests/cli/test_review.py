"""``codenook review``: findings first, the review streamed, a diff applied all or nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codenook.store.db import open_database
from tests.cli.jobs_support import (
    BAD_INPUTS,
    bad_input,
    history_tasks,
    one_error_line,
    run_scripted,
)
from tests.conftest import CODENOOK, run_cli
from tests.scripted import PausingBackend, ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")

MESSY = "import os\nimport sys\n\n\ndef main():\n    print(sys.argv)\n\n\nmain()\n"
FIX = (
    "The import of os is unused.\n\n```diff\n--- a/tool.py\n+++ b/tool.py\n"
    "@@ -1,3 +1,2 @@\n-import os\n import sys\n \n```\n"
)


def test_review_with_the_real_model_streams_after_the_findings(tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    proc = subprocess.Popen(
        [str(CODENOOK), "review", str(f), "--max-tokens", "48", "--temperature", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = proc.stdout.read1(65536)
    still_running = proc.poll() is None
    rest, err = proc.communicate(timeout=600)
    out = (first + rest).decode()
    assert proc.returncode == 0, err.decode()
    assert still_running, "the findings came only when everything was done"
    assert out.startswith("ruff: 1 finding(s) in tool.py:\n  1:8 F401 `os` imported but unused\n")
    assert len(out.split("\n\n", 1)[1].strip()) > 0  # the model's review follows
    assert f.read_text() == MESSY  # nothing is applied without --apply
    assert history_tasks() == [("Review tool.py (Python, 9 lines).", "review", "python")]


def test_apply_shows_the_diff_keeps_a_backup_and_counts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    code, out, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([FIX]), "review", str(f), "--apply"
    )
    assert code == 0, err
    assert out.index("F401") < out.index("The import of os") < out.index("The change to apply:")
    assert "-import os\n" in out.split("The change to apply:")[1]
    assert f"Applied to {f} (backup: {f}.orig). ruff findings: 1 -> 0." in out
    assert f.read_text() == MESSY.replace("import os\n", "")
    assert Path(f"{f}.orig").read_text() == MESSY


ADDED = "\n\ndef added():\n    return 1\n"


def test_a_function_added_during_the_answer_survives_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    backend = PausingBackend([FIX])
    editor = backend.append_while_answering(f, ADDED)
    code, out, err = run_scripted(monkeypatch, capsys, backend, "review", str(f), "--apply")
    editor.join()
    assert code == 2, err
    assert f.read_text() == MESSY + ADDED  # the user's edit is there, untouched
    proposed = tmp_path / "tool.py.codenook-proposed"
    assert proposed.read_text() == MESSY.replace("import os\n", "")
    [line] = [ln for ln in err.splitlines() if ln.startswith("codenook: error:")]
    sizes = f"{len(MESSY)} -> {len(MESSY + ADDED)} bytes"
    assert f"{f} changed while codenook was working ({sizes}" in line
    assert f"The proposed change is saved as {proposed}" in line
    assert not Path(f"{f}.orig").exists() and "Applied to" not in out


def test_a_diff_that_does_not_apply_is_reported_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    wrong = FIX.replace(
        "@@ -1,3 +1,2 @@\n-import os\n import sys\n \n",
        "@@ -5,2 +5,2 @@\n def main():\n-    print(os.environ)\n+    print(dict(os.environ))\n",
    )
    code, _, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend([wrong]), "review", str(f), "--apply"
    )
    assert code == 1
    assert "hunk 1 of 1 (starting 'def main():') does not match tool.py" in err
    assert "Nothing was changed." in err
    assert f.read_text() == MESSY
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["tool.py"]


def test_a_bash_script_named_py_is_reviewed_as_bash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "deploy.py"
    f.write_text("for f in $(ls); do\n  echo $f\ndone\nif [[ -n $1 ]]; then echo x; fi\n")
    backend = ScriptedBackend(["Quote it."])
    code, out, err = run_scripted(monkeypatch, capsys, backend, "review", str(f))
    assert code == 0, err
    assert out.startswith("ShellCheck: ")
    assert "SC2045" in out and "SC2086" in out
    assert "deploy.py reads as Bash" in err and "--lang python" in err
    assert "Bash" in backend.calls[0][0].content


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_is_one_line(kind: str, tmp_path: Path) -> None:
    path, expect = bad_input(kind, tmp_path)
    assert expect in one_error_line(run_cli("review", str(path)))


def test_unknown_language_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    assert "Unknown language 'ruby'" in one_error_line(run_cli("review", str(f), "--lang", "ruby"))


def test_review_from_stdin_lints_only_the_code_and_hands_the_request_on() -> None:
    """ "Please review this:" and then code: the linters see the code, the model the request."""
    box = "Please review this:\n" + MESSY
    proc = run_cli(
        "review", "-", "--lang", "python", "--max-tokens", "8", "--temperature", "0",
        input=box.encode(), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "invalid-syntax" not in out and "E999" not in out
    assert "1:8 F401" in out  # `import os` unused, on the code's own first line
    db = open_database()
    try:
        asked = db.execute("SELECT content FROM messages WHERE role = 'user'").fetchone()[0]
    finally:
        db.close()
    assert "The user asks: Please review this:" in asked
    assert "\n1 | import os\n" in asked and "| Please" not in asked


def test_a_review_cut_at_the_token_limit_is_marked(tmp_path: Path) -> None:
    f = tmp_path / "tool.py"
    f.write_text(MESSY)
    proc = run_cli("review", str(f), "--max-tokens", "6", "--temperature", "0", timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    note = (
        "codenook: The answer was cut at the token limit (6 tokens): it is incomplete. "
        "Allow more with --max-tokens (now 6)."
    )
    assert note in proc.stderr.decode().splitlines()
