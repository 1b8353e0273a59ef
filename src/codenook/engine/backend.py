"""The one shape every runtime shares: stream an answer, count tokens, cancel, close."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationOptions:
    """How one answer is sampled."""

    max_tokens: int = 1024
    temperature: float = 0.2
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    seed: int | None = None
    #: Prompt-lookup drafting: "on" drafts where the runtime can; "auto" lets the job decide
    #: (the edit jobs turn it on); "off" never. Runtimes without it ignore the field.
    draft: str = "auto"
    #: A GBNF grammar the answer must follow, where the runtime supports grammars.
    grammar: str | None = None
    #: Whether the edit jobs (review, debug) hold their diffs to a grammar drawn from the
    #: file (the ``edit_grammar`` setting); they build ``grammar`` from it.
    edit_grammar: bool = True


@dataclass(frozen=True)
class ModelInfo:
    """What a backend runs and how."""

    path: str
    name: str
    architecture: str
    backend: str
    context_length: int
    trained_context_length: int | None
    gpu_layers: int
    layer_count: int | None
    threads: int
    gpu_offload_supported: bool
    embedded: bool = False
    #: Fill-in-the-middle through the model's own FIM tokens (else an instruction prompt).
    can_fill: bool = False
    #: The built-in chat format in use, or the one the file's own template looks like.
    chat_format: str | None = None
    #: Whether the model file's own chat template renders the prompts.
    chat_template: bool = False
    #: The fill-in-the-middle format, where ``can_fill``.
    fill_format: str | None = None
    #: One line each on the chat and fill formats and why they were chosen.
    chat_format_note: str = ""
    fill_format_note: str = ""
    #: How the GPU layers were chosen, and any retry with fewer layers (empty when set by hand).
    fit_note: str = ""
    #: The runtime that runs it (engine/runtimes.py): llama.cpp, transformers or remote.
    runtime: str = "llama.cpp"
    #: Runs on this machine (in this process), not on a server.
    local: bool = True
    #: Where it runs, for people: "CPU", "CUDA (NVIDIA …)", or the server's address.
    device: str = "CPU"
    #: Whether a GPU does (part of) the work now.
    on_gpu: bool = False
    #: Whether the runtime can split the layers between GPU and CPU (llama.cpp's GPU layers).
    layer_offload: bool = False
    #: The LoRA adapter file applied to the model ('codenook tune'), or None.
    adapter: str | None = None
    #: Whether the runtime holds an answer to a GBNF grammar (GenerationOptions.grammar);
    #: a runtime without grammars ignores the field.
    grammars: bool = False


@dataclass
class StreamResult:
    """Figures for one finished (or stopped) answer."""

    finish_reason: FinishReason = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    time_to_first_token: float | None = None
    seconds: float = 0.0
    text: str = ""
    #: Prompt tokens the model already held from an earlier turn (not evaluated again).
    cached_tokens: int = 0
    #: Prompt-lookup drafting: verification batches with a draft, tokens drafted, kept.
    draft_rounds: int = 0
    drafted: int = 0
    draft_accepted: int = 0

    @property
    def tokens_per_second(self) -> float:
        """Generation speed after the first token (prompt evaluation excluded)."""
        if self.time_to_first_token is None or self.completion_tokens < 2:
            return 0.0
        span = self.seconds - self.time_to_first_token
        return (self.completion_tokens - 1) / span if span > 0 else 0.0


@dataclass
class TokenStream:
    """An answer being generated: iterate for text pieces; ``result`` is filled as it goes.

    ``cancel()`` may be called from any thread; the loop checks it once per token.
    """

    _pieces: Iterator[tuple[str, int]]
    result: StreamResult = field(default_factory=StreamResult)
    _cancel: threading.Event = field(default_factory=threading.Event)
    _started: float = field(default_factory=time.perf_counter)
    _done: bool = False

    def cancel(self) -> None:
        """Ask the generation to stop after the current token. Safe from any thread."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._cancel.is_set()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self._done:
            raise StopIteration
        if self._cancel.is_set():
            self._finish("cancelled")
            raise StopIteration
        try:
            text, tokens = next(self._pieces)
        except StopIteration:
            self._finish(self.result.finish_reason)
            raise
        except KeyboardInterrupt:
            self._finish("cancelled")  # Ctrl-C: the user stopped the answer, nothing failed
            raise
        except BaseException:
            self._finish("error")
            raise
        now = time.perf_counter() - self._started
        if self.result.time_to_first_token is None:
            self.result.time_to_first_token = now
        self.result.completion_tokens += tokens
        self.result.seconds = now
        self.result.text += text
        return text

    def _finish(self, reason: FinishReason) -> None:
        self._done = True
        self.result.finish_reason = reason
        self.result.seconds = time.perf_counter() - self._started
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def close(self) -> None:
        """Stop early and release the generator (records 'cancelled' if unfinished)."""
        if not self._done:
            self._finish("cancelled")

    def read(self) -> str:
        """Consume the whole stream and return its text."""
        for _ in self:
            pass
        return self.result.text


class Backend(ABC):
    """A loaded model that streams answers. One generation at a time."""

    info: ModelInfo

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: TokenStream | None = None
        self._closed = False

    @abstractmethod
    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """Start an answer to a conversation; returns a stream of text pieces.

        ``cache_key`` names the conversation, so a backend that keeps evaluated state
        can restore it when several conversations take turns on one model.
        """

    @abstractmethod
    def count_prompt(self, messages: Sequence[Message]) -> int:
        """Tokens of the prompt that ``messages`` render to (as stream_chat would send)."""

    @abstractmethod
    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """Start a plain continuation of ``prompt``."""

    @abstractmethod
    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """Start writing the code between ``prefix`` and ``suffix``; streams only that middle."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Count ``text``'s tokens with the model's own tokenizer."""

    def cancel(self) -> None:
        """Stop the answer in progress, if any. Safe to call from any thread."""
        active = self._active
        if active is not None:
            active.cancel()

    def close(self) -> None:
        """Release the model. Safe to call twice."""
        self.cancel()
        self._closed = True

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
