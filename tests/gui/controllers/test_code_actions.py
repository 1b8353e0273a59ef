"""The code actions controller against a minimal host: copy, save, run, vote, feedback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.auth import Auth
from codenook.gui.controllers import code_actions as module
from codenook.gui.controllers.code_actions import CodeActionsController
from codenook.gui.events import AnswerDone, Note
from codenook.gui.markdown import CodeBlock
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.gui.controllers.fakehost import FakeHost, recorder


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
