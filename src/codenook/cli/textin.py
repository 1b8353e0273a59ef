"""Text a user hands the command line: an argument, or all of stdin for '-', as UTF-8.

Shared by the commands that read a question or a description (``ask``, ``gen``,
``context show``, ``chat``, ``prompt``); it imports no command, so any command can use it.
"""

from __future__ import annotations

import sys

from codenook.errors import UsageError


def decode_input(data: bytes, *, source: str) -> str:
    """Bytes a user gave us as text, or a UsageError saying they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{source} is not UTF-8 text (bad byte at position {exc.start}); "
            "convert it, e.g. with iconv -t UTF-8."
        ) from exc


def read_question(arg: str, *, what: str = "question") -> str:
    """The question (or another text) from argv, or all of stdin when it is '-'."""
    text = decode_input(sys.stdin.buffer.read(), source="stdin") if arg == "-" else arg
    if not text.strip():
        raise UsageError(f"The {what} is empty.")
    return text
