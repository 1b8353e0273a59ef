"""A conversation held in memory: system prompt, turns, and the answer being streamed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from codenook.config import GenerationSettings
from codenook.engine.backend import Backend, GenerationOptions, Message, StreamResult, TokenStream

DEFAULT_SYSTEM_PROMPT = (
    "You are codenook, a concise coding assistant for Python and Bash. "
    "Answer with correct, idiomatic code in fenced Markdown blocks and short explanations."
)


def options_from(settings: GenerationSettings) -> GenerationOptions:
    """Generation options for one answer from the user's settings."""
    return GenerationOptions(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        top_p=settings.top_p,
        stop=tuple(settings.stop),
        seed=settings.seed,
    )


@dataclass
class Conversation:
    """The messages of one chat, oldest first, the system prompt included."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    turns: list[Message] = field(default_factory=list)

    def messages(self) -> list[Message]:
        """What the model sees: the system prompt, then every turn."""
        return [Message("system", self.system_prompt), *self.turns]

    def ask(
        self,
        backend: Backend,
        question: str,
        *,
        options: GenerationOptions,
        on_text: Callable[[str], None],
    ) -> StreamResult:
        """Send ``question``, call ``on_text`` per streamed piece, and keep both turns.

        The partial answer is kept even when the stream stops early (cancel, Ctrl-C).
        """
        self.turns.append(Message("user", question))
        stream: TokenStream = backend.stream_chat(self.messages(), options=options)
        try:
            for piece in stream:
                on_text(piece)
        finally:
            stream.close()
            self.turns.append(Message("assistant", stream.result.text))
        return stream.result
