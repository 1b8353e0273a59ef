"""The conversations controller against a minimal host and a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.auth import Auth
from codenook.gui.controllers import conversations as module
from codenook.gui.controllers.conversations import ConversationsController
from codenook.gui.events import AnswerDone, LoggedIn, LoggedOut, Note
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.gui.controllers.fakehost import FakeHost, recorder


@pytest.fixture
def host() -> Iterator[FakeHost]:
    h = FakeHost()
    yield h
    h.close()


@pytest.fixture
def stored() -> tuple:
    """A user with two conversations: zebras (older) and arrays (newer)."""
    db = open_database()
    user = Auth(db).create_user("alice", "pumpkin-harbor-31")
    ids = []
    for title, question in (("Zebras", "Tell me about zebras."), ("Arrays", "Bash arrays?")):
        conv = store.create_conversation(db, user.id, title=title, system_prompt="s")
        store.add_message(db, user.id, conv, role="user", content=question)
        store.add_message(db, user.id, conv, role="assistant", content=f"About {title}.")
        ids.append(conv)
    db.close()
    return user, ids


def make(host: FakeHost) -> ConversationsController:
    c = ConversationsController(host)
    c.build(host.root).pack()
    return c


def titles(c: ConversationsController) -> list[str]:
    return [r.title for r in c.conversations]


def test_login_lists_newest_first_and_opens_the_newest(host: FakeHost, stored) -> None:
    user, (zebras, arrays) = stored
    c = make(host)
    host.user = user
    host.bus.publish(LoggedIn(user))
    host.pump(lambda: "About Arrays." in host.transcript.content())
    assert titles(c) == ["Arrays", "Zebras"]
    assert host.conversation_id == arrays
    assert c.conv_list.get(0, "end") == ("Arrays", "Zebras")
    c.open_conversation(zebras)
    host.pump(lambda: "About Zebras." in host.transcript.content())
    assert "About Arrays." not in host.transcript.content()


def test_search_rename_delete_and_new(host: FakeHost, stored) -> None:
    user, (zebras, arrays) = stored
    c = make(host)
    host.user = user
    c.refresh()
    host.pump(lambda: len(c.conversations) == 2)
    c.search_entry.insert(0, "zebras")
    c.search()
    host.pump(lambda: titles(c) == ["Zebras"])
    c.clear_search()
    host.pump(lambda: len(c.conversations) == 2)
    c.rename(zebras, "  Striped   horses ")
    host.pump(lambda: "Striped horses" in titles(c))
    host.conversation_id = arrays
    c.delete(arrays, confirm=False)
    host.pump(lambda: titles(c) == ["Striped horses"])
    assert host.conversation_id is None  # the open one was deleted: a new one began
    host.transcript.add_user("draft")
    focused = host.focused
    c.new_conversation()
    assert host.transcript.content() == "" and host.focused == focused + 1


def test_nothing_opens_while_an_answer_runs_and_logout_clears(host: FakeHost, stored) -> None:
    user, (zebras, _arrays) = stored
    c = make(host)
    host.user, host.busy, host.conversation_id = user, True, 7
    c.open_conversation(zebras)
    c.new_conversation()
    assert host.conversation_id == 7
    host.busy = False
    host.transcript.add_user("shown")
    host.bus.publish(LoggedOut())
    assert host.conversation_id is None and host.transcript.content() == ""


def test_a_regenerated_answer_is_not_reloaded_over_the_transcript(host: FakeHost, stored) -> None:
    """The new answer streamed in place of the old one: the transcript is not cleared and
    shown anew (which blanked it, issue 18 point 8); the sidebar is refreshed."""
    user, (zebras, _arrays) = stored
    c = make(host)
    host.user, host.conversation_id = user, zebras
    host.transcript.add_user("Tell me about zebras.")
    host.transcript.add_answer("Striped.", message_id=1)
    figures = {"message_id": 1, "conversation_id": zebras, "reload": True, "text": ""}
    host.bus.publish(AnswerDone(figures))
    host.pump(lambda: len(c.conversations) == 2 and host.idle())
    assert "Striped." in host.transcript.content()
    assert "About Zebras." not in host.transcript.content()


def test_export_writes_markdown_and_says_where(
    host: FakeHost, stored, tmp_path, monkeypatch
) -> None:
    user, (zebras, _arrays) = stored
    c = make(host)
    notes = recorder(host.bus, Note)
    host.bus.subscribe(module.Saved, lambda e: host.bus.publish(Note(f"Saved {e.path}")))
    target = tmp_path / "out.md"
    monkeypatch.setattr(module.filedialog, "asksaveasfilename", lambda **_k: str(target))
    host.user, host.conversation_id = user, zebras
    c.export("md")
    host.pump(lambda: bool(notes))
    assert notes == [Note(f"Saved {target}")]
    text = target.read_text(encoding="utf-8")
    assert "Tell me about zebras." in text and "About Zebras." in text


def test_a_reopened_answer_cut_at_the_token_limit_says_so(host: FakeHost, stored) -> None:
    user, (zebras, _arrays) = stored
    db = open_database()
    store.add_message(db, user.id, zebras, role="user", content="Count to 500.")
    store.add_message(
        db,
        user.id,
        zebras,
        role="assistant",
        content="1\n2\n3",
        finish_reason="length",
        answer_tokens=6,
    )
    db.close()
    c = make(host)
    host.user = user
    c.open_conversation(zebras)
    host.pump(lambda: "1\n2\n3" in host.transcript.content())
    assert "The answer was cut at the token limit (6 tokens): it is incomplete." in (
        host.transcript.content()
    )


def test_a_new_conversation_is_listed_when_its_question_is_sent(host: FakeHost, stored) -> None:
    user, _ids = stored
    c = make(host)
    host.user = user
    c.refresh()
    host.pump(lambda: len(c.conversations) == 2)
    host.bus.publish(module.QuestionSent(None, "How do I sort a list in Python?"))
    host.pump(host.idle)
    assert c.conv_list.get(0) == "How do I sort a list in Python?"
    assert c.conv_list.curselection() == (0,)
    c.conv_list.event_generate("<<ListboxSelect>>")  # the pending row opens nothing
    host.pump(host.idle)
    assert host.conversation_id is None
