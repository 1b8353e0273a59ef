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


def test_piped_answers_are_kept_apart_by_their_questions() -> None:
    questions = ["What is Bash?", "What is Python?", "What is a list?"]
    proc = run_cli(
        "chat",
        "--max-tokens",
        "12",
        "--temperature",
        "0",
        input="\n".join(questions).encode() + b"\n",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert out.startswith(f"you> {questions[0]}\n")
    # Each answer ends with a blank line, and the next begins with its question.
    for q in questions[1:]:
        assert f"\n\nyou> {q}\n" in out
    parts = out.split("you> ")[1:]
    assert [p.split("\n", 1)[0] for p in parts] == questions
    assert all(p.split("\n", 1)[1].strip() for p in parts)  # each has its answer


def test_chat_marks_each_answer_cut_at_the_token_limit() -> None:
    proc = run_cli(
        "chat",
        "--max-tokens",
        "6",
        "--temperature",
        "0",
        input=b"Write a long essay on Bash.\nWrite a long essay on Python.\n",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    notes = [line for line in proc.stderr.decode().splitlines() if "token limit" in line]
    assert (
        notes
        == [
            "codenook: The answer was cut at the token limit (6 tokens): it is incomplete. "
            "Allow more with --max-tokens (now 6)."
        ]
        * 2
    )
