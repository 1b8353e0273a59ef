"""The interaction log: each stored answer with what produced it, votes, and liked answers.

Every query takes the owner's user id; a row of another user is never read or changed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class LogEntry:
    """One answer in the interaction log (its text is in the conversation)."""

    id: int
    conversation_id: int
    created: float
    task: str | None
    language: str | None
    model: str | None
    model_file: str | None
    model_sha256: str | None
    backend: str | None
    #: The LoRA adapter the model ran with ('codenook tune'), or None.
    adapter: str | None
    settings: dict[str, Any] | None
    tool_results: dict[str, Any] | None
    prompt_tokens: int | None
    answer_tokens: int | None
    time_to_first_token: float | None
    tokens_per_second: float | None
    finish_reason: str | None
    turns_dropped: int | None
    cached_tokens: int | None
    complete: bool
    vote: int

    def as_dict(self) -> dict[str, Any]:
        """The entry as plain data (for --json)."""
        return asdict(self)


_LOG_COLUMNS = (
    "id, conversation_id, created, task, language, model, model_file, model_sha256, backend, "
    "adapter, settings, tool_results, prompt_tokens, answer_tokens, time_to_first_token, "
    "tokens_per_second, finish_reason, turns_dropped, cached_tokens, complete, vote"
)


def _json(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def _entry(row: sqlite3.Row) -> LogEntry:
    values = dict(row)
    values["settings"] = _json(values["settings"])
    values["tool_results"] = _json(values["tool_results"])
    values["complete"] = bool(values["complete"])
    return LogEntry(**values)


def answers(
    db: sqlite3.Connection,
    user_id: int,
    *,
    since: float | None = None,
    task: str | None = None,
    limit: int | None = None,
) -> list[LogEntry]:
    """The user's answers, newest first; optionally since a time and of one job."""
    where, params = ["user_id = ?", "role = 'assistant'"], [user_id]
    if since is not None:
        where.append("created >= ?")
        params.append(since)
    if task is not None:
        where.append("task = ?")
        params.append(task)
    sql = (
        f"SELECT {_LOG_COLUMNS} FROM messages WHERE {' AND '.join(where)} "
        "ORDER BY created DESC, id DESC"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_entry(r) for r in db.execute(sql, params)]


def is_answer_of(db: sqlite3.Connection, user_id: int, message_id: int) -> bool:
    """Whether ``message_id`` is an answer (assistant message) owned by the user."""
    row = db.execute(
        "SELECT 1 FROM messages WHERE id = ? AND user_id = ? AND role = 'assistant'",
        (message_id, user_id),
    ).fetchone()
    return row is not None


def set_vote(db: sqlite3.Connection, user_id: int, message_id: int, vote: int) -> bool:
    """Set thumbs (-1, 0, 1) on the user's answer; False if there is no such answer."""
    cur = db.execute(
        "UPDATE messages SET vote = ? WHERE id = ? AND user_id = ? AND role = 'assistant'",
        (vote, message_id, user_id),
    )
    return cur.rowcount == 1


def set_model_sha256(
    db: sqlite3.Connection, user_id: int, message_ids: Iterable[int], sha256: str
) -> int:
    """Fill in the model hash on the user's answers that lack it; returns how many."""
    ids = list(message_ids)
    if not ids:
        return 0
    cur = db.execute(
        f"UPDATE messages SET model_sha256 = ? WHERE user_id = ? AND model_sha256 IS NULL "
        f"AND id IN ({', '.join('?' * len(ids))})",
        (sha256, user_id, *ids),
    )
    return cur.rowcount


def merge_tool_results(
    db: sqlite3.Connection, user_id: int, message_id: int, results: dict[str, Any]
) -> bool:
    """Add tool results (lint, validation, sandbox) to the user's answer's own."""
    row = db.execute(
        "SELECT tool_results FROM messages WHERE id = ? AND user_id = ? AND role = 'assistant'",
        (message_id, user_id),
    ).fetchone()
    if row is None:
        return False
    merged = {**(_json(row[0]) or {}), **results}
    db.execute(
        "UPDATE messages SET tool_results = ? WHERE id = ? AND user_id = ?",
        (json.dumps(merged, sort_keys=True), message_id, user_id),
    )
    return True


@dataclass(frozen=True)
class StatRow:
    """The figures statistics need from one answer."""

    task: str | None
    model: str | None
    time_to_first_token: float | None
    tokens_per_second: float | None
    vote: int
    validation_passed: bool | None


def stat_rows(db: sqlite3.Connection, user_id: int) -> list[StatRow]:
    """Every answer of the user, reduced to what ``codenook stats`` summarises."""
    rows = db.execute(
        "SELECT task, model, time_to_first_token, tokens_per_second, vote, "
        "json_extract(tool_results, '$.validation_passed') FROM messages "
        "WHERE user_id = ? AND role = 'assistant'",
        (user_id,),
    ).fetchall()
    return [
        StatRow(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5])) for r in rows
    ]


@dataclass(frozen=True)
class LikedAnswer:
    """A thumbs-up answer with the question and system prompt it answered."""

    message_id: int
    conversation_id: int
    system_prompt: str
    question: str
    answer: str


def liked_answers(db: sqlite3.Connection, user_id: int) -> list[LikedAnswer]:
    """The user's thumbs-up answers that have text, oldest first, with their questions."""
    rows = db.execute(
        "SELECT a.id, a.conversation_id, c.system_prompt, "
        "(SELECT q.content FROM messages q WHERE q.conversation_id = a.conversation_id "
        " AND q.user_id = a.user_id AND q.role = 'user' AND q.id < a.id "
        " ORDER BY q.id DESC LIMIT 1) AS question, a.content "
        "FROM messages a JOIN conversations c ON c.id = a.conversation_id AND c.user_id = ? "
        "WHERE a.user_id = ? AND a.role = 'assistant' AND a.vote = 1 AND a.content != '' "
        "ORDER BY a.id",
        (user_id, user_id),
    ).fetchall()
    return [LikedAnswer(r[0], r[1], r[2], r[3], r[4]) for r in rows if r[3] is not None]
