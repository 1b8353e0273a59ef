"""``codenook chat`` with questions piped on stdin."""

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("account")


def test_chat_answers_each_piped_line() -> None:
    proc = run_cli(
        "chat",
        "--max-tokens",
        "12",
        "--temperature",
        "0",
        input=b"What is Bash?\n\nWhat is Python?\n",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    answers = [a for a in proc.stdout.decode().split("\n\n") if a.strip()]
    assert len(answers) >= 2


def test_exit_word_ends_the_chat() -> None:
    proc = run_cli(
        "chat", "--max-tokens", "8", "--temperature", "0", input=b"/exit\nWhat is Python?\n"
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == b""


def test_bad_line_is_reported_and_the_chat_goes_on() -> None:
    proc = run_cli(
        "chat", "--max-tokens", "8", "--temperature", "0", input=b"\xff\xfe bad\nWhat is Python?\n"
    )
    assert proc.returncode == 0
    assert b"not UTF-8" in proc.stderr
    assert proc.stdout.strip()


def test_plain_codenook_opens_chat() -> None:
    proc = run_cli(input=b"/exit\n")
    assert proc.returncode == 0, proc.stderr.decode()
