"""The code actions controller against a minimal host: copy, save, run, vote, feedback."""

from __future__ import annotations

import subprocess
import tkinter as tk
from collections.abc import Iterator

import pytest

from codenook.auth import Auth
from codenook.gui.controllers import code_actions as module
from codenook.gui.controllers.code_actions import CodeActionsController
from codenook.gui.events import AnswerDone, Note
from codenook.gui.markdown import CodeBlock
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.gui.conftest import pump
from tests.gui.controllers.fakehost import FakeHost, recorder
from tests.gui.test_app import answered, login, make_app


@pytest.fixture
def host() -> Iterator[FakeHost]:
    h = FakeHost()
    yield h
    h.close()


def block(code: str, language: str = "python") -> CodeBlock:
    return CodeBlock(code=code, language=language)


def test_copy_puts_the_code_on_the_clipboard_and_says_so(host: FakeHost) -> None:
    c = CodeActionsController(host)
    notes = recorder(host.bus, Note)
    c.copy_code(block("print(2 + 2)\n"))
    assert host.root.clipboard_get() == "print(2 + 2)\n"
    assert notes == [Note("Code copied")]


def test_save_writes_the_block_where_the_user_chose(host: FakeHost, tmp_path, monkeypatch) -> None:
    c = CodeActionsController(host)
    notes = recorder(host.bus, Note)
    target = tmp_path / "snippet.sh"
    asked: list[dict] = []

    def ask(**kw: object) -> str:
        asked.append(kw)
        return str(target)

    monkeypatch.setattr(module.filedialog, "asksaveasfilename", ask)
    c.save_code(block("echo hi\n", "bash"))
    host.pump(lambda: bool(notes))
    assert asked[0]["defaultextension"] == ".sh"
    assert target.read_text(encoding="utf-8") == "echo hi\n"
    assert notes == [Note(f"Saved {target}")]


def test_run_shows_the_sandbox_output_in_the_transcript(host: FakeHost) -> None:
    c = CodeActionsController(host)
    notes = recorder(host.bus, Note)
    c.run_code(block("print(6 * 7)\n"))
    assert notes == [Note("Running python in the sandbox…")]
    host.pump(lambda: "exit 0" in host.transcript.content(), timeout=60)
    assert "42" in host.transcript.content()
    assert notes[-1] == Note("")


def test_votes_are_stored_and_feedback_needs_an_answer(host: FakeHost, monkeypatch) -> None:
    db = open_database()
    user = Auth(db).create_user("alice", "pumpkin-harbor-31")
    conv = store.create_conversation(db, user.id, title="t", system_prompt="s")
    store.add_message(db, user.id, conv, role="user", content="q")
    answer = store.add_message(db, user.id, conv, role="assistant", content="a")
    c = CodeActionsController(host)
    notes = recorder(host.bus, Note)
    assert c.open_feedback() is None  # before login and before any answer
    assert "ask something first" in host.transcript.content()
    host.user = user
    c.vote(answer, 1)
    host.pump(lambda: bool(notes))
    assert notes == [Note("Thanks for the feedback")]
    vote = db.execute("SELECT vote FROM messages WHERE id = ?", (answer,)).fetchone()[0]
    db.close()
    assert vote == 1
    opened: list[int] = []
    monkeypatch.setattr(
        module, "FeedbackDialog", lambda _root, **kw: opened.append(kw["message_id"])
    )
    host.bus.publish(AnswerDone({"message_id": answer, "text": "a"}))
    c.open_feedback()  # the last answer is the one asked about
    assert opened == [answer]


def test_insert_goes_to_the_editor_through_the_host(host: FakeHost) -> None:
    actions = CodeActionsController(host).actions()
    assert actions.insert is not None
    actions.insert(block("x = 1\n"))
    assert host.inserted == ["x = 1\n"]


def click(root: tk.Misc, widget: tk.Widget) -> None:
    """A real mouse click in the middle of ``widget`` (xdotool on the test's X server)."""
    root.update()
    x = widget.winfo_rootx() + widget.winfo_width() // 2
    y = widget.winfo_rooty() + widget.winfo_height() // 2
    # From elsewhere, as a hand comes to a button: Tk's button acts on a press it entered.
    subprocess.run(["xdotool", "mousemove", "--sync", "1", "1"], check=True)
    root.update()
    subprocess.run(["xdotool", "mousemove", "--sync", str(x), str(y)], check=True)
    root.update()
    subprocess.run(["xdotool", "click", "1"], check=True)


def stored_vote(message_id: int) -> int:
    db = open_database()
    try:
        return db.execute("SELECT vote FROM messages WHERE id = ?", (message_id,)).fetchone()[0]
    finally:
        db.close()


def test_a_vote_stays_marked_after_the_click_and_after_reopening(account) -> None:
    root, app = make_app()
    try:
        login(root, app)
        app.answering.send("Say hi.")
        pump(root, lambda: answered(app))
        answer = app.answering.last_figures["message_id"]
        conv = app.conversation_id
        up = app.transcript.vote_buttons[answer][1]
        click(root, up)
        pump(root, lambda: stored_vote(answer) == 1)
        assert app.transcript.vote_shown(answer) == 1
        assert up.cget("relief") == "sunken" and up.cget("background") == app.theme.accent
        assert app.transcript.vote_buttons[answer][-1].cget("relief") == "flat"
        app.conversations.new_conversation()
        pump(root, lambda: answer not in app.transcript.vote_buttons)
        app.conversations.open_conversation(conv)
        pump(root, lambda: app.transcript.vote_shown(answer) == 1)
        app.set_theme("dark")  # a repaint keeps the mark
        assert app.transcript.vote_shown(answer) == 1
        # Pressing the marked vote again takes it back.
        click(root, app.transcript.vote_buttons[answer][1])
        pump(root, lambda: stored_vote(answer) == 0)
        assert app.transcript.vote_shown(answer) == 0
    finally:
        app.close()
