"""llama.cpp in process, through llama-cpp-python."""

from __future__ import annotations

import codecs
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np
import psutil

from codenook.engine.backend import (
    Backend,
    GenerationOptions,
    Message,
    ModelInfo,
    StreamResult,
    TokenStream,
)
from codenook.engine.fillcut import trim_suffix_repeat
from codenook.engine.formats import Prompt, chat_format
from codenook.engine.gguf_file import check_model_file, diagnose_load_failure
from codenook.engine.grammars import GrammarGate, compile_grammar
from codenook.engine.prompts import PromptModel
from codenook.engine.speculative import MAX_DRAFT, DraftStats, Sampler
from codenook.engine.speculative import generate as draft_generate
from codenook.errors import GenerationError, ModelError

log = logging.getLogger(__name__)

#: The KV cache's types, by the name the ``kv_cache`` setting and llama-server use.
#: Flash attention is always on (it is as fast, and a cached prompt then answers as a fresh
#: one more often). llama.cpp's CPU flash attention has three kernels (one query over 512+
#: cached cells splits them across threads; 64+ queries are tiled; else one row at a time)
#: that round differently, and the first two take only an f16/f32 cache: a q8_0 cache always
#: takes the third, so a drafted answer (verified in batches) is token for token the plain
#: one (one token at a time). f16 is the default: on Qwen2.5-Coder-0.5B, q8_0 turned 4 of
#: 34 HumanEval passes into failures (README, "Drafting and edit grammars").
KV_CACHE_TYPES = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0}
DEFAULT_KV_CACHE = "f16"

#: The sampler beyond temperature and top-p, for every answer this model gives (in process
#: and through ``codenook serve``, so both machines answer alike).
SAMPLER = {"top_k": 40, "min_p": 0.05, "repeat_penalty": 1.0}
#: Conversations whose evaluated state is kept in RAM while another one uses the model.
SAVED_STATES = 2


def gpu_offload_supported() -> bool:
    """Whether this llama-cpp-python build can put layers on a GPU."""
    return bool(llama_cpp.llama_supports_gpu_offload())


def default_gpu_layers() -> int:
    """All layers (-1) on a GPU-capable build, else 0."""
    return -1 if gpu_offload_supported() else 0


def _split_stop(text: str, stops: Sequence[str]) -> tuple[str, str, bool]:
    """Split pending text into (safe to emit, held back, hit a stop string).

    Text that could be the start of a stop string is held back until the next token
    decides it, so a stop string is never shown.
    """
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    if cut >= 0:
        return text[:cut], "", True
    hold = 0
    for s in stops:
        for n in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:n]):
                hold = max(hold, n)
                break
    return text[: len(text) - hold], text[len(text) - hold :], False


def _kv_cache(name: str) -> str:
    """``name`` when it is one of :data:`KV_CACHE_TYPES`, else a clear error."""
    if name not in KV_CACHE_TYPES:
        raise ModelError(f"Unknown KV cache type {name!r}: {', '.join(KV_CACHE_TYPES)}.")
    return name


def _attention(kv_cache: str) -> dict[str, Any]:
    """llama.cpp's attention settings: flash attention, and the KV cache's type."""
    kind = KV_CACHE_TYPES[kv_cache]
    return {"flash_attn": True, "type_k": kind, "type_v": kind}


