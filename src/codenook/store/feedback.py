"""Feedback rows: a user's rating and comment on one of their answers."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FeedbackRow:
    """One stored piece of feedback, with the answer's conversation, job and model."""

    id: int
    message_id: int
    conversation_id: int
    rating: int
    category: str
    comment: str
    include_conversation: bool
    created: float
    task: str | None
    model: str | None

    def as_dict(self) -> dict[str, Any]:
        """The row as plain data."""
        return asdict(self)


def insert_feedback(
    db: sqlite3.Connection,
    user_id: int,
    message_id: int,
    *,
    rating: int,
    category: str,
    comment: str,
    include_conversation: bool,
) -> int:
    """Store feedback on the user's answer (the schema refuses another user's answer)."""
    cur = db.execute(
        "INSERT INTO feedback (user_id, message_id, rating, category, comment, "
        "include_conversation, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, message_id, rating, category, comment, int(include_conversation), time.time()),
    )
    return int(cur.lastrowid or 0)


def list_feedback(db: sqlite3.Connection, user_id: int) -> list[FeedbackRow]:
    """The user's feedback, newest first."""
    rows = db.execute(
        "SELECT f.id, f.message_id, m.conversation_id, f.rating, f.category, f.comment, "
        "f.include_conversation, f.created, m.task, m.model "
        "FROM feedback f JOIN messages m ON m.id = f.message_id AND m.user_id = f.user_id "
        "WHERE f.user_id = ? ORDER BY f.created DESC, f.id DESC",
        (user_id,),
    ).fetchall()
    return [
        FeedbackRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8], r[9]) for r in rows
    ]
