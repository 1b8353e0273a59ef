"""The rules every chat format shares, checked before rendering.

A conversation is: an optional system message, then user and assistant turns taking
turns, starting with the user. Breaking the rules gets a GenerationError that says how
to fix it, with one documented repair: consecutive messages of the same role are merged
into one, their texts joined by a blank line (two pastes in a row are one turn).
"""

from __future__ import annotations

from collections.abc import Sequence

from codenook.engine.backend import Message
from codenook.errors import GenerationError

ROLES = ("system", "user", "assistant")
#: What joins the texts of consecutive same-role messages when they are merged.
MERGE_SEPARATOR = "\n\n"


def normalize(
    messages: Sequence[Message], *, merge: bool = True, answer: bool = True
) -> list[Message]:
    """Check a conversation against the shared rules; merge same-role runs when ``merge``.

    ``answer``: the model is to answer next, so the last message must be the user's.
    """
    if not messages:
        raise GenerationError("The conversation is empty: give at least one user message.")
    out: list[Message] = []
    for number, message in enumerate(messages, 1):
        if message.role not in ROLES:
            raise GenerationError(
                f"Message {number} has the role {message.role!r}; "
                "use 'system', 'user' or 'assistant'."
            )
        if not isinstance(message.content, str):
            raise GenerationError(f"Message {number} has no text content.")
        if message.role == "system" and any(m.role != "system" for m in out):
            raise GenerationError(
                f"Message {number} is a system message after the conversation started; "
                "a system message may only come first. Move its text into the first message."
            )
        if out and out[-1].role == message.role:
            if not merge:
                raise GenerationError(
                    f"Messages {number - 1} and {number} are both {message.role} messages; "
                    "user and assistant must take turns."
                )
            out[-1] = Message(message.role, out[-1].content + MERGE_SEPARATOR + message.content)
            continue
        out.append(message)
    turns = out[1:] if out[0].role == "system" else out
    if not turns:
        raise GenerationError("The conversation has only a system message: add a user message.")
    if turns[0].role != "user":
        raise GenerationError(
            "The conversation starts with an assistant message; the first turn "
            "(after the system message) must be the user's."
        )
    if answer and turns[-1].role != "user":
        raise GenerationError(
            "The conversation ends with an assistant message; add the user's next message "
            "for the model to answer."
        )
    return out


def split_system(messages: Sequence[Message]) -> tuple[str | None, list[Message]]:
    """The system text (or None) and the turns after it, from a normalized conversation."""
    if messages and messages[0].role == "system":
        return messages[0].content, list(messages[1:])
    return None, list(messages)
