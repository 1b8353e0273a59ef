"""The editor's files: open, save, save as, recent files, the unsaved-changes prompt.

IDLE's iomenu, the codenook way: reads and writes run on the tools worker, and their
outcome comes back as typed events on the window's bus (:class:`FileRead`,
:class:`FileWritten`, :class:`FileProblem`), delivered on the Tk thread.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tkinter import filedialog
from typing import Any, Protocol

from codenook.assist.tools.files import SourceFileError, read_source, write_source

#: The recent-files menu shows this many.
RECENT = 8


@dataclass(frozen=True)
class FileRead:
    """A file was read for ``files`` (tools worker)."""

    files: FileIO
    path: str
    text: str


@dataclass(frozen=True)
class FileWritten:
    """The buffer was written to ``path`` (tools worker)."""

    files: FileIO
    path: str


@dataclass(frozen=True)
class FileProblem:
    """A file was not opened or not saved, and why (tools worker)."""

    files: FileIO
    message: str
    unsaved: bool = False


class Buffer(Protocol):
    """What file I/O needs of the editor pane."""

    path: str | None
    newline: str
    language: str
    text: tk.Text
    ask: Callable[..., bool | None]

    @property
    def dirty(self) -> bool:
        """Whether the buffer has changes not saved."""
        ...

    def get_text(self) -> str:
        """The buffer's text."""
        ...

    def set_text(self, text: str, *, path: str | None = None) -> None:
        """Show ``text`` as a fresh buffer."""

    def show_message(self, text: str) -> None:
        """A line above the status bar."""

    def update_status(self, *, note: str = "") -> None:
        """Redraw the status bar."""


class FileIO:
    """Reads and writes the pane's file on a worker; remembers the recent files."""

    def __init__(
        self,
        buffer: Buffer,
        *,
        run_tools: Callable[[Callable[[], None]], None],
        post: Callable[[object], None],
        subscribe: Callable[..., Any],
        remember: Callable[..., None],
        recent: tuple[str, ...] = (),
    ) -> None:
        self.buffer = buffer
        self.run_tools = run_tools
        self.post = post
        self.remember = remember
        self.recent = list(recent)
        subscribe(FileRead, lambda e: e.files is self and self._opened(e.path, e.text))
        subscribe(FileWritten, lambda e: e.files is self and self._saved(e.path))
        subscribe(FileProblem, lambda e: e.files is self and self._problem(e))

    def open_dialog(self, parent: tk.Misc) -> None:
        """Ask for a file and open it (Ctrl+O)."""
        if not self.confirm_discard(parent):
            return
        path = filedialog.askopenfilename(
            parent=parent,
            filetypes=[("Python and Bash", "*.py *.sh *.bash"), ("All files", "*")],
        )
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Read ``path`` on a worker and show it; binary, non-UTF-8 or >5 MB is refused."""
        self.buffer.show_message("")

        def read() -> None:
            try:
                text = read_source(path)
            except SourceFileError as exc:
                self.post(FileProblem(self, f"Not opened: {exc}"))
                return
            self.post(FileRead(self, path, text))

        self.run_tools(read)

    def _opened(self, path: str, text: str) -> None:
        self.buffer.set_text(text, path=path)
        self.recent = [path, *(p for p in self.recent if p != path)][:RECENT]
        self.remember(recent_files=tuple(self.recent))

    def save(self, parent: tk.Misc, *, wait: bool = False) -> bool:
        """Write the buffer to its file (Ctrl+S); asks for a name when it has none."""
        if self.buffer.path is None:
            return self.save_as(parent, wait=wait)
        return self._write(self.buffer.path, wait=wait)

    def save_as(self, parent: tk.Misc, path: str | None = None, *, wait: bool = False) -> bool:
        """Write the buffer to a new file (asks for the name when none is given)."""
        if path is None:
            ext = ".sh" if self.buffer.language == "bash" else ".py"
            path = filedialog.asksaveasfilename(parent=parent, defaultextension=ext) or None
        if not path:
            return False
        self.buffer.path = path
        return self._write(path, wait=wait)

    def _write(self, path: str, *, wait: bool) -> bool:
        buffer = self.buffer
        data = buffer.get_text()
        if buffer.newline != "\n":
            data = data.replace("\n", buffer.newline)
        buffer.text.edit_modified(False)  # what is on screen now is what gets written

        def write() -> None:
            try:
                write_source(path, data, backup=False)
            except SourceFileError as exc:
                self.post(FileProblem(self, f"Not saved: {exc}", unsaved=True))
                return
            self.post(FileWritten(self, path))

        if wait:  # closing: the worker may not get to it
            write()
            return not buffer.dirty
        self.run_tools(write)
        return True

    def _saved(self, path: str) -> None:
        self.buffer.show_message("")
        if path not in self.recent[:1]:
            self.recent = [path, *(p for p in self.recent if p != path)][:RECENT]
            self.remember(recent_files=tuple(self.recent))
        self.buffer.update_status(note=f"Saved {Path(path).name}")

    def _problem(self, event: FileProblem) -> None:
        if event.unsaved:
            self.buffer.text.edit_modified(True)
        self.buffer.show_message(event.message)

    def confirm_discard(
        self, parent: tk.Misc, ask: Callable[..., bool | None] | None = None
    ) -> bool:
        """If the buffer is dirty, offer to save it; False when the user cancels."""
        buffer = self.buffer
        if not buffer.dirty:
            return True
        ask = ask or buffer.ask
        name = Path(buffer.path).name if buffer.path else "the untitled file"
        answer = ask("Unsaved changes", f"Save the changes to {name}?", parent=parent)
        if answer is None:
            return False
        if answer:
            return self.save(parent, wait=True)
        return True

    def fill_recent(self, menu: tk.Menu) -> None:
        """The Open recent submenu, filled as it opens."""
        menu.delete(0, "end")
        for p in self.recent:
            menu.add_command(label=p, command=lambda p=p: self.open_file(p))
        if not self.recent:
            menu.add_command(label="(none yet)", state="disabled")
