"""Dropping files on the window: tkdnd loaded into the real Tk under Xvfb."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator

import pytest

from codenook.gui.app import App
from codenook.gui.dnd import dropped_paths
from tests.gui.conftest import pump
from tests.gui.test_app import login, make_app


@pytest.fixture
def window(account) -> Iterator[tuple[tk.Tk, App]]:
    root, app = make_app()
    yield root, app
    if not app.closing:
        app.close()


def drop(widget: tk.Misc, data: str) -> str:
    """Run the widget's <<Drop>> binding the way tkdnd's HandleDrop does, with ``data``.

    An XDND drop needs a second X client that speaks the protocol; this substitutes
    the same fields into the same bound script and evaluates it at global level.
    """
    script = widget.tk.call("bind", widget._w, "<<Drop>>")
    assert script, "no <<Drop>> binding: the widget is not a drop target"
    fields = {
        "%W": widget._w,
        "%X": "10",
        "%Y": "10",
        "%CST": "{DND_Files}",
        "%CTT": "{DND_Files}",
        "%ST": "{DND_Files}",
        "%TT": "{DND_Files}",
        "%A": "copy",
        "%a": "{copy}",
        "%b": "{1}",
        "%m": "{}",
        "%D": widget.tk.call("list", data),
        "%e": "<<Drop>>",
        "%L": "{DND_Files}",
        "%t": "{DND_Files}",
        "%T": "DND_Files",
        "%c": "{}",
        "%C": "{}",
    }
    mapping = [item for pair in fields.items() for item in pair]
    cmd = widget.tk.call("string", "map", mapping, script)
    return str(widget.tk.call("uplevel", "#0", cmd))


def test_dropped_data_becomes_paths() -> None:
    root = tk.Tk()
    try:
        data = "{/tmp/with space.py} /tmp/plain.sh file:///tmp/uri%20name.py"
        assert dropped_paths(root, data) == [
            "/tmp/with space.py",
            "/tmp/plain.sh",
            "/tmp/uri name.py",
        ]
        assert dropped_paths(root, "") == []
    finally:
        root.destroy()


def test_a_file_dropped_on_the_input_is_attached(window, tmp_path) -> None:
    root, app = window
    login(root, app)
    assert app.answering.can_drop, "tkdnd (tkinterdnd2) did not load into Tk"
    # What tkdnd announces to file managers for this widget (X11 names for DND_Files).
    types = str(root.tk.call("bind", app.answering.input._w, "<<DropTargetTypes>>"))
    assert "text/uri-list" in types
    good = tmp_path / "my tool.py"
    good.write_text("print('hi')\n", encoding="utf-8")
    other = tmp_path / "second.sh"
    other.write_text("echo hi\n", encoding="utf-8")
    assert drop(app.answering.input, f"{{{good}}} {other}") == "copy"
    pump(root, lambda: app.answering.attached is not None)
    assert app.answering.attached == str(good)
    assert "my tool.py" in app.answering.attached_label.cget("text")
    assert "not second.sh" in app.transcript.content()
    # A binary file dropped on the transcript is refused with the reason; nothing changes.
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    drop(app.transcript.text, str(binary))
    pump(root, lambda: "Not attached" in app.transcript.content())
    assert app.answering.attached == str(good)
