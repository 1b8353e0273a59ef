"""Helpers for the job commands' tests: bad inputs, the history, a scripted model in-process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from codenook import applog
from codenook.cli import jobkit
from codenook.cli.main import main
from codenook.engine.backend import Backend
from tests.conftest import run_cli

#: Each bad input a user can give as FILE, and a word the one-line refusal must contain.
BAD_INPUTS = {
    "binary": (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
    "not-utf8": (b"name = 'caf\xe9'\n", "not UTF-8"),
    "empty": (b"", "empty"),
    "5MB": (b"x = 1\n" * 950_000, "MB"),
    "missing": (None, "no such file"),
    "directory": (None, "directory"),
}


def bad_input(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A path that holds the bad input ``kind``, and what the error must say."""
    data, expect = BAD_INPUTS[kind]
    if kind == "missing":
        return tmp_path / "absent.py", expect
    if kind == "directory":
        return tmp_path, expect
    path = tmp_path / f"{kind}.py"
    assert data is not None
    path.write_bytes(data)
    return path, expect


def one_error_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The single ``codenook: error:`` line of a refused command (exit 2, no traceback)."""
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("codenook: error: ")
    assert proc.stdout == b""
    return lines[0]


def history_tasks() -> list[tuple[str, str | None, str | None]]:
    """(title, task, language) of each assistant message, through ``codenook history``."""
    listed = run_cli("history", "list", "--json")
    assert listed.returncode == 0, listed.stderr.decode()
    found = []
    for conv in json.loads(listed.stdout):
        shown = run_cli("history", "show", str(conv["id"]), "--json")
        assert shown.returncode == 0, shown.stderr.decode()
        for m in json.loads(shown.stdout)["messages"]:
            if m["role"] == "assistant":
                found.append((conv["title"], m.get("task"), m.get("language")))
    return found


def run_scripted(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    backend: Backend,
    *args: str,
) -> tuple[int, str, str]:
    """Run ``codenook ARGS`` in this process with ``backend`` as the model."""
    monkeypatch.setattr(jobkit, "open_backend", lambda _model: backend)
    try:
        code = main(list(args))
    finally:
        applog.shutdown_logging()  # main() opened the error log in this test's home
    out, err = capsys.readouterr()
    return code, out, err
