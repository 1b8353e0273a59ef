"""Migration 3 and the interaction-log queries, on a real SQLite file."""

import sqlite3
from pathlib import Path

import pytest

from codenook.store import conversations as store
from codenook.store import feedback, interactions, migrations
from codenook.store.db import open_database

PW = "pumpkin-harbor-31"


def answer(db, user_id: int, **figures) -> int:
    cid = store.create_conversation(db, user_id, title="t", system_prompt="sys")
    store.add_message(db, user_id, cid, role="user", content="q")
    return store.add_message(db, user_id, cid, role="assistant", content="a", **figures)


def test_schema_2_with_answers_is_upgraded_keeping_them(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    raw = sqlite3.connect(path, isolation_level=None)
    saved = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = saved[:2]
        migrations.migrate(raw)
    finally:
        migrations.MIGRATIONS = saved
    raw.execute("INSERT INTO users VALUES (1, 'a', 'a', 'x', 1, 0)")
    raw.execute("INSERT INTO conversations VALUES (1, 1, 't', 's', '{}', 0, 0)")
    raw.execute(
        "INSERT INTO messages (id, conversation_id, user_id, role, content, task, model, created) "
        "VALUES (7, 1, 1, 'assistant', 'old answer', 'ask', 'm', 5)"
    )
    raw.close()
    db = open_database(path)
    assert migrations.schema_version(db) == len(migrations.MIGRATIONS)
    [old] = interactions.answers(db, 1)
    assert (old.id, old.task, old.vote, old.model_sha256, old.tool_results) == (
        7,
        "ask",
        0,
        None,
        None,
    )
    assert {"feedback"} <= {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()


def test_json_figures_round_trip_and_filters(db, users) -> None:
    alice, _ = users
    tools = {"lint_findings": 3, "validation_passed": False, "sandbox_exit": 1}
    a = answer(db, alice.id, task="generate", settings={"temperature": 0.2}, tool_results=tools)
    b = answer(db, alice.id, task="ask")
    entries = interactions.answers(db, alice.id)
    assert [e.id for e in entries] == [b, a]
    assert entries[1].settings == {"temperature": 0.2} and entries[1].tool_results == tools
    assert [e.id for e in interactions.answers(db, alice.id, task="generate")] == [a]
    assert interactions.answers(db, alice.id, since=entries[0].created + 1) == []
    assert interactions.merge_tool_results(db, alice.id, a, {"sandbox_exit": 0, "extra": "x"})
    assert interactions.answers(db, alice.id, task="generate")[0].tool_results == {
        **tools,
        "sandbox_exit": 0,
        "extra": "x",
    }


def test_votes_are_checked_and_owned(db, users) -> None:
    alice, bob = users
    a = answer(db, alice.id)
    assert interactions.set_vote(db, alice.id, a, 1)
    assert not interactions.set_vote(db, bob.id, a, -1)
    assert not interactions.set_vote(db, alice.id, a - 1, 1)  # the question, not an answer
    assert interactions.answers(db, alice.id)[0].vote == 1
    with pytest.raises(sqlite3.IntegrityError):
        interactions.set_vote(db, alice.id, a, 2)


def test_the_schema_refuses_feedback_on_another_users_answer(db, users) -> None:
    alice, bob = users
    a = answer(db, alice.id)
    with pytest.raises(sqlite3.IntegrityError):
        feedback.insert_feedback(
            db, bob.id, a, rating=3, category="other", comment="", include_conversation=False
        )
    for bad in ({"rating": 6}, {"category": "rude"}, {"comment": "x" * 5001}):
        fields = {"rating": 3, "category": "other", "comment": "", **bad}
        with pytest.raises(sqlite3.IntegrityError):
            feedback.insert_feedback(db, alice.id, a, include_conversation=False, **fields)
    assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0


def test_deleting_a_conversation_deletes_its_feedback(db, users) -> None:
    alice, _ = users
    a = answer(db, alice.id)
    feedback.insert_feedback(
        db, alice.id, a, rating=2, category="unclear", comment="", include_conversation=True
    )
    cid = interactions.answers(db, alice.id)[0].conversation_id
    assert store.delete_conversation(db, alice.id, cid)
    assert db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 0


def test_model_hash_is_filled_in_only_where_missing(db, users) -> None:
    alice, bob = users
    a = answer(db, alice.id)
    b = answer(db, alice.id, model_sha256="kept")
    assert interactions.set_model_sha256(db, bob.id, [a], "f" * 64) == 0
    assert interactions.set_model_sha256(db, alice.id, [a, b], "f" * 64) == 1
    assert {e.id: e.model_sha256 for e in interactions.answers(db, alice.id)} == {
        a: "f" * 64,
        b: "kept",
    }


def test_schema_7_answers_gain_an_empty_adapter_and_new_ones_keep_theirs(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    raw = sqlite3.connect(path, isolation_level=None)
    saved = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = saved[:7]
        migrations.migrate(raw)
    finally:
        migrations.MIGRATIONS = saved
    raw.execute("INSERT INTO users VALUES (1, 'a', 'a', 'x', 1, 0, NULL)")
    raw.execute("INSERT INTO conversations VALUES (1, 1, 't', 's', '{}', 0, 0)")
    raw.execute(
        "INSERT INTO messages (id, conversation_id, user_id, role, content, task, created) "
        "VALUES (7, 1, 1, 'assistant', 'old answer', 'ask', 5)"
    )
    raw.close()
    db = open_database(path)
    assert migrations.schema_version(db) == 8 == len(migrations.MIGRATIONS)
    tuned = answer(db, 1, task="ask", model="SmolLM2", adapter="my-code")
    entries = {e.id: e for e in interactions.answers(db, 1)}
    assert entries[7].adapter is None and entries[tuned].adapter == "my-code"
    assert entries[tuned].as_dict()["adapter"] == "my-code"  # log --json shows it
    db.close()
