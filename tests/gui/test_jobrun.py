"""The worker's side of a window job: attached files read, Debug's scratch file written."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook import config
from codenook.assist.tools.files import SourceFileError
from codenook.assist.tools.sandbox import Limits
from codenook.gui.dispatch import JobRequest, plan
from codenook.gui.jobrun import prepare_options

LIMITS = Limits(timeout=3.0)


def test_an_attached_file_joins_the_question_as_a_named_block(tmp_path: Path) -> None:
    src = tmp_path / "tool.py"
    src.write_text("def double(x):\n    return x * 2\n", encoding="utf-8")
    options = prepare_options(plan("Ask", "Auto", "What does it do?", str(src)), LIMITS)
    assert options["question"].startswith("What does it do?\n\ntool.py:\n```")
    assert "return x * 2" in options["question"]


def test_debug_on_pasted_code_writes_a_scratch_file_and_gets_the_limits() -> None:
    options = prepare_options(plan("Debug", "Auto", "print(1 / 0)"), LIMITS)
    path = Path(options["path"])
    assert path.parent == config.paths().cache / "scratch" and path.name == "snippet.py"
    assert path.read_text(encoding="utf-8") == "print(1 / 0)\n"
    assert options["limits"] is LIMITS


def test_complete_on_an_attached_file_reads_it_and_ends_at_its_end(tmp_path: Path) -> None:
    src = tmp_path / "part.py"
    src.write_text("def f():\n    ret", encoding="utf-8")
    options = prepare_options(JobRequest("complete", {"path": str(src)}), LIMITS)
    assert options["source"] == "def f():\n    ret"
    assert (options["line"], options["column"]) == (2, 8)


def test_a_binary_attachment_is_refused_on_the_worker(tmp_path: Path) -> None:
    src = tmp_path / "blob.py"
    src.write_bytes(b"\x00\x01\x02")
    with pytest.raises(SourceFileError):
        prepare_options(plan("Ask", "Auto", "What is it?", str(src)), LIMITS)
