"""Learning of every change to a Text widget by wrapping its Tcl command (IDLE's
redirector): typed, undone or pasted, each insert, delete and replace passes here."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any


def wrap_text_command(text: tk.Text, on_edit: Callable[[int, int], None]) -> Callable[..., Any]:
    """Call ``on_edit(first_line, last_line)`` after each change to ``text``.

    Returns the widget's own command, to call for tags and queries without the wrapper.
    """
    orig = text._w + "_orig"
    text.tk.call("rename", text._w, orig)

    def dispatch(*args: str) -> Any:
        op = args[0] if args else ""
        if op not in ("insert", "delete", "replace"):
            return text.tk.call(orig, *args)
        first = int(str(text.tk.call(orig, "index", args[1])).split(".")[0])
        result = text.tk.call(orig, *args)
        if op == "insert":
            added = "".join(args[2::2])
        elif op == "replace":
            added = "".join(args[3::2])
        else:
            added = ""
        on_edit(first, first + added.count("\n"))
        return result

    text.tk.createcommand(text._w, dispatch)
    if text._tclCommands is None:
        text._tclCommands = []
    text._tclCommands.append(text._w)  # deleted with the widget

    def call(*args: Any) -> Any:
        return text.tk.call(orig, *args)

    return call
