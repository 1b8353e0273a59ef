"""Ghost-text completion in the real window under Xvfb, with the real embedded model."""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook.gui.app import App
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.gui.conftest import pump
from tests.gui.test_app import login, make_app

SOURCE = "def add(a, b):\n    \n\n\nprint(add(1, 2))\n"


@pytest.fixture
def editor_window(account, tmp_path: Path) -> Iterator[tuple[tk.Tk, App, Path]]:
    root, app = make_app()
    app.editor.ask = lambda *_a, **_k: False  # a save prompt is answered "don't save"
    path = tmp_path / "add.py"
    path.write_text(SOURCE, encoding="utf-8")
    try:
        login(root, app)
        app.open_in_editor(str(path))
        pump(root, lambda: app.editor.path == str(path))
        app.editor.text.focus_force()
        yield root, app, path
    finally:
        if not app.closing:
            app.close()


def at_line_2_col_5(app: App) -> None:
    app.editor.text.mark_set("insert", "2.4")


def request_finished(app: App) -> bool:
    c = app.editor.completer
    return c.generation in c.timings.finished


def test_ctrl_space_shows_ghost_text_and_tab_inserts_exactly_it(editor_window) -> None:
    root, app, _ = editor_window
    editor = app.editor
    at_line_2_col_5(app)
    editor.text.event_generate("<Control-space>")
    pump(root, lambda: request_finished(app), timeout=120)
    ghost = editor.completer.ghost
    assert ghost.visible, editor.completer.status
    suggestion = ghost.text
    assert suggestion.strip()
    assert ghost.first.winfo_ismapped()  # drawn on screen, in grey
    assert ghost.first.cget("foreground") == app.theme.muted
    assert editor.get_text() == SOURCE  # the buffer never holds ghost text
    assert editor.completer.timings.first_ghost >= editor.completer.timings.sent > 0

    editor.text.event_generate("<Tab>")
    root.update()
    offset = len("def add(a, b):\n    ")
    assert editor.get_text() == SOURCE[:offset] + suggestion + SOURCE[offset:]
    assert not ghost.visible
    assert editor.dirty
    editor.undo()  # the accepted suggestion was one undo step
    assert editor.get_text() == SOURCE


def test_esc_dismisses_the_suggestion_and_leaves_the_buffer_unchanged(editor_window) -> None:
    root, app, _ = editor_window
    editor = app.editor
    at_line_2_col_5(app)
    editor.text.event_generate("<Control-space>")
    pump(root, lambda: request_finished(app), timeout=120)
    assert editor.completer.ghost.visible
    editor.text.event_generate("<Escape>")
    root.update()
    assert not editor.completer.ghost.visible
    assert not editor.completer.ghost.first.winfo_ismapped()
    assert editor.get_text() == SOURCE
    assert not editor.dirty


def test_typing_during_a_request_cancels_it_and_nothing_appears_later(editor_window) -> None:
    root, app, _ = editor_window
    editor = app.editor
    completer = editor.completer
    completer.auto = False  # only the explicit request: nothing new starts after the key
    at_line_2_col_5(app)
    editor.text.event_generate("<Control-space>")
    pending = completer.generation
    pump(root, lambda: completer.timings.sent > 0, timeout=60)  # the request is in flight
    editor.text.event_generate("<Key>", keysym="r")
    root.update()
    assert completer.generation > pending
    pump(root, lambda: pending in completer.timings.finished, timeout=120)
    # Let anything the worker still posts arrive: none of it may show.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        root.update()
        assert not completer.ghost.visible
        time.sleep(0.01)
    assert editor.get_text() == SOURCE.replace("b):\n    \n", "b):\n    r\n")
    # The model was stopped, not left to finish: the stored answer says cancelled.
    db = open_database()
    try:
        conv = completer._session.conversation_id
        answer = store.messages(db, app.user.id, conv)[-1]
    finally:
        db.close()
    assert answer.role == "assistant"
    assert answer.figures.get("finish_reason") == "cancelled"


def test_auto_complete_fires_after_the_pause(editor_window) -> None:
    root, app, _ = editor_window
    editor = app.editor
    completer = editor.completer
    completer.delay_ms = 150
    editor.text.mark_set("insert", "2.4")
    editor.text.event_generate("<Key>", keysym="r")
    before = completer.timings.requests
    root.update()
    assert completer.timings.requests == before  # not at once: after the pause
    pump(root, lambda: completer.timings.requests == before + 1, timeout=5)
    waited = (time.perf_counter() - completer.timings.key) * 1000
    assert waited >= 150
    pump(root, lambda: request_finished(app), timeout=120)


def test_a_suggestion_that_would_not_parse_is_dropped(editor_window) -> None:
    """The editor's completion passes the one check of code codenook writes."""
    from tests.scripted import ScriptedBackend

    root, app, _ = editor_window
    editor = app.editor
    real = editor.completer.model_context

    def scripted():  # on the model worker, as the real one
        ctx = real()
        if ctx is None:
            return None
        db, user, _, options = ctx
        return db, user, ScriptedBackend(["```python\n(a +\n```\n"]), options

    editor.completer.model_context = scripted
    for _ in range(60):  # until the model is ready
        at_line_2_col_5(app)
        editor.text.event_generate("<Control-space>")
        pump(root, lambda: request_finished(app), timeout=120)
        if "not ready" not in editor.completer.status:
            break
        time.sleep(1)
    assert not editor.completer.ghost.visible
    assert editor.completer.status.startswith("The suggestion was dropped: the code would not")
    assert "(line 2:" in editor.completer.status
    assert editor.get_text() == SOURCE


def test_a_suggestion_of_several_lines_pushes_the_next_lines_down_in_step_with_the_gutter(
    editor_window,
) -> None:
    """The lines after the cursor move down to make room; none is drawn over; the line
    numbers follow them; Esc gives the room back and takes the Tab hint away."""
    root, app, _ = editor_window
    editor, text = app.editor, app.editor.text

    def y_of(line: int) -> int:
        return text.dlineinfo(f"{line}.0")[1]

    def gutter_y(line: int) -> float:
        found = [
            editor.gutter.coords(item)[1]
            for item in editor.gutter.find_all()
            if editor.gutter.itemcget(item, "text") == str(line)
        ]
        assert found, f"line {line} is not numbered"
        return found[0]

    root.update()
    before = y_of(3)
    assert gutter_y(3) == before
    at_line_2_col_5(app)
    completer = editor.completer
    completer.ghost.show("insert", "total = a + b\n    print(total)\n    return total")
    completer.status = "Tab accepts · Esc dismisses"
    editor.update_status()
    pump(root, lambda: editor._chrome_after is None)
    ghost = completer.ghost
    rest_top = ghost.rest.winfo_y()
    rest_bottom = rest_top + ghost.rest.winfo_reqheight()
    line_height = before - y_of(2)
    assert y_of(3) == before + 2 * line_height  # line 3 moved down by the two lines
    assert ghost.first.winfo_y() == text.bbox("2.4")[1]  # the first line at the cursor
    assert rest_top >= y_of(2) and rest_bottom <= y_of(3)  # the two lines sit in the room
    assert gutter_y(3) == y_of(3)  # the number moved with its line
    text.focus_force()
    text.event_generate("<Escape>")
    pump(root, lambda: editor._chrome_after is None)
    assert not ghost.visible and y_of(3) == before and gutter_y(3) == before
    assert "Tab accepts" not in editor.status.cget("text")
    assert editor.get_text() == SOURCE
