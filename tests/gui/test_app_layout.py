"""The window's panes under Xvfb, driven with xdotool: no control is ever hidden, and what
is saved is the width the user chose by dragging, never a squeezed one (issue 18, point 2)."""

from __future__ import annotations

import json
import tkinter as tk

from codenook import config
from tests.gui.person import Person
from tests.gui.test_app import LONG_QUESTION, login, make_app


def visible(root: tk.Tk, button: tk.Misc) -> bool:
    """Mapped, at least 60 px wide, and wholly inside the window."""
    left = button.winfo_rootx() - root.winfo_rootx()
    right = left + button.winfo_width()
    top = button.winfo_rooty() - root.winfo_rooty()
    bottom = top + button.winfo_height()
    return (
        bool(button.winfo_ismapped())
        and button.winfo_width() >= 60
        and left >= 0
        and right <= root.winfo_width()
        and top >= 0
        and bottom <= root.winfo_height()
    )


def test_with_the_editor_open_send_stop_and_regenerate_stay_whole(account) -> None:
    root, app = make_app(config.GenerationSettings(max_tokens=2000, temperature=0.0))
    person = Person(root)
    try:
        login(root, app)
        person.wait(lambda: root.winfo_width() == 1100)
        a = app.answering
        buttons = (a.send_button, a.stop_button, a.regen_button)
        before = app.panes.sash_coord(0)[0]
        assert before == 240
        person.key("ctrl+e")
        person.wait(app._editor_shown)
        person.settle()
        assert app.editor.winfo_width() >= 260
        assert all(visible(root, b) for b in buttons), [b.winfo_width() for b in buttons]
        # While an answer runs (Stop is the one that matters then).
        person.click(a.input)
        person.type(LONG_QUESTION)
        person.key("Return")
        person.wait(lambda: a.state == "generating")
        person.settle()
        assert all(visible(root, b) for b in buttons), [b.winfo_width() for b in buttons]
        person.click(a.stop_button)
        person.wait(lambda: a.state == "ready" and not app.transcript.streaming)
        person.key("ctrl+e")
        person.wait(lambda: not app._editor_shown())
        person.settle()
        assert app.panes.sash_coord(0)[0] == before
        assert all(visible(root, b) for b in buttons)
    finally:
        app.close()
    state = json.loads(config.paths().state_file.read_text())
    assert state["sidebar_width"] == before


def test_the_width_saved_is_the_one_the_user_dragged_to(account) -> None:
    root, app = make_app()
    person = Person(root)
    try:
        login(root, app)
        person.wait(lambda: root.winfo_width() == 1100)
        sash = app.panes.sash_coord(0)[0]
        person.drag(app.panes, sash + 2, app.panes.winfo_height() // 2, 80)
        person.wait(lambda: app.panes.sash_coord(0)[0] != sash)
        chosen = app.panes.sash_coord(0)[0]
        assert abs(chosen - (sash + 80)) <= 3
        # Saved at once: a drag is a choice.
        person.wait(lambda: config.load_settings().ui.sidebar_width == chosen, timeout=10)
        person.key("ctrl+e")
        person.wait(app._editor_shown)
        person.key("ctrl+e")
        person.wait(lambda: not app._editor_shown())
        person.settle()
        assert app.panes.sash_coord(0)[0] == chosen
        # A narrow window squeezes the sidebar for the editor; the choice is kept.
        root.geometry("800x600")
        person.wait(lambda: root.winfo_width() == 800)
        person.key("ctrl+e")
        person.wait(app._editor_shown)
        person.settle()
        assert app.panes.sash_coord(0)[0] < chosen
        assert visible(root, app.answering.send_button)
    finally:
        app.close()
    state = json.loads(config.paths().state_file.read_text())
    assert state["sidebar_width"] == chosen
