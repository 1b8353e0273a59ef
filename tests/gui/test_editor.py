"""The editor pane in the real window under Xvfb, with the real embedded model."""

from __future__ import annotations

import dataclasses
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook import config
from codenook.assist.tools.diffs import make_diff
from codenook.gui.app import App
from tests.gui.conftest import pump
from tests.gui.person import Person
from tests.gui.test_app import answered, login, make_app, stored_messages
from tests.scripted import ScriptedBackend

CODE = "import os\n\n\ndef files(folder):\n    return os.listdir(folder)\n"


@pytest.fixture
def window(account) -> Iterator[tuple[tk.Tk, App]]:
    root, app = make_app()
    app.editor.ask = lambda *_a, **_k: False  # "don't save" unless a test says otherwise
    try:
        login(root, app)
        app.toggle_editor(show=True)
        root.update()
        yield root, app
    finally:
        if not app.closing:
            app.close()


def open_file(root: tk.Tk, app: App, path: Path) -> None:
    app.open_in_editor(str(path))
    pump(root, lambda: app.editor.path == str(path))


def idle(root: tk.Tk, app: App) -> None:
    pump(root, lambda: not app.editor.highlight_busy)


def test_ctrl_e_toggles_the_pane_and_its_width_is_remembered(window) -> None:
    root, app = window
    assert app._editor_shown()
    first = app.editor.winfo_width()  # shown at login with the default width, not squeezed
    assert abs(first - config.UiSettings().editor_width) <= 8, first
    menus = range(app.menu.index("end") + 1)
    assert "Editor" in [
        app.menu.entrycget(i, "label") for i in menus if app.menu.type(i) == "cascade"
    ]
    # The user drags the sash between the chat and the editor (xdotool): a chosen width.
    sash = app.panes.sash_coord(1)[0]
    Person(root).drag(app.panes, sash + 2, app.panes.winfo_height() // 2, 130)
    pump(root, lambda: app.panes.sash_coord(1)[0] != sash)
    root.event_generate("<Control-e>")
    root.update()
    assert not app._editor_shown()
    assert app.settings.ui.editor_width == app.editor.winfo_width() >= 260
    app.toggle_editor()
    root.update()
    assert app._editor_shown()
    # Shown again at the width it had, not squeezed into what the chat left over.
    assert abs(app.editor.winfo_width() - app.settings.ui.editor_width) <= 8
    # Saved by the store worker (its queue empties before the job ends): wait for the file.
    pump(root, lambda: config.load_settings().ui.editor_width == app.settings.ui.editor_width)


def test_open_shows_line_numbers_highlighting_and_status(window, tmp_path: Path) -> None:
    root, app = window
    path = tmp_path / "tool.py"
    path.write_text(CODE, encoding="utf-8")
    open_file(root, app, path)
    idle(root, app)
    root.update()
    e = app.editor
    assert e.get_text() == CODE
    numbers = [e.gutter.itemcget(i, "text") for i in e.gutter.find_all()]
    assert numbers[:6] == ["1", "2", "3", "4", "5", "6"]
    assert "pyg.Keyword.Namespace" in e.text.tag_names("1.0")  # import
    assert "pyg.Name.Function" in e.text.tag_names("4.4")  # files
    e.text.mark_set("insert", "5.8")
    e.update_status()
    assert e.status.cget("text").startswith("Ln 5, Col 9")
    assert "Spaces: 4" in e.status.cget("text") and "Python" in e.status.cget("text")
    assert e.title_label.cget("text") == "tool.py"
    pump(root, lambda: str(path) in config.load_settings().ui.recent_files)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ("café = 1\n".encode("latin-1"), "is not UTF-8 text"),
        (b"\x7fELF\x00\x01", "binary"),
    ],
)
def test_binary_and_non_utf8_files_are_refused_with_a_message(
    window, tmp_path: Path, data: bytes, why: str
) -> None:
    root, app = window
    app.editor.set_text("kept = True\n")
    path = tmp_path / "bad.py"
    path.write_bytes(data)
    app.open_in_editor(str(path))
    pump(root, lambda: bool(app.editor.notice))
    assert why in app.editor.notice and str(path) in app.editor.notice
    assert app.editor.message.winfo_ismapped()
    assert app.editor.path is None and app.editor.get_text() == "kept = True\n"


def test_a_file_over_5_mb_is_refused(window, tmp_path: Path) -> None:
    root, app = window
    path = tmp_path / "big.py"
    with open(path, "wb") as f:
        f.truncate(5 * 1024 * 1024 + 1)
    app.open_in_editor(str(path))
    pump(root, lambda: bool(app.editor.notice))
    assert "5 MB" in app.editor.notice and app.editor.path is None


