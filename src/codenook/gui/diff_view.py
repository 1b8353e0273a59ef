"""A proposed diff, coloured, with Apply and Reject (shown under the editor)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import font as tkfont
from tkinter import ttk

from codenook.gui.theme import Theme


def line_kind(line: str) -> str:
    """The tag for one diff line: ``added``, ``removed``, ``hunk``, ``header`` or ``context``."""
    if line.startswith(("+++", "---")):
        return "header"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "context"


class DiffView(tk.Frame):
    """A read-only diff with a title, notes, and Apply / Reject buttons."""

    def __init__(
        self,
        master: tk.Misc,
        *,
        theme: Theme,
        size: int,
        on_apply: Callable[[str], None],
        on_reject: Callable[[], None],
    ) -> None:
        super().__init__(master)
        self.on_apply, self.on_reject = on_apply, on_reject
        self.diff = ""
        top = tk.Frame(self)
        top.pack(fill="x")
        self.title = tk.Label(top, anchor="w", text="Proposed change")
        self.title.pack(side="left", padx=4)
        self.reject_button = ttk.Button(top, text="Reject", command=self.reject)
        self.reject_button.pack(side="right", padx=2, pady=2)
        self.apply_button = ttk.Button(top, text="Apply", command=self.apply)
        self.apply_button.pack(side="right", padx=2, pady=2)
        self.text = tk.Text(self, height=12, wrap="none", borderwidth=0, undo=False)
        bar = tk.Scrollbar(self, command=self.text.yview)
        self.text.configure(yscrollcommand=bar.set)
        bar.pack(side="right", fill="y")
        self.text.pack(fill="both", expand=True)
        self.apply_theme(theme, size)

    def apply_theme(self, theme: Theme, size: int) -> None:
        """Colours: green for added lines, red for removed ones."""
        mono = tkfont.nametofont("TkFixedFont").actual("family")
        dark = theme.name == "dark"
        self.configure(background=theme.panel)
        self.title.configure(background=theme.panel, foreground=theme.fg)
        self.text.configure(
            background=theme.code_bg, foreground=theme.fg, font=(mono, size), state="disabled"
        )
        self.text.tag_configure("added", background="#12361f" if dark else "#e6ffec")
        self.text.tag_configure("removed", background="#4a1d1d" if dark else "#ffebe9")
        self.text.tag_configure("hunk", foreground=theme.accent)
        self.text.tag_configure("header", foreground=theme.muted)
        self.text.tag_configure("note", foreground=theme.muted)

    def show(self, diff: str, *, title: str, notes: str = "") -> None:
        """Show ``diff`` (and the tools' notes above it)."""
        self.diff = diff
        self.title.configure(text=title)
        pairs: list[object] = []
        if notes:
            pairs += [notes.rstrip("\n") + "\n\n", ("note",)]
        for line in diff.splitlines(keepends=True):
            pairs += [line, (line_kind(line),)]
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        if pairs:
            self.text.insert("end", *pairs)
        self.text.configure(state="disabled")

    def content(self) -> str:
        """The text shown (for tests)."""
        return self.text.get("1.0", "end-1c")

    def apply(self) -> None:
        """Hand the diff to the editor to apply."""
        self.on_apply(self.diff)

    def reject(self) -> None:
        """Drop the diff; the file stays as it is."""
        self.on_reject()
