"""Pygments highlighting of the editor's text: only the edited lines, a burst at a time.

IDLE's colorizer, the codenook way: the pane tells :meth:`Highlighter.edited` which lines
changed; the lines are re-lexed when Tk is idle. When a string opens or closes, every
line after may change colour, so the rest of the file is redone a chunk per idle moment.
"""

from __future__ import annotations

import bisect
import tkinter as tk
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from codenook.gui.editing import restart_line
from codenook.gui.markdown import _lexer, token_tag

#: Lines highlighted per step when a whole file (or its tail) is re-highlighted.
CHUNK_LINES = 300
#: Tags for tokens drawn in the plain text colour: not worth a Tcl call each.
_PLAIN = {"pyg.Text", "pyg.Text.Whitespace", "pyg"}
_STRING = "pyg.Literal.String"


class _Pass:
    """Lexing a stretch of the text and tagging it, in steps that each end on a token."""

    def __init__(self, owner: Highlighter, first_line: int, text: str) -> None:
        self.owner = owner
        self.first_line = first_line
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        lexer = _lexer(owner.language())
        self.tokens: Iterator[tuple[int, Any, str]] = (
            lexer.get_tokens_unprocessed(text) if lexer is not None else iter(())
        )
        self.pending: tuple[int, Any, str] | None = None
        self.done_to = 0
        self.last_tag = ""

    def index(self, offset: int) -> str:
        """The Tk index of a character offset in the lexed text."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return f"{self.first_line + line}.{offset - self.starts[line]}"

    def line_of(self, offset: int) -> int:
        """The 0-based line of ``offset`` in the lexed text."""
        return bisect.bisect_right(self.starts, offset) - 1

    def step(self, max_lines: int | None = None) -> bool:
        """Tag the next ``max_lines`` lines (all when None); True once the text is done."""
        ranges: dict[str, list[str]] = defaultdict(list)
        begin = self.done_to
        stop_line = None if max_lines is None else self.line_of(begin) + max_lines
        finished = True
        while True:
            token = self.pending
            self.pending = None
            if token is None:
                token = next(self.tokens, None)
                if token is None:
                    break
            pos, ttype, value = token
            if stop_line is not None and pos > begin and self.line_of(pos) >= stop_line:
                self.pending = token
                finished = False
                break
            tag = token_tag(ttype)
            if value and tag not in _PLAIN:
                ranges[tag] += [self.index(pos), self.index(pos + len(value))]
            self.done_to = pos + len(value)
            self.last_tag = tag
        self.owner.retag(self.index(begin), self.index(self.done_to), ranges)
        return finished


class Highlighter:
    """Keeps the Pygments tags of one Text widget up to date with its edits."""

    def __init__(
        self, text: tk.Text, *, call: Callable[..., Any], language: Callable[[], str]
    ) -> None:
        self.text = text
        #: The Text widget's own Tcl command (the pane wraps the widget's).
        self.call = call
        self.language = language
        self.enabled = True
        self._used_tags: set[str] = set()
        self._dirty_lines: list[int] | None = None
        self._tail: _Pass | None = None
        self._tail_after: str | None = None
        self._tail_resume: int | None = None

    def edited(self, first: int, last: int) -> None:
        """Lines ``first``..``last`` changed: re-highlight them when Tk is idle."""
        if not self.enabled:
            return
        if self._tail is not None:  # the text moved under a running pass: redo from here
            reached = self._tail.first_line + self._tail.line_of(self._tail.done_to)
            self._tail_resume = min(reached, first)
            self.stop()
        if self._dirty_lines is None:
            self._dirty_lines = [first, last]
            self.text.after_idle(self._rehighlight)
        else:
            self._dirty_lines[0] = min(self._dirty_lines[0], first)
            self._dirty_lines[1] = max(self._dirty_lines[1], last)

    def reset(self) -> None:
        """Forget the pending work (a new buffer replaces the text)."""
        self.stop()
        self._dirty_lines = None

    def last_line(self) -> int:
        """The number of the text's last line."""
        return int(str(self.call("index", "end-1c")).split(".")[0])

    def _in_string(self, line: int) -> bool:
        return any(str(t).startswith(_STRING) for t in self.call("tag", "names", f"{line}.end"))

    def _rehighlight(self) -> None:
        """Re-highlight the lines edited since the last pass. Runs when Tk is idle."""
        if self._dirty_lines is None:
            return
        first, last = self._dirty_lines
        self._dirty_lines = None
        end = self.last_line()
        last = min(max(first, last), end)
        first = min(first, end)
        start = restart_line(first, self._in_string)
        was_string = self._in_string(last)
        lex = _Pass(self, start, self.text.get(f"{start}.0", f"{last + 1}.0"))
        lex.step()
        now_string = lex.last_tag.startswith(_STRING)
        if now_string != was_string or self._tail_resume is not None:
            # A string opened or closed: every line after may change colour.
            resume = min(start, self._tail_resume or start)
            self._tail_resume = None
            self._start_tail(restart_line(resume, self._in_string))

    def highlight_all(self) -> None:
        """Highlight the whole buffer, a chunk per idle moment."""
        self._start_tail(1)

    def _start_tail(self, line: int) -> None:
        self.stop()
        self._tail = _Pass(self, line, self.text.get(f"{line}.0", "end-1c"))
        self._tail_step()

    def _tail_step(self) -> None:
        self._tail_after = None
        if self._tail is None:
            return
        if self._tail.step(CHUNK_LINES):
            self._tail = None
        else:
            self._tail_after = self.text.after(1, self._tail_step)

    def stop(self) -> None:
        """Stop the pass over the rest of the file."""
        if self._tail_after is not None:
            self.text.after_cancel(self._tail_after)
            self._tail_after = None
        self._tail = None

    @property
    def busy(self) -> bool:
        """Whether highlighting work is still queued (for tests and the benchmark)."""
        return self._tail is not None or self._dirty_lines is not None

    def retag(self, start: str, end: str, ranges: dict[str, list[str]]) -> None:
        """Replace the highlighting between ``start`` and ``end`` with ``ranges``."""
        for tag in self._used_tags:
            self.call("tag", "remove", tag, start, end)
        for tag, indices in ranges.items():
            if tag not in self._used_tags:
                self._used_tags.add(tag)
                self.call("tag", "lower", tag, "sel")
            self.call("tag", "add", tag, *indices)
