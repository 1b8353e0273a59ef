"""Where llama.cpp's own programs are ('make llama-tools'), and the message when they are not."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
from pathlib import Path

import pytest

from codenook.engine import llamatools
from codenook.errors import ModelError

VERSION = importlib.metadata.version("llama-cpp-python")


def test_missing_tools_name_the_make_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(llamatools.ENV, str(tmp_path))
    with pytest.raises(ModelError, match="run 'make llama-tools'") as caught:
        llamatools.tool_path("rpc-server")
    assert "it is missing" in str(caught.value) and str(tmp_path / "bin") in str(caught.value)


def test_tools_of_another_llama_cpp_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(llamatools.ENV, str(tmp_path))
    (tmp_path / "bin").mkdir()
    tool = tmp_path / "bin" / "llama-server"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    (tmp_path / "VERSION").write_text("0.0.1\n")
    with pytest.raises(ModelError, match=r"they are for 0\.0\.1"):
        llamatools.tool_path("llama-server")
    (tmp_path / "VERSION").write_text(VERSION + "\n")
    assert llamatools.tool_path("llama-server") == tool
    with pytest.raises(ValueError, match=r"unknown llama\.cpp tool"):
        llamatools.tool_path("llama-quantize")


@pytest.mark.parametrize("name", llamatools.TOOLS)
def test_the_built_tools_run(name: str) -> None:
    # Built by 'make llama-tools' (make test depends on it) from this llama-cpp-python.
    assert os.environ.get(llamatools.ENV) is None
    path = llamatools.tool_path(name)
    done = subprocess.run([str(path), "--help"], capture_output=True, timeout=60, check=False)
    assert b"--port" in done.stdout + done.stderr or b"--model" in done.stdout + done.stderr
