"""Training data from the user's liked answers: chat-format records, secrets redacted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from codenook.auth import User
from codenook.redact import redact
from codenook.store import interactions


def liked_records(db: sqlite3.Connection, user: User) -> tuple[list[dict[str, Any]], int]:
    """The user's thumbs-up answers as ``{"messages": [system, user, assistant]}`` records.

    Returns the records and how many secrets were redacted from them.
    """
    records, redacted = [], 0
    for liked in interactions.liked_answers(db, user.id):
        messages = []
        for role, text in (
            ("system", liked.system_prompt),
            ("user", liked.question),
            ("assistant", liked.answer),
        ):
            clean, n = redact(text)
            redacted += n
            messages.append({"role": role, "content": clean})
        records.append({"messages": messages})
    return records, redacted


def to_jsonl(records: Iterable[dict[str, Any]]) -> str:
    """Records as JSON Lines: one object per line, UTF-8 kept as is."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
