"""Text from programs and models made safe to show on a terminal.

A terminal obeys the control characters it is sent: ``ESC[2J`` clears the
screen, ``ESC]0;...BEL`` sets the window title, others move the cursor over text
already shown or, on some terminals, answer back as if typed. Output codenook did
not write itself is shown with every control character escaped (``\\x1b``), except
newline and tab, which are layout.
"""

from __future__ import annotations

import re
from typing import TextIO

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: CSI,
# OSC and the rest have one-character forms that some terminals obey). A carriage
# return is kept only before a newline (CRLF line ends): alone it moves back over
# the line to overwrite what was shown.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def _escape_one(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def escape(text: str) -> str:
    """``text`` with control characters written as ``\\xNN`` (newline, tab, CRLF kept)."""
    return _CONTROL.sub(_escape_one, text)


def for_stream(text: str, stream: TextIO) -> str:
    """``text`` escaped when ``stream`` is a terminal; as it is for a file or a pipe."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return escape(text) if terminal else text
