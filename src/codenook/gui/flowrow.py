"""A row of control groups that flow like words: as many on a line as fit, the rest wrap.

The window's rule that no control is ever hidden (issue 18): in a narrow pane a group goes
to the next line whole, rather than being cut by the pane's edge.
"""

from __future__ import annotations

import tkinter as tk


class FlowRow(tk.Frame):
    """Groups laid out on as few lines as the row's width allows, in the order made."""

    def __init__(self, master: tk.Misc) -> None:
        super().__init__(master)
        self._groups: list[tuple[tk.Frame, str]] = []
        self._hidden: set[str] = set()
        self._lines: list[tk.Frame] = []
        self._layout: list[int] = []
        self.bind("<Configure>", lambda _e: self.fit(), add="+")

    def group(self, *, right: bool = False) -> tk.Frame:
        """A new group (put its controls in it); ``right``: aligned to the right."""
        # A line is made before the group: a widget shown in a sibling must be above it.
        self._lines.append(tk.Frame(self))
        frame = tk.Frame(self)
        self._groups.append((frame, "right" if right else "left"))
        return frame

    def show(self, group: tk.Frame, shown: bool = True) -> None:
        """Show or hide a whole group; the row is laid out again once sizes are known."""
        (self._hidden.discard if shown else self._hidden.add)(str(group))
        self.after_idle(self.fit)

    def fit(self) -> None:
        """Lay the shown groups out on as few lines as the width allows."""
        avail, line, used, layout = self.winfo_width(), 0, 0, []
        for g, _side in self._groups:
            if str(g) in self._hidden:
                layout.append(-1)
                continue
            width = g.winfo_reqwidth()
            if used and used + width > avail:
                line, used = line + 1, 0
            layout.append(line)
            used += width
        if layout == self._layout:
            return  # unchanged: no new <Configure>, no loop
        self._layout = layout
        for (g, side), at in zip(self._groups, layout, strict=True):
            g.pack_forget()
            if at >= 0:
                g.pack(in_=self._lines[at], side=side)  # type: ignore[arg-type]
        for n, frame in enumerate(self._lines):
            frame.pack_forget()
            if n in layout:
                frame.pack(fill="x", pady=(4 if n else 0, 0))
