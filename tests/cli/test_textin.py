"""Text from argv or stdin: UTF-8 or a clear refusal, never an empty question."""

from __future__ import annotations

import io
import sys

import pytest

from codenook.cli import textin
from codenook.errors import UsageError


def stdin_bytes(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_an_argument_is_the_question() -> None:
    assert textin.read_question("what is a closure?") == "what is a closure?"


def test_a_dash_reads_all_of_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin_bytes(monkeypatch, "line one\nlíne two\n".encode())
    assert textin.read_question("-") == "line one\nlíne two\n"


def test_an_empty_text_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="The description is empty"):
        textin.read_question("  \n", what="description")
    stdin_bytes(monkeypatch, b"")
    with pytest.raises(UsageError, match="The question is empty"):
        textin.read_question("-")


def test_bytes_that_are_not_utf8_name_where_they_break() -> None:
    with pytest.raises(UsageError, match=r"stdin is not UTF-8 text \(bad byte at position 3\)"):
        textin.decode_input(b"abc\xff", source="stdin")
