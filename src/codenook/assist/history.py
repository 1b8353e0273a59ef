"""A user's stored conversations as documents: Markdown and JSON exports."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from codenook.assist.session import NotFoundError
from codenook.store import conversations as store


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def load(db: sqlite3.Connection, user_id: int, conv_id: int) -> dict[str, Any]:
    """One of the user's conversations with its messages, as plain data.

    A user message's ``content`` is what they typed (what the window shows as "You");
    when codenook sent the model more (a job's prompt), that is its ``prompt``.
    """
    conv = store.get_conversation(db, user_id, conv_id)
    if conv is None:
        raise NotFoundError(f"No conversation {conv_id} (see codenook history list).")
    return {
        "id": conv.id,
        "title": conv.title,
        "created": _when(conv.created),
        "updated": _when(conv.updated),
        "system_prompt": conv.system_prompt,
        "settings": conv.settings,
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                # What the user typed; a job's whole prompt goes beside it, as "prompt".
                "content": m.as_shown,
                **({"prompt": m.content} if m.shown is not None else {}),
                "complete": m.complete,
                "created": _when(m.created),
                **(
                    {k: v for k, v in m.figures.items() if v is not None}
                    if m.role == "assistant"
                    else {}
                ),
            }
            for m in store.messages(db, user_id, conv_id)
        ],
    }


def to_json(doc: dict[str, Any]) -> str:
    """A conversation document as indented JSON."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_markdown(doc: dict[str, Any]) -> str:
    """A conversation document as Markdown, one section per message."""
    out = [f"# {doc['title']}", "", f"_Conversation {doc['id']}, started {doc['created']}._", ""]
    for m in doc["messages"]:
        who = "You" if m["role"] == "user" else f"codenook ({m.get('model', 'model')})"
        note = "" if m["complete"] else " _(partial)_"
        out += [f"## {who}{note}", "", m["content"].rstrip(), ""]
    return "\n".join(out)
