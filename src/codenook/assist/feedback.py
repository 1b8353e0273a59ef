"""Feedback on answers: a rating, a category and a comment, checked before it is stored.

The window's Feedback… form and ``codenook feedback add`` both call ``submit_feedback``.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from codenook.assist.interactions import not_found
from codenook.auth import User
from codenook.errors import CodenookError
from codenook.redact import redact
from codenook.store import conversations, interactions
from codenook.store import feedback as store

#: Stored key -> the words the form shows.
CATEGORIES: dict[str, str] = {
    "wrong_code": "wrong code",
    "unclear": "unclear",
    "too_slow": "too slow",
    "crashed": "crashed",
    "other": "other",
}
MAX_COMMENT = 5000


class FeedbackError(CodenookError):
    """Feedback that cannot be stored as given (the message says which field and why)."""


def category_key(text: str) -> str:
    """The stored key for a category as typed ('wrong code', 'wrong-code', 'Wrong_Code')."""
    key = "_".join(text.strip().lower().replace("-", " ").replace("_", " ").split())
    if key not in CATEGORIES:
        choices = ", ".join(CATEGORIES.values())
        raise FeedbackError(f"Unknown category {text!r}: choose one of {choices}.")
    return key


def check_rating(rating: object) -> int:
    """A rating from 1 to 5, or FeedbackError."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FeedbackError(f"The rating must be a whole number from 1 to 5, not {rating!r}.")
    return rating


def check_comment(comment: str) -> str:
    """A comment of at most 5,000 characters, or FeedbackError."""
    if not isinstance(comment, str):
        raise FeedbackError("The comment must be text.")
    if len(comment) > MAX_COMMENT:
        raise FeedbackError(
            f"The comment has {len(comment):,} characters; at most {MAX_COMMENT:,} fit. "
            "Shorten it; nothing was stored."
        )
    return comment


def submit_feedback(
    db: sqlite3.Connection,
    user: User,
    message_id: int,
    *,
    rating: int,
    category: str,
    comment: str = "",
    include_conversation: bool = False,
) -> int:
    """Check and store feedback on one of the user's answers; returns its id."""
    rating = check_rating(rating)
    key = category_key(category)
    comment = check_comment(comment)
    if not interactions.is_answer_of(db, user.id, message_id):
        raise not_found(message_id)
    try:
        return store.insert_feedback(
            db,
            user.id,
            message_id,
            rating=rating,
            category=key,
            comment=comment,
            include_conversation=bool(include_conversation),
        )
    except sqlite3.IntegrityError as exc:
        # The answer was deleted between the check and the insert.
        raise not_found(message_id) from exc


def list_feedback(db: sqlite3.Connection, user: User) -> list[store.FeedbackRow]:
    """The user's feedback, newest first."""
    return store.list_feedback(db, user.id)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def feedback_records(db: sqlite3.Connection, user: User) -> tuple[list[dict[str, Any]], int]:
    """The user's feedback as export records, secrets redacted; returns them and the count.

    A record carries its conversation only where the user ticked "include this
    conversation".
    """
    records, redacted = [], 0
    for row in store.list_feedback(db, user.id):
        comment, n = redact(row.comment)
        redacted += n
        record: dict[str, Any] = {
            "id": row.id,
            "created": _when(row.created),
            "message_id": row.message_id,
            "conversation_id": row.conversation_id,
            "job": row.task,
            "model": row.model,
            "rating": row.rating,
            "category": CATEGORIES[row.category],
            "comment": comment,
            "include_conversation": row.include_conversation,
        }
        if row.include_conversation:
            conv = conversations.get_conversation(db, user.id, row.conversation_id)
            turns = []
            if conv is not None:
                system, n = redact(conv.system_prompt)
                redacted += n
                turns.append({"role": "system", "content": system})
            for m in conversations.messages(db, user.id, row.conversation_id):
                text, n = redact(m.content)
                redacted += n
                turns.append({"id": m.id, "role": m.role, "content": text})
            record["conversation"] = turns
        records.append(record)
    return records, redacted
