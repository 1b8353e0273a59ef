"""Files dropped on the window from a file manager (XDND through tkdnd, from tkinterdnd2).

Plain Tk has no drag-and-drop between programs; the tkdnd extension adds it, and
tkinterdnd2 ships it for Linux, macOS and Windows. Where it cannot load (another
platform, a Tcl without it) the window works the same, with the Attach button only.
"""

from __future__ import annotations

import logging
import tkinter as tk
from collections.abc import Callable
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)


def dropped_paths(widget: tk.Misc, data: str) -> list[str]:
    """The local paths in a drop's data: a Tcl list of paths or ``file://`` URIs."""
    paths = []
    for item in widget.tk.splitlist(data):
        text = str(item).strip()
        if text.startswith("file:"):
            text = unquote(urlparse(text).path)
        if text:
            paths.append(text)
    return paths


def enable_file_drop(widget: tk.Widget, on_paths: Callable[[list[str]], None]) -> bool:
    """Let files be dropped on ``widget``; ``on_paths`` gets their paths on the Tk thread.

    Returns whether drag-and-drop is available here.
    """
    try:
        from tkinterdnd2 import DND_FILES, TkinterDnD

        TkinterDnD._require(widget)  # loads tkdnd into this (already created) interpreter
        widget.drop_target_register(DND_FILES)  # type: ignore[attr-defined]
    except (ImportError, RuntimeError, tk.TclError) as exc:
        log.info("Drag and drop is not available here (%s); use Attach instead.", exc)
        return False

    def on_drop(event: object) -> str:
        paths = dropped_paths(widget, getattr(event, "data", "") or "")
        if paths:
            on_paths(paths)
        return getattr(event, "action", "copy") or "copy"

    widget.dnd_bind("<<Drop>>", on_drop)  # type: ignore[attr-defined]
    return True
