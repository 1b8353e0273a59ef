"""Fit a conversation into the model's context by leaving out the oldest whole turns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codenook.engine.backend import Message
from codenook.errors import GenerationError


@dataclass(frozen=True)
class Fit:
    """Which turns go to the model, and the prompt's size in tokens."""

    first_turn: int
    prompt_tokens: int


def answer_room(context_length: int, max_tokens: int) -> int:
    """Tokens kept free for the answer: max new tokens, but never more than half the context."""
    return min(max_tokens, context_length // 2)


def fit_turns(
    system: Message,
    turns: Sequence[tuple[Message, Message]],
    new: Message,
    *,
    count: Callable[[list[Message]], int],
    context_length: int,
    reserve: int,
    start: int = 0,
) -> Fit:
    """Choose the first turn to keep so the prompt plus ``reserve`` fits the context.

    ``start`` is where the previous answer started; keeping it makes the prompt's
    beginning stable so the model's cache is reused. When the prompt no longer fits,
    turns are dropped in a block (down to half the room) so this happens rarely.
    """

    def prompt(first: int) -> list[Message]:
        return [system, *(m for pair in turns[first:] for m in pair), new]

    limit = context_length - reserve
    alone = count(prompt(len(turns)))
    if alone > limit:
        needed = count([new])
        raise GenerationError(
            f"The message is {needed:,} tokens; with the system prompt and {reserve:,} tokens "
            f"of room for the answer it needs {alone + reserve:,}, but the context holds "
            f"{context_length:,}. Shorten it or raise the context length. It was saved."
        )
    first = min(start, len(turns))
    size = count(prompt(first))
    if size <= limit:
        return Fit(first, size)
    target = max(alone, limit // 2)
    while first < len(turns) and size > target:
        first += 1
        size = count(prompt(first))
    return Fit(first, size)
