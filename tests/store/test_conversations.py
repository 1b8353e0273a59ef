import pytest

from codenook import errors
from codenook.auth import Auth
from codenook.store import conversations as store
from codenook.store.db import open_database


@pytest.fixture
def db_user():
    db = open_database()
    user = Auth(db).create_user("alice", "pumpkin-harbor-31")
    yield db, user
    db.close()


def test_title_is_first_line_cut_to_60() -> None:
    assert store.make_title("short") == "short"
    assert store.make_title("a\n  b") == "a b"
    long = store.make_title("x" * 100)
    assert len(long) == 60 and long.endswith("…")


def test_search_escapes_fts_syntax(db_user) -> None:
    db, user = db_user
    cid = store.create_conversation(db, user.id, title="t", system_prompt="s")
    store.add_message(db, user.id, cid, role="user", content='what does "AND" OR NOT mean*')
    assert store.search(db, user.id, '"AND" OR NOT') != []
    assert store.search(db, user.id, "NEAR( ) ^ : -") == []
    assert store.search(db, user.id, "   ") == []


def test_updates_reach_the_search_index_and_deletes_cascade(db_user) -> None:
    db, user = db_user
    cid = store.create_conversation(db, user.id, title="t", system_prompt="s")
    mid = store.add_message(db, user.id, cid, role="assistant", content="", complete=False)
    store.update_message(
        db, user.id, mid, content="streamed platypus", complete=True, finish_reason="stop"
    )
    assert [h.message_id for h in store.search(db, user.id, "platypus")] == [mid]
    assert store.delete_conversation(db, user.id, cid)
    assert store.search(db, user.id, "platypus") == []
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_unknown_figures_are_refused(db_user) -> None:
    db, user = db_user
    cid = store.create_conversation(db, user.id, title="t", system_prompt="s")
    with pytest.raises(ValueError):
        store.add_message(db, user.id, cid, role="user", content="x", evil="1")


def test_saving_an_answer_whose_account_was_removed_says_so(db_user) -> None:
    db, user = db_user
    cid = store.create_conversation(db, user.id, title="t", system_prompt="s")
    mid = store.add_message(db, user.id, cid, role="assistant", content="", complete=False)
    # Another process removes the account while the answer streams.
    other = open_database()
    other.execute("DELETE FROM users WHERE id = ?", (user.id,))
    other.close()
    with pytest.raises(errors.StoreGoneError, match="no longer exists"):
        store.update_message(db, user.id, mid, content="half an answer", complete=False)
    with pytest.raises(errors.StoreGoneError, match="log in again"):
        store.add_message(db, user.id, cid, role="user", content="next question")
    with pytest.raises(errors.StoreGoneError):
        store.create_conversation(db, user.id, title="t", system_prompt="s")


def test_what_the_user_typed_is_kept_apart_from_the_prompt(db_user) -> None:
    db, user = db_user
    cid = store.create_conversation(db, user.id, title="t", system_prompt="s")
    prompt = "Review a.py (Python, 2 lines).\n\n```\n1 | x = 1\n```\n3. Propose a fix as a diff."
    asked = store.add_message(db, user.id, cid, role="user", content=prompt, shown="Check a.py")
    plain = store.add_message(db, user.id, cid, role="user", content="hello")
    rows = {m.id: m for m in store.messages(db, user.id, cid)}
    assert rows[asked].content == prompt  # what the model was given
    assert rows[asked].shown == "Check a.py" and rows[asked].as_shown == "Check a.py"
    assert rows[plain].shown is None and rows[plain].as_shown == "hello"


def test_messages_stored_before_the_shown_column_read_as_typed(tmp_path) -> None:
    """Migration 7 adds the column; older rows have none: their content is what was typed."""
    import sqlite3

    from codenook.store import migrations

    path = tmp_path / "old.db"
    raw = sqlite3.connect(path, isolation_level=None)
    saved = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = saved[:6]
        migrations.migrate(raw)
    finally:
        migrations.MIGRATIONS = saved
    raw.execute(
        "INSERT INTO users (id, name, name_key, password_hash, is_admin, created) "
        "VALUES (1, 'old', 'old', 'x', 1, 0)"
    )
    raw.execute(
        "INSERT INTO conversations (id, user_id, title, system_prompt, created, updated) "
        "VALUES (1, 1, 't', 's', 0, 0)"
    )
    raw.execute(
        "INSERT INTO messages (conversation_id, user_id, role, content, created) "
        "VALUES (1, 1, 'user', 'an old question', 0)"
    )
    raw.close()
    db = open_database(path)
    try:
        (row,) = store.messages(db, 1, 1)
        assert migrations.schema_version(db) == len(migrations.MIGRATIONS)
        assert row.shown is None and row.as_shown == "an old question"
    finally:
        db.close()
