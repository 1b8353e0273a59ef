"""The editor's file I/O against a minimal buffer (IDLE's iomenu tested without an editor)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook.gui.bus import Bus
from codenook.gui.editing import split_newlines
from codenook.gui.editor_io import FileIO
from codenook.gui.worker import Worker
from tests.gui.conftest import pump


class Buffer:
    """Just enough of the editor pane: a real Text widget and the fields file I/O reads."""

    def __init__(self, root: tk.Tk) -> None:
        self.text = tk.Text(root)
        self.path: str | None = None
        self.newline = "\n"
        self.language = "python"
        self.notice = ""
        self.status = ""
        self.ask = lambda *_a, **_k: None

    @property
    def dirty(self) -> bool:
        return bool(self.text.edit_modified())

    def get_text(self) -> str:
        return self.text.get("1.0", "end-1c")

    def set_text(self, text: str, *, path: str | None = None) -> None:
        body, self.newline = split_newlines(text)
        self.path = path
        self.text.delete("1.0", "end")
        self.text.insert("1.0", body)
        self.text.edit_modified(False)

    def show_message(self, text: str) -> None:
        self.notice = text

    def update_status(self, *, note: str = "") -> None:
        self.status = note


@pytest.fixture
def setup() -> Iterator[tuple[tk.Tk, Bus, Buffer, FileIO, list[dict]]]:
    root = tk.Tk()
    bus = Bus()
    tools = Worker("tools", bus)
    remembered: list[dict] = []
    buffer = Buffer(root)
    files = FileIO(
        buffer,
        run_tools=tools.submit,
        post=bus.put,
        subscribe=bus.subscribe,
        remember=lambda **ui: remembered.append(ui),
    )
    yield root, bus, buffer, files, remembered
    tools.stop()
    root.destroy()


def settle(root: tk.Tk, bus: Bus, until) -> None:
    pump(root, lambda: (bus.drain(), until())[1], timeout=20)


def test_open_edit_save_keeps_crlf_and_remembers_the_file(setup, tmp_path: Path) -> None:
    root, bus, buffer, files, remembered = setup
    path = tmp_path / "win.py"
    path.write_bytes(b"x = 1\r\ny = 2\r\n")
    files.open_file(str(path))
    settle(root, bus, lambda: buffer.path == str(path))
    assert buffer.get_text() == "x = 1\ny = 2\n" and buffer.newline == "\r\n"
    assert remembered == [{"recent_files": (str(path),)}]
    buffer.text.insert("end", "z = 3\n")
    assert buffer.dirty
    assert files.save(root)
    settle(root, bus, lambda: buffer.status == "Saved win.py")
    assert path.read_bytes() == b"x = 1\r\ny = 2\r\nz = 3\r\n" and not buffer.dirty


def test_a_binary_file_is_not_opened_and_a_failed_save_stays_dirty(setup, tmp_path: Path) -> None:
    root, bus, buffer, files, _remembered = setup
    blob = tmp_path / "blob.py"
    blob.write_bytes(b"\x00\x01")
    files.open_file(str(blob))
    settle(root, bus, lambda: bool(buffer.notice))
    assert buffer.notice.startswith("Not opened:") and buffer.path is None
    buffer.text.insert("1.0", "x = 1\n")
    assert files.save_as(root, str(tmp_path / "missing" / "dir" / "x.py"))
    settle(root, bus, lambda: buffer.notice.startswith("Not saved:"))
    assert buffer.dirty  # what is on screen was not written


def test_the_unsaved_prompt_cancels_saves_or_discards(setup, tmp_path: Path) -> None:
    root, _bus, buffer, files, _remembered = setup
    buffer.path = str(tmp_path / "kept.py")
    buffer.text.insert("1.0", "kept = True\n")
    asked: list[str] = []
    assert not files.confirm_discard(root, lambda _t, m, **_k: asked.append(m))  # Cancel
    assert asked == ["Save the changes to kept.py?"]
    assert files.confirm_discard(root, lambda *_a, **_k: False)  # Don't save
    assert files.confirm_discard(root, lambda *_a, **_k: True)  # Save, at once
    assert Path(buffer.path).read_text(encoding="utf-8") == "kept = True\n"
