"""The project chooser and the answer's source links, through the answering controller.

The window's real controller, transcript and workers over a scripted model; the
fixture repository indexed for real (keyword search) in the test's database.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from codenook.assist.project import index
from codenook.auth import Auth
from codenook.gui.controllers.answering import AnsweringController
from codenook.gui.dispatch import JobRequest
from codenook.gui.editor_io import FileRead
from codenook.gui.events import ModelReady
from codenook.gui.sourcelinks import ALL, NONE, grounded, resolve
from codenook.store.db import open_database
from tests.conftest import PASSWORD
from tests.gui.controllers.fakehost import FakeHost
from tests.gui.controllers.test_answering import FAST, answered, pick
from tests.scripted import ScriptedBackend

QUESTION = "Which items need to be reordered because their quantity is low?"


@pytest.fixture
def host(repo: Path) -> Iterator[FakeHost]:
    h = FakeHost(FAST)
    db = open_database()
    h.user = Auth(db).create_user("alice", "pumpkin-harbor-31")
    index.add(db, h.user, repo, name="stockroom", semantic=False)
    db.close()
    h.opened = []
    h.open_in_editor = h.opened.append  # the window shows its editor pane here
    yield h
    h.close()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    import shutil

    from tests.assist.project.conftest import FIXTURE_REPO

    dest = tmp_path / "stockroom-repo"
    shutil.copytree(FIXTURE_REPO, dest)
    return dest


def click(text: tk.Text, tag: str) -> None:
    """A click on the first character of ``tag``, as the mouse makes it."""
    first = text.tag_ranges(tag)[0]
    text.see(first)
    text.update()
    x, y, _w, h = text.bbox(first)
    # Tk finds the tag under the mouse by its "current" mark, which motion moves.
    text.event_generate("<Motion>", x=x + 1, y=y + h // 2)
    text.event_generate("<Button-1>", x=x + 1, y=y + h // 2)
    text.event_generate("<ButtonRelease-1>", x=x + 1, y=y + h // 2)


def test_the_chooser_grounds_the_ask_and_sources_open_at_their_line(
    host: FakeHost, repo: Path
) -> None:
    backend = ScriptedBackend(["Use low_stock in db.py.\n", "I cannot see your code.\n"])
    a = AnsweringController(host)
    a.build(host.root).pack()
    host.bus.publish(ModelReady(backend))
    host.pump(lambda: "stockroom" in a.projects.box.cget("values"))
    assert list(a.projects.box.cget("values")) == [ALL, "stockroom", NONE]
    pick(a.projects.box, "stockroom")
    a.send(QUESTION)
    host.pump(lambda: answered(host, a))
    sent = backend.calls[-1][-1].content
    assert "[stockroom/db.py:62-" in sent and "def low_stock" in sent
    shown = host.transcript.content()
    assert "Sources: stockroom/db.py:62" in shown
    text = host.transcript.text
    tag = next(t for t in text.tag_names() if t.startswith("href"))
    assert text.get(*text.tag_ranges(tag)) == "stockroom/db.py:62"
    click(text, tag)
    assert host.opened == [str(repo / "stockroom" / "db.py")]
    # The editor reads the file on a worker; once it is in, the cursor is on line 62.
    editor = tk.Text(host.root)
    editor.insert("1.0", (repo / "stockroom" / "db.py").read_text())
    files = SimpleNamespace(buffer=SimpleNamespace(text=editor))
    host.bus.publish(FileRead(files, host.opened[0], editor.get("1.0", "end-1c")))
    host.pump(lambda: editor.index("insert") == "62.0")
    # None: the same question goes bare, and no links follow the answer.
    pick(a.projects.box, NONE)
    a.send(QUESTION)
    host.pump(lambda: answered(host, a) and len(backend.calls) == 2)
    assert "stockroom/db.py" not in backend.calls[-1][-1].content
    assert host.transcript.content().count("Sources: stockroom") == 1


def test_grounded_options_and_resolving_sources(host: FakeHost, repo: Path) -> None:
    ask = JobRequest("ask", {"question": "q"}, "q")
    assert grounded(ask, ALL).options == {"question": "q"}
    assert grounded(ask, NONE).options["context"] is False
    assert grounded(ask, "stockroom").options["project"] == "stockroom"
    db = open_database()
    try:
        links = resolve(db, host.user.id, ["pydoc sqlite3", "stockroom/db.py:14", "gone.py:3"])
        other = Auth(db).create_user("bob", "pumpkin-harbor-31", by=host.user)
        assert resolve(db, other.id, ["stockroom/db.py:14"]) == ()  # not bob's project
    finally:
        db.close()
    assert [(k.label, k.path, k.line) for k in links] == [
        ("stockroom/db.py:14", str(repo / "stockroom" / "db.py"), 14)
    ]


def test_in_the_real_window_a_source_link_opens_the_file_at_its_line(
    account: str, repo: Path
) -> None:
    from tests.gui.conftest import pump
    from tests.gui.test_app import answered as window_answered
    from tests.gui.test_app import login, make_app

    db = open_database()
    try:
        tester = Auth(db).verify("tester", PASSWORD)
        index.add(db, tester, repo, name="stockroom", semantic=False)
    finally:
        db.close()
    root, app = make_app()
    try:
        login(root, app)
        box = app.answering.projects.box
        pump(root, lambda: "stockroom" in box.cget("values"))  # read at login
        pick(box, "stockroom")
        app.answering.send(QUESTION)
        pump(root, lambda: window_answered(app) and "Sources:" in app.transcript.content())
        text = app.transcript.text
        tag = next(
            t
            for t in text.tag_names()
            if t.startswith("href") and text.get(*text.tag_ranges(t)) == "stockroom/db.py:62"
        )
        click(text, tag)
        path = str(repo / "stockroom" / "db.py")
        pump(root, lambda: app.editor.path == path and app.editor.text.index("insert") == "62.0")
        assert app.editor.text.get("62.0", "62.end").strip().startswith("def low_stock")
    finally:
        app.close()


def test_sources_that_are_no_files_are_shown_as_plain_text(host: FakeHost) -> None:
    clicked: list[str] = []
    before = set(host.transcript.text.tag_names())
    host.transcript.add_links(
        "Sources:", [("a.py:1", lambda: clicked.append("a")), ("pydoc json", None)]
    )
    assert "Sources: a.py:1, pydoc json" in host.transcript.content()
    new = [t for t in host.transcript.text.tag_names() if t not in before]
    assert [host.transcript.text.get(*host.transcript.text.tag_ranges(t)) for t in new] == [
        "a.py:1"
    ]
