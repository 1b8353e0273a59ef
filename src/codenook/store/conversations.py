"""Rows for conversations and their messages. Every query takes the owner's user id."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from codenook.errors import StoreGoneError
from codenook.store.db import GONE_MESSAGE

#: Answer figures stored per assistant message.
FIGURES = (
    "task",
    "language",
    "model",
    "prompt_tokens",
    "answer_tokens",
    "time_to_first_token",
    "tokens_per_second",
    "finish_reason",
    "turns_dropped",
    "cached_tokens",
    "model_file",
    "model_sha256",
    "backend",
    "adapter",
    "settings",
    "tool_results",
)
#: Figures kept as JSON text; given and returned as dicts.
JSON_FIGURES = frozenset({"settings", "tool_results"})


@dataclass(frozen=True)
class ConversationRow:
    """A conversation's header."""

    id: int
    title: str
    system_prompt: str
    settings: dict[str, Any]
    created: float
    updated: float
    message_count: int = 0


@dataclass(frozen=True)
class MessageRow:
    """One stored message with its figures (None for user messages)."""

    id: int
    role: str
    content: str
    complete: bool
    created: float
    figures: dict[str, Any]
    #: What the user typed, when codenook sent more than that (a job's prompt): the
    #: history shows this, the model is given ``content``. None: ``content`` is it.
    shown: str | None = None

    @property
    def as_shown(self) -> str:
        """The message as the user should see it: what they typed, not the job's prompt."""
        return self.content if self.shown is None else self.shown


def _conversation(row: sqlite3.Row) -> ConversationRow:
    return ConversationRow(
        row["id"],
        row["title"],
        row["system_prompt"],
        json.loads(row["settings"] or "{}"),
        row["created"],
        row["updated"],
        row["message_count"],
    )


def _figure(key: str, value: Any) -> Any:
    if key in JSON_FIGURES and value is not None:
        return json.loads(value)
    return value


def _message(row: sqlite3.Row) -> MessageRow:
    return MessageRow(
        row["id"],
        row["role"],
        row["content"],
        bool(row["complete"]),
        row["created"],
        {k: _figure(k, row[k]) for k in FIGURES},
        row["shown"],
    )


def _encoded(figures: dict[str, Any]) -> dict[str, Any]:
    """Figures as columns hold them: JSON figures as text; refuses unknown names."""
    unknown = set(figures) - set(FIGURES)
    if unknown:
        raise ValueError(f"unknown message figures: {sorted(unknown)}")
    return {
        k: json.dumps(v, sort_keys=True) if k in JSON_FIGURES and v is not None else v
        for k, v in figures.items()
    }


def make_title(text: str) -> str:
    """A conversation's title: its first question on one line, cut to 60 characters."""
    line = " ".join(text.split())
    return (line[:59] + "…") if len(line) > 60 else (line or "(empty)")


def create_conversation(
    db: sqlite3.Connection,
    user_id: int,
    *,
    title: str,
    system_prompt: str,
    settings: dict[str, Any] | None = None,
) -> int:
    """Start a conversation owned by ``user_id``."""
    now = time.time()
    cur = db.execute(
        "INSERT INTO conversations (user_id, title, system_prompt, settings, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, title, system_prompt, json.dumps(settings or {}), now, now),
    )
    return int(cur.lastrowid or 0)


def get_conversation(db: sqlite3.Connection, user_id: int, conv_id: int) -> ConversationRow | None:
    """The user's conversation, or None (also when it belongs to someone else)."""
    row = db.execute(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) "
        "AS message_count FROM conversations c WHERE c.id = ? AND c.user_id = ?",
        (conv_id, user_id),
    ).fetchone()
    return _conversation(row) if row else None


def list_conversations(db: sqlite3.Connection, user_id: int) -> list[ConversationRow]:
    """The user's conversations, most recently used first."""
    rows = db.execute(
        "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) "
        "AS message_count FROM conversations c WHERE c.user_id = ? "
        "ORDER BY c.updated DESC, c.id DESC",
        (user_id,),
    ).fetchall()
    return [_conversation(r) for r in rows]


