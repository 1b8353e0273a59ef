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
