"""Feedback: stored when valid, refused with a clear message (and nothing stored) when not."""

import pytest

from codenook.assist import feedback
from codenook.assist.interactions import AnswerNotFoundError
from codenook.redact import PLACEHOLDER
from codenook.store import conversations as store

PW = "pumpkin-harbor-31"
TOKEN = "sk-" + "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk"


def conversation(db, user, *pairs: tuple[str, str]) -> list[int]:
    """A conversation of question/answer pairs; returns the answers' ids."""
    cid = store.create_conversation(db, user.id, title="t", system_prompt="Be brief.")
    ids = []
    for q, a in pairs:
        store.add_message(db, user.id, cid, role="user", content=q)
        ids.append(store.add_message(db, user.id, cid, role="assistant", content=a, task="ask"))
    return ids


def count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]


def test_feedback_is_stored_and_listed_newest_first(db, users) -> None:
    alice, _ = users
    a, b = conversation(db, alice, ("q1", "a1"), ("q2", "a2"))
    first = feedback.submit_feedback(db, alice, a, rating=2, category="wrong code", comment="no")
    second = feedback.submit_feedback(
        db, alice, b, rating=5, category="Too-Slow", comment="x" * 5000, include_conversation=True
    )
    rows = feedback.list_feedback(db, alice)
    assert [r.id for r in rows] == [second, first]
    assert (rows[0].message_id, rows[0].rating, rows[0].category) == (b, 5, "too_slow")
    assert rows[0].include_conversation and len(rows[0].comment) == 5000
    assert (rows[1].category, rows[1].comment, rows[1].task) == ("wrong_code", "no", "ask")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": 0}, "from 1 to 5"),
        ({"rating": 6}, "from 1 to 5"),
        ({"rating": True}, "from 1 to 5"),
        ({"rating": "3"}, "from 1 to 5"),
        ({"category": "rude"}, "Unknown category 'rude': choose one of wrong code, unclear"),
        ({"comment": "x" * 5001}, "5,001 characters; at most 5,000"),
    ],
)
def test_invalid_feedback_is_refused_and_nothing_stored(db, users, change, message) -> None:
    alice, _ = users
    [a] = conversation(db, alice, ("q", "a"))
    fields = {"rating": 3, "category": "other", "comment": "", **change}
    with pytest.raises(feedback.FeedbackError, match=message):
        feedback.submit_feedback(db, alice, a, **fields)
    assert count(db) == 0


def test_another_users_answer_or_a_question_is_not_found(db, users) -> None:
    alice, bob = users
    [a] = conversation(db, alice, ("q", "a"))
    with pytest.raises(AnswerNotFoundError) as foreign:
        feedback.submit_feedback(db, bob, a, rating=1, category="crashed")
    with pytest.raises(AnswerNotFoundError) as missing:
        feedback.submit_feedback(db, bob, 777, rating=1, category="crashed")
    assert str(foreign.value).replace(str(a), "N") == str(missing.value).replace("777", "N")
    with pytest.raises(AnswerNotFoundError):
        feedback.submit_feedback(db, alice, a - 1, rating=1, category="crashed")
    assert count(db) == 0


def test_users_never_see_each_others_feedback(db, users) -> None:
    alice, bob = users
    [a] = conversation(db, alice, ("alice's question", "alice's answer"))
    feedback.submit_feedback(
        db, alice, a, rating=4, category="unclear", comment="mine", include_conversation=True
    )
    assert feedback.list_feedback(db, bob) == []
    assert feedback.feedback_records(db, bob) == ([], 0)


def test_export_records_redact_secrets_and_carry_the_conversation_only_when_asked(
    db, users
) -> None:
    alice, _ = users
    a, b = conversation(db, alice, (f"my key {TOKEN}", "ok"), ("q2", "a2"))
    feedback.submit_feedback(db, alice, a, rating=1, category="other", comment=f"oops {TOKEN}")
    feedback.submit_feedback(
        db, alice, b, rating=4, category="unclear", comment="fine", include_conversation=True
    )
    records, redacted = feedback.feedback_records(db, alice)
    assert redacted == 2  # the comment, and the question inside the included conversation
    by_answer = {r["message_id"]: r for r in records}
    assert by_answer[a]["comment"] == f"oops {PLACEHOLDER}"
    assert "conversation" not in by_answer[a]
    conv = by_answer[b]["conversation"]
    assert [m["role"] for m in conv] == ["system", "user", "assistant", "user", "assistant"]
    assert conv[1]["content"] == f"my key {PLACEHOLDER}"
    assert by_answer[b]["category"] == "unclear" and by_answer[b]["rating"] == 4
    assert TOKEN not in repr(records)