def messages(db: sqlite3.Connection, user_id: int, conv_id: int) -> list[MessageRow]:
    """A conversation's messages in order (empty if it is not the user's)."""
    rows = db.execute(
        "SELECT * FROM messages WHERE conversation_id = ? AND user_id = ? ORDER BY id",
        (conv_id, user_id),
    ).fetchall()
    return [_message(r) for r in rows]


def add_message(
    db: sqlite3.Connection,
    user_id: int,
    conv_id: int,
    *,
    role: str,
    content: str,
    complete: bool = True,
    shown: str | None = None,
    **figures: Any,
) -> int:
    """Append a message (committed at once) and mark the conversation as used.

    ``shown`` is what the user typed when ``content`` is more (a job's prompt around it).
    """
    figures = _encoded(figures)
    now = time.time()
    cols = ["conversation_id", "user_id", "role", "content", "complete", "created", "shown"]
    cols += list(figures)
    cur = db.execute(
        f"INSERT INTO messages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
        (conv_id, user_id, role, content, int(complete), now, shown, *figures.values()),
    )
    db.execute(
        "UPDATE conversations SET updated = ? WHERE id = ? AND user_id = ?",
        (now, conv_id, user_id),
    )
    return int(cur.lastrowid or 0)


def update_message(
    db: sqlite3.Connection,
    user_id: int,
    message_id: int,
    *,
    content: str,
    complete: bool,
    **figures: Any,
) -> None:
    """Save a streaming answer's text so far, or its final text and figures.

    Raises StoreGoneError when the message is gone (its account or conversation was
    removed meanwhile): an answer must not seem saved when it was not.
    """
    figures = _encoded(figures)
    sets = ", ".join(["content = ?", "complete = ?", *(f"{k} = ?" for k in figures)])
    cur = db.execute(
        f"UPDATE messages SET {sets} WHERE id = ? AND user_id = ?",
        (content, int(complete), *figures.values(), message_id, user_id),
    )
    if cur.rowcount == 0:
        raise StoreGoneError(GONE_MESSAGE)


def delete_message(db: sqlite3.Connection, user_id: int, message_id: int) -> bool:
    """Delete one of the user's messages; False if there is none."""
    cur = db.execute("DELETE FROM messages WHERE id = ? AND user_id = ?", (message_id, user_id))
    return cur.rowcount == 1


def rename_conversation(db: sqlite3.Connection, user_id: int, conv_id: int, title: str) -> bool:
    """Retitle the user's conversation; False if there is no such conversation."""
    cur = db.execute(
        "UPDATE conversations SET title = ? WHERE id = ? AND user_id = ?",
        (title, conv_id, user_id),
    )
    return cur.rowcount == 1


def delete_conversation(db: sqlite3.Connection, user_id: int, conv_id: int) -> bool:
    """Delete the user's conversation and its messages; False if there is none."""
    cur = db.execute("DELETE FROM conversations WHERE id = ? AND user_id = ?", (conv_id, user_id))
    return cur.rowcount == 1


@dataclass(frozen=True)
class SearchHit:
    """A message matching a search, with its conversation."""

    conversation_id: int
    title: str
    message_id: int
    role: str
    snippet: str


def search(db: sqlite3.Connection, user_id: int, text: str, *, limit: int = 50) -> list[SearchHit]:
    """Full-text search of the user's messages (words, as typed; FTS5 syntax is escaped)."""
    words = [w.replace('"', '""') for w in text.split()]
    if not words:
        return []
    query = " ".join(f'"{w}"' for w in words)
    rows = db.execute(
        "SELECT m.conversation_id, c.title, m.id, m.role, "
        "snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet "
        "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
        "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE messages_fts MATCH ? AND m.user_id = ? ORDER BY rank LIMIT ?",
        (query, user_id, limit),
    ).fetchall()
    return [SearchHit(r[0], r[1], r[2], r[3], r[4]) for r in rows]
