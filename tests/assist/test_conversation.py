import contextlib

from codenook.assist.conversation import Conversation
from codenook.engine.backend import GenerationOptions


def test_conversation_keeps_both_turns_and_streams(embedded_backend) -> None:
    conv = Conversation()
    pieces: list[str] = []
    opts = GenerationOptions(max_tokens=16, temperature=0.0)
    first = conv.ask(embedded_backend, "What is Bash?", options=opts, on_text=pieces.append)
    assert [m.role for m in conv.messages()] == ["system", "user", "assistant"]
    assert conv.turns[1].content == "".join(pieces) == first.text
    second = conv.ask(embedded_backend, "And Python?", options=opts, on_text=lambda _: None)
    assert [m.role for m in conv.turns] == ["user", "assistant", "user", "assistant"]
    # The second prompt carried the first exchange.
    assert second.prompt_tokens > first.prompt_tokens + first.completion_tokens


def test_partial_answer_is_kept_when_the_consumer_stops(embedded_backend) -> None:
    conv = Conversation()
    seen: list[str] = []

    def stop_after_three(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            raise KeyboardInterrupt

    opts = GenerationOptions(max_tokens=100, temperature=0.0)
    with contextlib.suppress(KeyboardInterrupt):
        conv.ask(embedded_backend, "Explain Python lists.", options=opts, on_text=stop_after_three)
    assert conv.turns[-1].role == "assistant"
    assert conv.turns[-1].content == "".join(seen)
    # The model is free for the next answer.
    assert embedded_backend.stream_completion("x", options=opts).read() is not None
