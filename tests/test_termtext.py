"""Control characters from programs and models are shown escaped on a terminal."""

from __future__ import annotations

import io

import pytest

from codenook.termtext import escape, for_stream


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # clear the screen
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),  # set the window title
        ("\x9b31m", "\\x9b31m"),  # CSI in its one-character (C1) form
        ("\x9d0;title\x9c", "\\x9d0;title\\x9c"),  # OSC and ST, C1 forms
        ("ab\x08\x08xy", "ab\\x08\\x08xy"),  # backspaces over shown text
        ("shown\rhidden", "shown\\x0dhidden"),  # a lone carriage return overwrites
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
    ],
)
def test_control_characters_are_escaped(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_layout_and_ordinary_text_are_kept() -> None:
    text = "def f():\n\treturn 'é ß 漢字 🙂'\r\n# a \\x1b written out stays as it is\n"
    assert escape(text) == text


def test_only_a_terminal_gets_the_escaped_form() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert for_stream("\x1b[2J", Terminal()) == "\\x1b[2J"
    assert for_stream("\x1b[2J", io.StringIO()) == "\x1b[2J"
