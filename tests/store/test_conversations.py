import pytest

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
