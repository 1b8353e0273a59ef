"""Context budget logic with a deterministic token count (one token per word)."""

import pytest

from codenook.assist.budget import answer_room, fit_turns
from codenook.engine.backend import Message
from codenook.errors import GenerationError


def count(messages: list[Message]) -> int:
    return sum(len(m.content.split()) + 2 for m in messages)


SYSTEM = Message("system", "be brief")  # 4 tokens


def turns(n: int, words: int = 20) -> list[tuple[Message, Message]]:
    return [(Message("user", "q " * words), Message("assistant", "a " * words)) for _ in range(n)]


def test_everything_fits() -> None:
    fit = fit_turns(
        SYSTEM, turns(3), Message("user", "new"), count=count, context_length=1000, reserve=100
    )
    assert fit.first_turn == 0
    assert fit.prompt_tokens == 4 + 3 * 44 + 3


def test_overflow_drops_oldest_turns_in_a_block() -> None:
    fit = fit_turns(
        SYSTEM, turns(10), Message("user", "new"), count=count, context_length=400, reserve=100
    )
    # 10 turns need 447 > 300: drop until at most half of 300.
    assert fit.prompt_tokens <= 150
    assert fit.first_turn == 10 - (150 - 7) // 44
    assert fit.first_turn > 0


def test_kept_start_stays_while_it_fits() -> None:
    fit = fit_turns(
        SYSTEM,
        turns(6),
        Message("user", "new"),
        count=count,
        context_length=400,
        reserve=100,
        start=3,
    )
    assert fit.first_turn == 3  # more would fit, but a stable prefix reuses the cache


def test_a_message_too_long_alone_names_both_counts() -> None:
    with pytest.raises(GenerationError, match=r"1,002 tokens.*context holds 512"):
        fit_turns(
            SYSTEM, [], Message("user", "w " * 1000), count=count, context_length=512, reserve=64
        )


def test_answer_room_is_at_most_half_the_context() -> None:
    assert answer_room(4096, 512) == 512
    assert answer_room(512, 4096) == 256
