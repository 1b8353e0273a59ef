"""The shared command-line parser: a typo gets the closest command or option."""

import pytest

from tests.conftest import run_cli


def error_line(*args: str) -> str:
    proc = run_cli(*args)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["ak", "hi"], "invalid choice: 'ak'; did you mean 'ask'? (see 'codenook --help')"),
        (["users", "ad", "bob"], "did you mean 'add'? (see 'codenook users --help')"),
        (["models", "lst"], "did you mean 'list'? (see 'codenook models --help')"),
        (
            ["ask", "--max-tokns", "3", "hi"],
            "did you mean --max-tokens? (see 'codenook ask --help')",
        ),
        (["chat", "--jsn"], "did you mean --json? (see 'codenook chat --help')"),
        # Several of users' actions take it: the help named is users'.
        (
            ["users", "add", "--pasword-stdin", "bob"],
            "did you mean --password-stdin? (see 'codenook users --help')",
        ),
        (["--verbse", "info"], "did you mean --verbose? (see 'codenook --help')"),
    ],
)
def test_a_typo_gets_the_closest_command_or_option(argv: list[str], expect: str) -> None:
    line = error_line(*argv)
    assert line.startswith("codenook: error: ")
    assert line.endswith(expect), line


def test_only_a_close_name_is_suggested() -> None:
    assert "did you mean 'ask'?" in error_line("ak")
    line = error_line("xyzzy")
    assert "did you mean" not in line
    assert "(choose from 'ask', 'gen'," in line  # nothing close: every command is listed
    assert "did you mean --json?" in error_line("chat", "--jsn")
    line = error_line("ask", "hi", "--no-such-option")
    assert "did you mean" not in line and "--no-such-option" in line
