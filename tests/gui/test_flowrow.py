"""The flowing row of control groups: nothing is cut in a narrow pane."""

from __future__ import annotations

import tkinter as tk

from codenook.gui.flowrow import FlowRow
from tests.gui.conftest import pump


def test_groups_wrap_whole_when_the_row_is_narrow_and_come_back_when_wide() -> None:
    root = tk.Tk()
    try:
        row = FlowRow(root)
        row.pack(fill="x")
        left, middle, right = row.group(), row.group(), row.group(right=True)
        buttons = [tk.Button(g, text="x" * 12, width=12) for g in (left, middle, right)]
        for b in buttons:
            b.pack()
        row.show(middle, False)
        root.geometry("900x200")
        pump(root, lambda: row._layout == [0, -1, 0])
        row.show(middle)
        pump(root, lambda: row._layout == [0, 0, 0])
        root.geometry("260x200")
        pump(root, lambda: row._layout == [0, 1, 2])
        root.update()
        for b in buttons:  # each whole and inside the window
            assert b.winfo_ismapped() and b.winfo_width() == b.winfo_reqwidth()
            assert b.winfo_rootx() + b.winfo_width() <= root.winfo_rootx() + root.winfo_width()
        root.geometry("900x200")
        pump(root, lambda: row._layout == [0, 0, 0])
    finally:
        root.destroy()
