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


def test_a_regenerated_answer_reloads_the_conversation(host: FakeHost, stored) -> None:
    user, (zebras, _arrays) = stored
    c = make(host)
    host.user = user
    figures = {"message_id": 1, "conversation_id": zebras, "reload": True, "text": ""}
    host.bus.publish(AnswerDone(figures))
    host.pump(lambda: "About Zebras." in host.transcript.content() and len(c.conversations) == 2)
    assert host.conversation_id == zebras


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
