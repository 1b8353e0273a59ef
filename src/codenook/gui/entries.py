"""Text fields that behave as people expect, in every entry and text box of the window.

Tk's own bindings come from Emacs on X11: Ctrl+A moves to the line start, so "Ctrl+A,
type the new one" prepended the new text to the old (issue 18: an account was made with a
password nobody chose). One set of class bindings, installed once by the shell, makes
Ctrl+A select all in every ``Entry``, ``TEntry``, ``TCombobox`` and ``Text``; typing then
replaces the selection (Tk already deletes a selection that holds the insert cursor).
"""

from __future__ import annotations

import tkinter as tk

#: Widget classes of single-line fields.
ENTRY_CLASSES = ("Entry", "TEntry", "TCombobox", "TSpinbox", "Spinbox")


def select_all_entry(widget: tk.Misc) -> str:
    """Select an entry's whole text with the cursor at its end; stops Tk's own binding."""
    widget.selection_range(0, "end")  # type: ignore[attr-defined]
    widget.icursor("end")  # type: ignore[attr-defined]
    return "break"


def select_all_text(widget: tk.Text) -> str:
    """Select a text box's whole text with the cursor at its end; stops Tk's own binding."""
    widget.tag_add("sel", "1.0", "end-1c")
    widget.mark_set("insert", "end-1c")
    widget.see("insert")
    return "break"


def install(root: tk.Misc) -> None:
    """Bind select-all for every field of the application (once, by the window's shell)."""
    for cls in ENTRY_CLASSES:
        for key in ("<Control-a>", "<Control-A>"):
            root.bind_class(cls, key, lambda e: select_all_entry(e.widget))
    for key in ("<Control-a>", "<Control-A>"):
        root.bind_class("Text", key, lambda e: select_all_text(e.widget))
