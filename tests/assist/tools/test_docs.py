"""Local documentation lookups: pydoc, Bash help, man; bounded, named, quiet on unknowns."""

import os
import stat
from pathlib import Path

import pytest

from codenook.assist.tools import docs
from codenook.assist.tools.docs import DocExcerpt, lookup, names_in


def test_names_in_python_questions() -> None:
    q = "How do I use subprocess.run, os.path.join and `time`, with sorted()? Also json."
    assert names_in(q, language="python") == [
        ("pydoc", "subprocess.run"),
        ("pydoc", "os.path.join"),
        ("pydoc", "time"),
        ("pydoc", "sorted"),
    ]
    # Everyday words that are also module names count only when written as code.
    assert names_in("What is the time now? Some string formatting.", language="python") == []
    assert names_in("parse this with json", language="py") == [("pydoc", "json")]
    # Modules that act on import are never looked up.
    assert names_in("what does `antigravity` do", language="python") == []


def test_names_in_bash_questions() -> None:
    q = "How do I read a file line by line, then grep -v blanks and `mapfile` it?"
    assert names_in(q, language="bash") == [("help", "read"), ("man", "grep"), ("help", "mapfile")]
    assert names_in("exit if the test fails", language="bash") == []
    assert names_in("what does `exit 3` do", language="sh") == [("help", "exit")]


def test_pydoc_subprocess_run() -> None:
    found = lookup("How do I use subprocess.run to capture output?", language="python")
    assert [(e.source, e.name) for e in found] == [("pydoc subprocess.run", "subprocess.run")]
    text = found[0].text
    assert "run(*popenargs" in text and "CompletedProcess" in text
    assert len(text) <= docs.EXCERPT_CHARS


def test_bash_help_read() -> None:
    found = lookup("How do I read a line into a variable?", language="bash")
    assert found[0] == DocExcerpt("bash help read", "read", found[0].text)
    assert found[0].text.startswith("read: read [-ers]")
    assert len(found[0].text) <= docs.EXCERPT_CHARS


def test_unknown_names_give_nothing() -> None:
    assert lookup("what does os.frobnicate_zork do", language="python") == []
    assert lookup("what does `frobnicatezork --fast` do", language="bash") == []
    assert lookup("no names here at all", language="python") == []


def test_man_runs_plain_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in `man` records how it was called and prints an overstruck, long page.
    fake = tmp_path / "man"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$MANPAGER $COLUMNS $*" > {tmp_path}/called\n'
        "printf 'GREP(1)    User Commands    GREP(1)\\n\\nN\\bNA\\bAM\\bME\\bE\\n'\n"
        'i=0; while [ $i -lt 300 ]; do echo "       line $i of the page"; i=$((i+1)); done\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    found = lookup("use grep -r", language="bash", excerpt_chars=500)
    assert [(e.source, e.name) for e in found] == [("man grep", "grep")]
    assert found[0].text.startswith("NAME\n       line 0 of the page")
    assert found[0].text.endswith("\n[...]") and len(found[0].text) <= 500
    assert (tmp_path / "called").read_text() == "cat 80 -P cat grep\n"


def test_total_is_bounded() -> None:
    q = "compare json.dumps, json.loads, subprocess.run and subprocess.Popen"
    found = lookup(q, language="python", excerpt_chars=1500, total_chars=2500)
    assert sum(len(e.text) for e in found) <= 2500
    assert len(found) >= 2
