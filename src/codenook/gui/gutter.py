"""The editor's line numbers: a canvas beside the text (IDLE's sidebar)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import Any


class Gutter(tk.Canvas):
    """Line numbers for the lines of a Text widget that are on screen."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master, width=40, highlightthickness=0, borderwidth=0)
        self.font: Any = ("TkFixedFont", 10)
        self.digit_width = 8
        self.colour = "#888888"

    def style(self, *, font: Any, digit_width: int, colour: str, background: str) -> None:
        """The numbers' font and colour."""
        self.font, self.digit_width, self.colour = font, digit_width, colour
        self.configure(background=background)

    def redraw(self, text: tk.Text, call: Callable[..., Any], last: int) -> None:
        """Number the visible lines of ``text`` (``call`` is its own Tcl command)."""
        self.delete("all")
        digits = max(3, len(str(last)))
        width = self.digit_width * (digits + 1) + 6
        if int(self.cget("width")) != width:
            self.configure(width=width)
        index = str(call("index", "@0,0"))
        line = int(index.split(".")[0])
        height = text.winfo_height()
        while line <= last:
            info = call("dlineinfo", f"{line}.0")
            if not info:
                break
            y = int(str(info).split()[1]) if isinstance(info, str) else int(info[1])
            if y > height:
                break
            self.create_text(
                width - 4, y, anchor="ne", text=str(line), fill=self.colour, font=self.font
            )
            line += 1
