"""The editor's rules as pure functions: indentation, languages, ghost text, line edits.

No Tk here, so each rule is tested without a display.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Bash words after which the next line is one level deeper.
_BASH_OPENERS = re.compile(r"(?:^\s*|;\s*)(?:then|do|else)$|\{$")
_PY_OPENER = re.compile(r":\s*(?:#.*)?$")


@dataclass(frozen=True)
class Indent:
    """How a file indents: with tabs, or with ``width`` spaces."""

    tabs: bool = False
    width: int = 4

    @property
    def unit(self) -> str:
        """The text of one level."""
        return "\t" if self.tabs else " " * self.width

    def describe(self) -> str:
        """``Tabs`` or ``Spaces: 4`` for the status bar."""
        return "Tabs" if self.tabs else f"Spaces: {self.width}"


def detect_indent(text: str, *, default: Indent | None = None) -> Indent:
    """The file's indentation: tabs if most indented lines start with one, else the
    commonest step between the space indents of consecutive lines."""
    tabs = spaces = 0
    steps: Counter[int] = Counter()
    previous = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("\t"):
            tabs += 1
            continue
        width = len(line) - len(line.lstrip(" "))
        if width:
            spaces += 1
        if width > previous and width - previous in (2, 3, 4, 8):
            steps[width - previous] += 1
        previous = width
    if tabs > spaces:
        return Indent(tabs=True)
    if steps:
        return Indent(width=steps.most_common(1)[0][0])
    return default or Indent()


def language_for(path: str | None, text: str = "") -> str:
    """``python`` or ``bash`` from the file name, then the shebang; Python by default."""
    name = (path or "").lower()
    if name.endswith((".sh", ".bash")):
        return "bash"
    if name.endswith((".py", ".pyi", ".pyw")):
        return "python"
    first = text.split("\n", 1)[0]
    if first.startswith("#!") and re.search(r"\b(?:ba|z|k)?sh\b", first):
        return "bash"
    return "python"


def leading_ws(line: str) -> str:
    """The spaces and tabs that start ``line``."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def next_indent(line: str, *, language: str, indent: Indent) -> str:
    """The indentation of the line that Return starts after ``line`` (the text before
    the cursor): the same, one level deeper after ``:`` (Python) or ``then``/``do``/``{``
    (Bash)."""
    base = leading_ws(line)
    code = line.rstrip()
    if language == "python":
        opens = bool(_PY_OPENER.search(code)) and not code.lstrip().startswith("#")
    else:
        stripped = code.split(" #", 1)[0].rstrip()
        opens = bool(_BASH_OPENERS.search(stripped)) and not code.lstrip().startswith("#")
    return base + indent.unit if opens else base


def fit_suggestion(suggestion: str, *, block_indent: str) -> str:
    """A multi-line suggestion with its later lines indented to the cursor's block.

    A model (fill-in-the-middle especially) may write the lines after the first as if
    they started at column 0; they are shifted so that the least indented of them sits
    at ``block_indent``. Lines already at or past it are left alone.
    """
    lines = suggestion.split("\n")
    if len(lines) < 2 or not block_indent:
        return suggestion
    rest = [ln for ln in lines[1:] if ln.strip()]
    if not rest:
        return suggestion
    least = min(len(leading_ws(ln).expandtabs(8)) for ln in rest)
    if least >= len(block_indent.expandtabs(8)):
        return suggestion
    out = [lines[0]]
    for ln in lines[1:]:
        out.append(block_indent + ln if ln.strip() else ln)
    return "\n".join(out)


@dataclass(frozen=True)
class LineEdit:
    """Replace lines ``first``..``last`` (1-based, ``last`` exclusive) with ``text``."""

    first: int
    last: int
    text: str


def line_edits(old: str, new: str) -> list[LineEdit]:
    """The smallest line-wise edits that turn ``old`` into ``new``, last first (so that
    applying them in order keeps the earlier line numbers valid)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    edits = [
        LineEdit(i1 + 1, i2 + 1, "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if tag != "equal"
    ]
    return edits[::-1]


def apply_line_edits(old: str, edits: list[LineEdit]) -> str:
    """``old`` with ``edits`` applied, as the editor applies them (for tests and checks)."""
    lines = old.splitlines(keepends=True)
    for e in edits:
        lines[e.first - 1 : e.last - 1] = [e.text] if e.text else []
    return "".join(lines)


def restart_line(first: int, in_string: Callable[[int], bool]) -> int:
    """The line to start re-highlighting from for an edit at line ``first`` (1-based).

    Lexing can start afresh at any line that does not begin inside a multi-line string:
    go up while the line above ends inside one. ``in_string(n)`` says whether line
    ``n`` ends inside a string token.
    """
    line = first
    while line > 1 and in_string(line - 1):
        line -= 1
    return line


def file_label(path: str | None, *, dirty: bool) -> str:
    """``● name.py`` for a changed file, ``name.py`` for a saved one."""
    name = Path(path).name if path else "untitled"
    return f"● {name}" if dirty else name


def split_newlines(data: str) -> tuple[str, str]:
    """The text with LF line ends, and the file's own line end (``\\r\\n`` or ``\\n``).

    The editor holds LF only; CRLF files are written back with CRLF, byte for byte.
    """
    if "\r\n" in data and data.count("\r\n") == data.count("\n"):
        return data.replace("\r\n", "\n"), "\r\n"
    return data, "\n"
