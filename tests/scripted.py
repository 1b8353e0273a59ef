"""A Backend double that answers from a script and records what it was sent."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from codenook.engine.backend import Backend, GenerationOptions, Message, ModelInfo, TokenStream


class ScriptedBackend(Backend):
    """Answers ``answers`` in order (chat) and ``fills`` in order (fill-in-the-middle)."""

    def __init__(
        self,
        answers: Sequence[str] = (),
        *,
        fills: Sequence[str] = (),
        can_fill: bool = False,
        context_length: int = 4096,
        grammars: bool = True,
    ) -> None:
        super().__init__()
        self.answers = list(answers)
        self.fills = list(fills)
        #: The messages of every stream_chat call, in order.
        self.calls: list[list[Message]] = []
        #: The options of every stream_chat call, in order (a job's grammar, drafting).
        self.options: list[GenerationOptions] = []
        self.fill_calls: list[tuple[str, str]] = []
        #: How many pieces each stream handed out before it was stopped or ran out.
        self.served: list[int] = []
        self.info = ModelInfo(
            path="scripted.gguf",
            name="scripted",
            architecture="test",
            backend="scripted",
            context_length=context_length,
            trained_context_length=None,
            gpu_layers=0,
            layer_count=None,
            threads=1,
            gpu_offload_supported=False,
            can_fill=can_fill,
            fill_format="test" if can_fill else None,
            runtime="scripted",
            grammars=grammars,
        )

    def _stream(self, text: str) -> TokenStream:
        pieces = re.findall(r"[^\n]*\n|[^\n]+", text)
        index = len(self.served)
        self.served.append(0)

        def gen():  # one piece per line: enough to see streaming and early stops
            for p in pieces:
                self.served[index] += 1
                yield p, 1

        stream = TokenStream(gen())
        self._active = stream  # so that Backend.cancel() stops it, as a real backend's
        return stream

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """The next scripted answer."""
        self.calls.append(list(messages))
        self.options.append(options)
        if not self.answers:
            raise AssertionError("the script has no more answers")
        return self._stream(self.answers.pop(0))

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """About four characters a token."""
        return sum(len(m.content) // 4 + 4 for m in messages)

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """The next scripted answer."""
        return self._stream(self.answers.pop(0))

    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """The next scripted fill."""
        self.fill_calls.append((prefix, suffix))
        return self._stream(self.fills.pop(0))

    def count_tokens(self, text: str) -> int:
        """About four characters a token."""
        return len(text) // 4

    def user_messages(self) -> list[str]:
        """The last user message of every chat call."""
        return [call[-1].content for call in self.calls]


class PausingBackend(ScriptedBackend):
    """A scripted model that is slow on purpose: its first answer stops after one piece.

    ``answering`` is set then, and the answer goes on once ``go`` is set (or after
    ``wait_s``), so a test can change the files a job read while the model "thinks".
    """

    def __init__(
        self,
        answers: Sequence[str] = (),
        *,
        fills: Sequence[str] = (),
        can_fill: bool = False,
        wait_s: float = 60.0,
    ) -> None:
        super().__init__(answers, fills=fills, can_fill=can_fill)
        self.answering = threading.Event()
        self.go = threading.Event()
        self.wait_s = wait_s

    def _stream(self, text: str) -> TokenStream:
        stream = super()._stream(text)
        pieces = stream._pieces

        def slow() -> Iterator[tuple[str, int]]:
            for n, piece in enumerate(pieces):
                yield piece
                if n == 0 and not self.answering.is_set():
                    self.answering.set()
                    self.go.wait(self.wait_s)

        stream._pieces = slow()
        return stream

    def append_while_answering(self, path: Path, text: str) -> threading.Thread:
        """Start a thread that appends ``text`` to ``path`` half-way through the answer."""

        def edit() -> None:
            if self.answering.wait(self.wait_s):
                with path.open("a") as out:
                    out.write(text)
            self.go.set()

        thread = threading.Thread(target=edit)
        thread.start()
        return thread