def type_keys(root: tk.Tk, widget: tk.Text, text: str) -> None:
    names = {" ": "space", "\n": "Return", ":": "colon", "(": "parenleft", ")": "parenright"}
    names |= {";": "semicolon", "[": "bracketleft", "]": "bracketright", "-": "minus"}
    for ch in text:
        widget.event_generate("<Key>", keysym=names.get(ch, ch))
    root.update()


def test_auto_indent_follows_the_language_and_the_file(window, tmp_path: Path) -> None:
    root, app = window
    e = app.editor
    e.completer.auto = False
    e.text.focus_force()
    e.set_text("")
    type_keys(root, e.text, "if x:\ny\n")
    assert e.get_text() == "if x:\n    y\n    "
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/bash\nmain() {\n\techo hi\n}\n", encoding="utf-8")
    open_file(root, app, script)
    assert e.language == "bash" and e.indent.tabs
    e.text.mark_set("insert", "end-1c")
    e.text.focus_force()
    type_keys(root, e.text, "if [ x ]; then\necho\n")
    assert e.get_text().endswith("if [ x ]; then\n\techo\n\t")
    e.text.event_generate("<Tab>")
    assert e.get_text().endswith("\techo\n\t\t")


def test_dirty_marker_and_the_save_prompt_on_close(window, tmp_path: Path) -> None:
    root, app = window
    path = tmp_path / "tool.py"
    path.write_text(CODE, encoding="utf-8")
    open_file(root, app, path)
    e = app.editor
    e.text.insert("1.0", "# note\n")
    root.update()
    assert e.dirty and e.title_label.cget("text") == "● tool.py"
    asked: list[str] = []
    e.ask = lambda title, message, **_k: asked.append(message)  # None: Cancel
    app.close()
    assert not app.closing and asked == ["Save the changes to tool.py?"]
    e.ask = lambda *_a, **_k: True  # Save
    app.close()
    assert app.closing
    assert path.read_text(encoding="utf-8") == "# note\n" + CODE


def test_save_keeps_crlf_bytes_and_undo_redo_work(window, tmp_path: Path) -> None:
    root, app = window
    path = tmp_path / "win.py"
    original = b"x = 1\r\ny = 2\r\n"
    path.write_bytes(original)
    open_file(root, app, path)
    e = app.editor
    assert e.get_text() == "x = 1\ny = 2\n" and "CRLF" in e.status.cget("text")
    e.text.insert("2.0", "z = 3\n")
    e.text.event_generate("<Control-s>")
    pump(root, lambda: path.read_bytes() != original)
    assert path.read_bytes() == b"x = 1\r\nz = 3\r\ny = 2\r\n"
    assert not e.dirty and e.title_label.cget("text") == "win.py"
    e.undo()
    assert e.get_text() == "x = 1\ny = 2\n"
    e.redo()
    assert e.get_text() == "x = 1\nz = 3\ny = 2\n"


def test_highlighting_redoes_only_the_edited_region(window) -> None:
    root, app = window
    e = app.editor
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(400))
    e.set_text(body, path="many.py")
    idle(root, app)
    passes: list[tuple[int, str]] = []
    real = e.highlighter.retag

    def spy(start: str, end: str, ranges: dict) -> None:
        passes.append((int(end.split(".")[0]) - int(start.split(".")[0]), start))
        real(start, end, ranges)

    e.highlighter.retag = spy
    e.text.insert("599.18", " * 2")  # an ordinary edit: that line alone
    idle(root, app)
    assert passes == [(1, "599.0")]
    assert "pyg.Literal.Number.Integer" in e.text.tag_names("599.21")
    passes.clear()
    e.text.insert("10.0", '"""')  # opens a string: every line after changes colour
    idle(root, app)
    assert sum(n for n, _ in passes) >= 1190
    assert "pyg.Literal.String.Double" in e.text.tag_names("898.0")
    passes.clear()
    e.undo()
    idle(root, app)
    assert "pyg.Keyword" in e.text.tag_names("898.0")


def insert_buttons(app: App) -> list[tk.Button]:
    return [b for b in app.transcript._buttons if b.cget("text") == "Insert into editor"]


def test_insert_into_editor_from_a_chat_code_block(window) -> None:
    _root, app = window
    e = app.editor
    e.set_text("a = 1\nb = 2\n")
    app.transcript.add_answer("Use this:\n\n```python\nc = 3\n```\n", message_id=None)
    (button,) = insert_buttons(app)
    e.text.mark_set("insert", "2.0")
    button.invoke()
    assert e.get_text() == "a = 1\nc = 3\nb = 2\n"
    e.undo()
    assert e.get_text() == "a = 1\nb = 2\n"
    e.text.tag_add("sel", "1.0", "1.5")  # over the selection, also one step
    button.invoke()
    assert e.get_text() == "c = 3\n\nb = 2\n"
    e.undo()
    assert e.get_text() == "a = 1\nb = 2\n"


