"""The one check of code before codenook writes it: Python compiles, Bash passes bash -n."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook.assist.tools.check import (
    UnparsableCodeError,
    breaks,
    check_code,
    ensure_parses,
)
from codenook.assist.tools.files import write_source


def test_python_and_bash_are_parsed_for_real() -> None:
    assert check_code("def f(x):\n    return x\n", language="python") is None
    bad = check_code("def f(x):\ndef f(x):\n    return x\n", language="python")
    assert bad is not None and bad.line == 2 and "indented block" in bad.message
    assert check_code("if true; then\n  echo hi\nfi\n", language="bash") is None
    unclosed = check_code("echo ok\nif true; then\n  echo hi\n", language="bash")
    assert unclosed is not None and unclosed.line == 4 and "\n" not in unclosed.message


def test_an_error_the_file_already_had_is_not_held_against_the_change() -> None:
    """Half-written code stays writable; a new error is refused."""
    old = "def f(x):\n    \n"  # the body is still to come
    assert breaks("def f(x):\n    y = 1\n", language="python", old=old) is None
    still = "import os\ndef f(x):\n    \n"
    assert breaks(still, language="python", old=old) is None
    worse = breaks("def f(x):\n    def f(x):\n    y = 1\n", language="python", old=old)
    assert worse is not None and worse.line == 3
    assert breaks("x = (\n", language="python") is not None  # a new file has no excuse


def test_refused_code_is_kept_aside_and_the_file_left_alone(tmp_path: Path) -> None:
    f = tmp_path / "a.py"
    f.write_text("x = 1\n")
    with pytest.raises(UnparsableCodeError) as caught:
        write_source(f, "x = (\n", language="python", old="x = 1\n")
    assert f.read_text() == "x = 1\n"
    proposed = tmp_path / "a.py.codenook-proposed"
    assert proposed.read_text() == "x = (\n"
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{f} was not written: the code would not parse (line 1:")
    assert str(proposed) in message and caught.value.proposed == proposed
    assert not Path(f"{f}.orig").exists()
    with pytest.raises(UnparsableCodeError):  # a second refusal does not overwrite the first
        ensure_parses(f, "fi\n", language="bash")
    assert proposed.read_text() == "x = (\n"
    assert (tmp_path / "a.py.codenook-proposed.1").read_text() == "fi\n"
    write_source(f, "x = 2\n", language="python", old="x = 1\n")
    assert f.read_text() == "x = 2\n"
