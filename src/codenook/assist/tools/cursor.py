"""The text around a cursor for completion, trimmed to a budget, and where a completion ends.

Trimming works on whole lines and never needs the file to parse (a file being edited
often does not). It keeps, in this order of priority: the cursor's own line, the
headers of the functions and classes that enclose the cursor (found by indentation),
the file's top-level imports (at most a third of what is left), and then the lines
nearest the cursor, two above for each one below, as far as the budget goes. Lines
are kept in file order with nothing marking the gaps, so the prefix still reads as
code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codenook.assist.tools.language import normalise_language
from codenook.errors import CodenookError

_HEADER = re.compile(
    r"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+\w|class[ \t]+\w"  # Python
    r"|function[ \t]+[\w:.-]+|[A-Za-z_][\w:.-]*[ \t]*\([ \t]*\)[ \t]*(?:\{|$))"  # Bash
)
_IMPORT = re.compile(r"^(?:import[ \t]+\w|from[ \t]+[\w.]+[ \t]+import\b|(?:source|\.)[ \t]+\S)")
_TOP_LEVEL_DEF = {
    "python": re.compile(r"^(?:(?:async[ \t]+)?def[ \t]|class[ \t]|@|if[ \t]+__name__\b)"),
    "bash": re.compile(r"^(?:function[ \t]+[\w:.-]+|[A-Za-z_][\w:.-]*[ \t]*\([ \t]*\))"),
}


class CursorError(CodenookError):
    """A cursor position is outside the file."""


@dataclass(frozen=True)
class CursorContext:
    """The text before and after the cursor, and whether any of it was left out."""

    prefix: str
    suffix: str
    trimmed: bool


def _split_lines(text: str) -> list[str]:
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
    if not lines or lines[-1].endswith("\n"):
        lines.append("")  # the empty line after a final newline is a place to type too
    return lines


def _width(ws: str) -> int:
    return len(ws.expandtabs(8))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def cursor_offset(text: str, line: int, column: int) -> int:
    """The character offset of a 1-based line and column, checked against ``text``."""
    lines = _split_lines(text)
    if line < 1 or column < 1:
        raise CursorError(f"Line {line}, column {column}: lines and columns count from 1.")
    if line > len(lines):
        raise CursorError(f"Line {line} is past the end of the file, which has {len(lines)} lines.")
    content = lines[line - 1].rstrip("\r\n")
    if column > len(content) + 1:
        raise CursorError(
            f"Column {column} is past the end of line {line}, which has {len(content)} "
            f"characters (the last position is column {len(content) + 1})."
        )
    return sum(len(ln) for ln in lines[: line - 1]) + column - 1


def _enclosing_headers(lines: list[str], li: int) -> list[int]:
    """Indices of the def/class (or Bash function) header lines that enclose line ``li``."""
    cur = lines[li]
    target = _width(_indent(cur))
    if not cur.strip():  # a blank line: the block is the one the line above sets up
        for i in range(li - 1, -1, -1):
            if lines[i].strip():
                prev = lines[i].rstrip()
                target = max(
                    target, _width(_indent(prev)) + (1 if prev.endswith((":", "{")) else 0)
                )
                break
    found = []
    for i in range(li - 1, -1, -1):
        if target == 0:
            break
        text = lines[i]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        width = _width(_indent(text))
        if width < target:
            target = width
            if _HEADER.match(text):
                found.append(i)
                # A header over several lines: keep it through the line that ends it.
                j = i
                while j + 1 < li and not lines[j].rstrip().endswith((":", "{")) and j - i < 10:
                    j += 1
                    found.append(j)
    return sorted(found)


def _import_lines(lines: list[str], li: int) -> list[int]:
    found = []
    i = 0
    while i < len(lines):
        if i != li and _IMPORT.match(lines[i]):
            found.append(i)
            if "(" in lines[i] and ")" not in lines[i]:
                while i + 1 < len(lines) and ")" not in lines[i]:
                    i += 1
                    found.append(i)
        i += 1
    return found


def cursor_context(text: str, line: int, column: int, *, budget_chars: int) -> CursorContext:
    """The text before and after a 1-based line and column, fitted into ``budget_chars``."""
    if budget_chars < 1:
        raise ValueError("budget_chars must be positive")
    offset = cursor_offset(text, line, column)
    if len(text) <= budget_chars:
        return CursorContext(text[:offset], text[offset:], False)
    lines = _split_lines(text)
    li = line - 1
    before, after = lines[li][: column - 1], lines[li][column - 1 :]
    left = budget_chars - len(before) - len(after)
    if left < 0:  # the cursor's line alone is too long: keep more of what precedes
        keep_before = min(len(before), max(budget_chars * 3 // 4, budget_chars - len(after)))
        head = before[len(before) - keep_before :] if keep_before else ""
        return CursorContext(head, after[: budget_chars - keep_before], True)

    keep: set[int] = set()

    def add(i: int, limit: int | None = None) -> bool:
        nonlocal left
        if i in keep:
            return True
        cost = len(lines[i])
        if cost > left or (limit is not None and cost > limit):
            return False
        keep.add(i)
        left -= cost
        return True

    for i in _enclosing_headers(lines, li):
        add(i)
    cap = left // 3
    for i in _import_lines(lines, li):
        before_left = left
        if add(i, cap):
            cap -= before_left - left
    up, down = li - 1, li + 1
    while up >= 0 or down < len(lines):
        for _ in range(2):
            while up >= 0 and up in keep:
                up -= 1
            if up >= 0:
                up = up - 1 if add(up) else -1
        while down < len(lines) and down in keep:
            down += 1
        if down < len(lines):
            down = down + 1 if add(down) else len(lines)
    prefix = "".join(lines[i] for i in sorted(keep) if i < li) + before
    suffix = after + "".join(lines[i] for i in sorted(keep) if i > li)
    return CursorContext(prefix, suffix, True)


def end_of_block(completion: str, *, language: str, indent: str | None = None) -> str:
    """A non-FIM model's completion cut where the block it was writing ends.

    The cut comes before a line indented less than ``indent`` (the cursor line's
    indentation; by default the completion's first line's), before a blank line that
    is followed by a new top-level definition, or before a closing Markdown fence.
    """
    lang = normalise_language(language)
    lines = re.findall(r"[^\n]*\n|[^\n]+$", completion)
    if not lines:
        return completion
    base = _width(_indent(lines[0]) if indent is None else indent)
    top_level = _TOP_LEVEL_DEF[lang]
    cut = len(lines)
    for i in range(1, len(lines)):
        text = lines[i].rstrip("\r\n")
        if text.lstrip().startswith("```"):
            cut = i
            break
        if not text.strip():
            nxt = next((ln for ln in lines[i + 1 :] if ln.strip()), None)
            if nxt is not None and top_level.match(nxt):
                cut = i
                break
            continue
        if _width(_indent(text)) < base:
            cut = i
            break
    kept = "".join(lines[:cut])
    # Blank lines and stray indentation at the end are not part of the block.
    return re.sub(r"\n[ \t\r]*(?:\n[ \t\r]*)*\Z", "\n", kept)