def test_review_with_the_real_model_answers_in_the_chat(window, tmp_path: Path) -> None:
    root, app = window
    path = tmp_path / "tool.py"
    path.write_text(CODE, encoding="utf-8")
    open_file(root, app, path)
    seen: list = []
    real = app.editor.jobs.job_done
    app.editor.jobs.job_done = lambda base, result, events: (
        seen.append(result) or real(base, result, events)
    )
    assert app.editor.jobs.review()
    pump(root, lambda: answered(app) and bool(seen), timeout=180)
    (result,) = seen
    assert result.job == "review" and result.answer is not None
    shown = app.transcript.content()
    assert "Review tool.py" in shown
    assert result.answer.text.split()[0] in shown
    assert [m.role for m in stored_messages(app)] == ["user", "assistant"]
    assert path.read_text(encoding="utf-8") == CODE  # a review never writes by itself


def test_explain_the_selection_with_the_real_model(window) -> None:
    root, app = window
    e = app.editor
    e.set_text(CODE)
    e.text.tag_add("sel", "4.0", "6.0")
    assert e.jobs.explain_selection()
    pump(root, lambda: answered(app), timeout=180)
    asked = stored_messages(app)[0].content
    assert "def files(folder):" in asked and "import os" not in asked
    assert "Explain the selection in untitled" in app.transcript.content()


def test_a_review_diff_applied_and_undone_restores_the_original_bytes(
    window, tmp_path: Path
) -> None:
    root, app = window
    path = tmp_path / "tool.py"
    original = CODE.encode("utf-8")
    path.write_bytes(original)
    open_file(root, app, path)
    fixed = CODE.replace("def files(folder):", "def files(folder: str) -> list[str]:")
    diff = make_diff(CODE, fixed, "tool.py")
    # A scripted model here, so that the review surely proposes this diff (the real
    # model's review is the test above).
    app.answering.backend = ScriptedBackend([f"Add type hints.\n\n```diff\n{diff}```\n"])
    app.answering.forget_session()
    assert app.editor.jobs.review()
    pump(root, lambda: answered(app) and app.editor.diff_view.winfo_ismapped(), timeout=60)
    view = app.editor.diff_view
    assert "+def files(folder: str) -> list[str]:" in view.content()
    assert "ruff" in view.content()  # the linters' findings come with it
    added = view.text.tag_ranges("added")
    assert added and "+def files" in view.text.get(added[0], added[1])
    assert view.text.tag_ranges("removed")
    view.apply_button.invoke()
    pump(root, lambda: app.editor.get_text() == fixed, timeout=30)
    assert not view.winfo_ismapped()
    app.editor.undo()  # Apply was one undo step
    assert app.editor.get_text() == CODE
    app.editor.save()
    pump(root, lambda: path.read_bytes() == original and not app.editor.dirty)


def test_reject_leaves_the_buffer_alone(window) -> None:
    root, app = window
    e = app.editor
    e.set_text(CODE)
    e.jobs.propose_diff(make_diff(CODE, "x\n", "untitled"), title="Proposed change")
    root.update()
    assert e.diff_view.winfo_ismapped()
    e.diff_view.reject_button.invoke()
    root.update()
    assert not e.diff_view.winfo_ismapped() and e.get_text() == CODE and not e.dirty


def test_document_with_the_real_model_offers_the_docstring_as_a_diff(window) -> None:
    root, app = window
    # Room for a whole docstring: one cut at the token limit is left out (issue 18).
    gen = config.GenerationSettings(max_tokens=160, temperature=0.0, seed=1)
    app.settings = dataclasses.replace(app.settings, generation=gen)
    e = app.editor
    e.set_text(CODE, path=None)
    assert e.jobs.document()
    pump(root, lambda: answered(app) and e.diff_view.winfo_ismapped(), timeout=180)
    added = [ln for ln in e.diff_view.diff.splitlines() if ln.startswith("+") and '"""' in ln]
    assert added, e.diff_view.diff  # a docstring line is proposed
    assert e.get_text() == CODE  # nothing changes before Apply
    e.diff_view.apply_button.invoke()
    pump(root, lambda: e.get_text() != CODE, timeout=30)
    assert '"""' in e.get_text()
    e.undo()
    assert e.get_text() == CODE
