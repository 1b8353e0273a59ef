"""Driving an in-process window as a person would: xdotool keys and clicks under Xvfb.

The window runs in the test's process, so what it shows can be measured; the input comes
from the X server (XTEST), as a person's would, and the Tk loop is pumped to take it in.
"""

from __future__ import annotations

import shutil
import subprocess
import tkinter as tk

from tests.gui.conftest import pump


def xdotool(*args: str) -> str:
    """Run xdotool; fail the test if it fails."""
    assert shutil.which("xdotool"), "xdotool is missing: make test installs it"
    proc = subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


class Person:
    """Keys and clicks on ``root``'s window."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root

    def settle(self) -> None:
        """Let the window take in what was sent and redraw."""
        for _ in range(5):
            self.root.update()

    def focus(self) -> None:
        """Give the window the keyboard focus, as clicking its title would."""
        frame = str(int(self.root.wm_frame(), 16))
        self.settle()
        xdotool("windowfocus", "--sync", frame)
        self.settle()
        if self.root.focus_get() is None:
            # After an earlier window of this process closed with the focus, Tk may not
            # take a FocusIn for the new one (Tk keeps one focus record per display): let
            # Tk ask for the focus itself, as a window manager's click would give it.
            self.root.focus_force()
            self.settle()
        assert self.root.focus_get() is not None, "the window has no keyboard focus"

    def key(self, *keys: str) -> None:
        """Press keys (xdotool names: ctrl+e, Escape, Return)."""
        self.focus()
        xdotool("key", "--delay", "30", *keys)
        self.settle()

    def type(self, text: str) -> None:
        """Type text into the focused widget."""
        self.focus()
        xdotool("type", "--delay", "10", text)
        self.settle()

    def click(self, widget: tk.Misc, x: int | None = None, y: int | None = None) -> None:
        """Click ``widget`` (its middle, or at ``x``, ``y`` inside it)."""
        self.settle()
        px = widget.winfo_rootx() + (widget.winfo_width() // 2 if x is None else x)
        py = widget.winfo_rooty() + (widget.winfo_height() // 2 if y is None else y)
        xdotool("mousemove", "--sync", str(px), str(py))
        xdotool("click", "1")
        self.settle()

    def drag(self, widget: tk.Misc, x: int, y: int, dx: int) -> None:
        """Press at ``x``, ``y`` in ``widget``, move ``dx`` to the right, release."""
        self.settle()
        px, py = widget.winfo_rootx() + x, widget.winfo_rooty() + y
        xdotool("mousemove", "--sync", str(px), str(py))
        xdotool("mousedown", "1")
        self.settle()
        for step in (1, 2, 3):
            xdotool("mousemove", "--sync", str(px + dx * step // 3), str(py))
            self.settle()
        xdotool("mouseup", "1")
        self.settle()

    def wait(self, until, timeout: float = 60.0) -> None:
        """Pump the window until ``until()`` holds."""
        pump(self.root, until, timeout)