class LlamaBackend(Backend):
    """A GGUF model loaded in this process by llama.cpp."""

    def __init__(
        self,
        path: str | Path,
        *,
        context_length: int = 4096,
        threads: int | None = None,
        gpu_layers: int | None = None,
        embedded: bool = False,
        chat_format_name: str | None = None,
        lora_path: str | Path | None = None,
        kv_cache: str = DEFAULT_KV_CACHE,
    ) -> None:
        super().__init__()
        model_path = check_model_file(path)
        #: The KV cache's type (``kv_cache`` setting): q8_0 makes drafting exact.
        self.kv_cache = _kv_cache(kv_cache)
        if chat_format_name:
            chat_format(chat_format_name)  # a wrong name fails before the slow load
        threads = threads or default_threads()
        gpu_layers = default_gpu_layers() if gpu_layers is None else gpu_layers
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=context_length,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=gpu_layers,
                lora_path=str(lora_path) if lora_path else None,
                **_attention(self.kv_cache),
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            log.info("llama.cpp refused %s: %s", model_path, exc)
            if lora_path:
                raise ModelError(
                    f"llama.cpp could not apply the adapter {lora_path} to {model_path.name}: "
                    "train the adapter again for this model."
                ) from exc
            raise ModelError(diagnose_load_failure(model_path)) from exc
        meta = self._llm.metadata
        arch = meta.get("general.architecture", "unknown")
        trained = meta.get(f"{arch}.context_length")
        layers = meta.get(f"{arch}.block_count")
        self._owner: str | None = None  # whose tokens the context holds now
        self._saved: OrderedDict[str, llama_cpp.LlamaState] = OrderedDict()
        try:
            self.prompts = PromptModel(self._llm, chat_format_name=chat_format_name)
        except BaseException:
            self._llm.close()
            raise
        self.vocab = self.prompts.vocab
        self.formats = self.prompts.formats
        self.info = ModelInfo(
            path=str(model_path),
            # The embedded file's metadata name is a training tag; its file name reads better.
            name=(model_path.stem.split(".")[0] if embedded else None)
            or meta.get("general.name")
            or model_path.stem,
            architecture=arch,
            backend="llama.cpp",
            context_length=self._llm.n_ctx(),
            trained_context_length=int(trained) if trained else None,
            gpu_layers=gpu_layers,
            layer_count=int(layers) if layers else None,
            threads=threads,
            gpu_offload_supported=gpu_offload_supported(),
            embedded=embedded,
            can_fill=self.formats.fill_format is not None,
            chat_format=self.formats.chat_format,
            chat_template=self.formats.use_template,
            fill_format=self.formats.fill_format,
            chat_format_note=self.formats.describe_chat(),
            fill_format_note=self.formats.describe_fill(),
            runtime="llama.cpp",
            grammars=True,
            device=_device(gpu_layers, layers),
            on_gpu=gpu_layers != 0 and gpu_offload_supported(),
            layer_offload=gpu_offload_supported(),
            adapter=str(lora_path) if lora_path else None,
        )

    # -- prompts -------------------------------------------------------------------

    def chat_prompt(self, messages: Sequence[Message]) -> Prompt:
        """The prompt for ``messages`` as segments, ending where the answer starts."""
        return self.prompts.chat_prompt(messages)

    def render_chat(self, messages: Sequence[Message]) -> str:
        """The exact prompt text for ``messages``, ending where the answer starts."""
        return self.prompts.chat_prompt(messages).text

    def fill_prompt(self, prefix: str, suffix: str) -> Prompt:
        """The FIM prompt for the code between ``prefix`` and ``suffix`` (a ModelError
        for a model without fill-in-the-middle)."""
        return self.prompts.fill_prompt(prefix, suffix)

    def _require_open(self) -> None:
        # A closed llama.cpp model must never be touched: that is a segfault, not an error.
        if self._closed:
            raise GenerationError("The model was closed; load it again.")

    def tokenize_prompt(self, prompt: Prompt | str) -> list[int]:
        """Tokens for a prompt: special tokens only in the format's own text, BOS once.

        A plain string is read as the format's own text throughout (special tokens parsed).
        """
        self._require_open()
        return self.prompts.tokenize(prompt)

    def count_tokens(self, text: str) -> int:
        """Count tokens as plain text (no BOS, control strings not parsed)."""
        self._require_open()
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # -- generation ----------------------------------------------------------------

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """Tokens of the rendered chat prompt."""
        return len(self.tokenize_prompt(self.chat_prompt(messages)))

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """Stream an answer to ``messages`` rendered with the model's chat format."""
        tokens = self.tokenize_prompt(self.chat_prompt(messages))
        options = _with_stop(options, self.prompts.chat_stop())
        return self.stream_tokens(tokens, options=options, cache_key=cache_key)

    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """Stream the code between ``prefix`` and ``suffix`` through the model's FIM format.

        Only for a model with one (``info.can_fill``); the complete job asks the others
        in its own chat request.
        """
        tokens = self.tokenize_prompt(self.fill_prompt(prefix, suffix))
        options = _with_stop(options, self.prompts.fill_stop())
        # Decoded text never shows a control token, so the FIM markers stop by id.
        return self._stream(
            tokens,
            options,
            None,
            lambda pieces: trim_suffix_repeat(pieces, suffix),
            stop_ids=self.vocab.control_tokens(),
        )

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """Stream a continuation of ``prompt``."""
        return self.stream_tokens(self.tokenize_prompt(prompt), options=options)

    def stream_tokens(
        self, tokens: list[int], *, options: GenerationOptions, cache_key: str | None = None
    ) -> TokenStream:
        """Stream from already tokenized input (reuses the evaluated prefix llama.cpp kept)."""
        return self._stream(tokens, options, cache_key, None)

    def _stream(
        self,
        tokens: list[int],
        options: GenerationOptions,
        cache_key: str | None,
        wrap: Callable[[Iterator[tuple[str, int]]], Iterator[tuple[str, int]]] | None,
        *,
        stop_ids: frozenset[int] = frozenset(),
    ) -> TokenStream:
        self._require_open()
        n_ctx = self.info.context_length
        if len(tokens) >= n_ctx:
            raise GenerationError(
                f"The prompt is {len(tokens):,} tokens but the model's context holds {n_ctx:,}. "
                "Shorten the input, or raise the context length (--context / "
                "model.context_length) if the model supports it."
            )
        result = StreamResult(prompt_tokens=len(tokens))
        pieces = self._generate(tokens, options, result, cache_key, stop_ids)
        stream = TokenStream(wrap(pieces) if wrap else pieces, result=result)
        self._active = stream
        return stream

    def _switch_state(self, key: str | None) -> None:
        """Park the current conversation's evaluated state and bring back ``key``'s."""
        if key == self._owner:
            return
        llm = self._llm
        if self._owner is not None and llm.n_tokens > 0:
            self._saved[self._owner] = llm.save_state()
            self._saved.move_to_end(self._owner)
            while len(self._saved) > SAVED_STATES:
                self._saved.popitem(last=False)
        state = self._saved.pop(key, None) if key is not None else None
        if state is not None:
            llm.load_state(state)
        self._owner = key

    def _tokens(
        self,
        tokens: list[int],
        options: GenerationOptions,
        *,
        seed: int,
        stats: DraftStats,
        gate: GrammarGate | None,
    ) -> Iterator[int]:
        """The answer's token source: codenook's own loop where it drafts or checks a
        grammar a token at a time (its sampler chain is in NumPy, which a repeat penalty
        would leave), else llama-cpp-python's."""
        llm = self._llm
        if (options.draft == "on" or gate is not None) and SAMPLER["repeat_penalty"] == 1.0:
            sampler = Sampler(
                options.temperature,
                top_p=options.top_p,
                top_k=int(SAMPLER["top_k"]),
                min_p=SAMPLER["min_p"],
            )
            return draft_generate(
                llm, tokens, sampler=sampler, seed=seed, stats=stats, grammar=gate,
                max_draft=MAX_DRAFT if options.draft == "on" else 0,
            )  # fmt: skip
        grammar = compile_grammar(llm._model.vocab, options.grammar) if options.grammar else None
        return llm.generate(
            tokens, temp=options.temperature, top_p=options.top_p, grammar=grammar, **SAMPLER
        )

    def _generate(
        self,
        tokens: list[int],
        options: GenerationOptions,
        result: StreamResult,
        cache_key: str | None,
        stop_ids: frozenset[int] = frozenset(),
    ) -> Iterator[tuple[str, int]]:
        if not self._lock.acquire(blocking=False):
            raise GenerationError("The model is busy with another answer; wait or cancel it.")
        llm = self._llm
        gen = None
        gate: GrammarGate | None = None
        try:
            self._switch_state(cache_key)
            n = min(llm.n_tokens, len(tokens))
            differ = np.flatnonzero(llm.input_ids[:n] != np.asarray(tokens[:n], dtype=np.intc))
            same = int(differ[0]) if differ.size else n
            # llama.cpp re-evaluates at least the last prompt token to get fresh logits.
            result.cached_tokens = min(same, len(tokens) - 1)
            seed = options.seed if options.seed is not None else random.randrange(2**31)
            llm.set_seed(seed)
            stats = DraftStats()
            if options.grammar:
                gate = GrammarGate(llm._model.vocab, options.grammar, llm.n_vocab())
            gen = self._tokens(tokens, options, seed=seed, stats=stats, gate=gate)
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            vocab = llm._model.vocab
            room = self.info.context_length - len(tokens)
            limit = min(options.max_tokens, room)
            pending, count = "", 0
            result.finish_reason = "length"
            for produced, token in enumerate(gen, 1):
                if llama_cpp.llama_vocab_is_eog(vocab, token) or token in stop_ids:
                    result.finish_reason = "stop"
                    break
                count += 1
                pending += decoder.decode(llm.detokenize([token]))
                emit, pending, stopped = _split_stop(pending, options.stop)
                if emit:
                    yield emit, count
                    count = 0
                if stopped:
                    result.finish_reason = "stop"
                    pending = ""
                    break
                if produced >= limit:
                    break
            tail = pending + decoder.decode(b"", final=True)
            if tail or count:
                yield tail, count
        finally:
            if gen is not None:
                gen.close()
                result.draft_rounds = stats.rounds
                result.drafted = stats.drafted
                result.draft_accepted = stats.accepted
            if gate is not None:
                gate.close()
            self._lock.release()
            self._active = None

    def close(self) -> None:
        """Free the llama.cpp model and context."""
        if self._closed:
            return
        super().close()
        # Wait for a generation in another thread to notice the cancel and let go.
        with self._lock:
            self._llm.close()


def _with_stop(options: GenerationOptions, stop: Sequence[str]) -> GenerationOptions:
    """Options with the format's stop strings added to the user's."""
    extra = tuple(s for s in stop if s not in options.stop)
    return replace(options, stop=(*options.stop, *extra)) if extra else options


def _device(gpu_layers: int, layer_count: object) -> str:
    """Where llama.cpp runs the layers, for people."""
    if gpu_layers == 0 or not gpu_offload_supported():
        return "CPU"
    if gpu_layers < 0 or (isinstance(layer_count, int) and gpu_layers >= layer_count):
        return "GPU"
    return f"GPU ({gpu_layers} layers) + CPU"


def default_threads() -> int:
    """Physical cores: llama.cpp gains nothing from hyper-threads."""
    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1
