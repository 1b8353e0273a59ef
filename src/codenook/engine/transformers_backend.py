"""Hugging Face transformers on PyTorch in process: the same Backend shape as llama.cpp.

Opens a Hugging Face model folder, a GGUF file through transformers' ``gguf_file=``
(dequantized), and Meta's original checkpoint folder (converted once into the cache). The
prompt is rendered by the same formats as llama.cpp and tokenized so that, for a model
both runtimes open, the ids are the same. Generation is codenook's own loop over the
model's forward pass: one token at a time, so ``cancel()`` is seen within a token, stop
strings are held back, and the evaluated prefix (past keys and values) is kept between
turns like llama.cpp keeps its context.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil

# OpenMP threads that spin while waiting starve everything else on a busy machine (the
# window, llama.cpp's own threads): measured on 2 cores under load, 0.3 tokens/s spinning
# against 5.8 waiting passively. Read when torch loads its OpenMP runtime, so set first;
# a value in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from codenook.engine import torchcheck

try:
    import torch
except ImportError:
    # PyTorch is optional (engine/torchcheck.py): one clear line, not an ImportError.
    torchcheck.require("The transformers runtime")
    raise

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
from codenook.engine.hf_vocab import HfVocab
from codenook.engine.llama import SAMPLER, _split_stop, _with_stop, default_threads
from codenook.engine.prompts import PromptModel
from codenook.errors import GenerationError, ModelError

log = logging.getLogger(__name__)

#: Conversations whose past keys and values are kept while another one uses the model.
SAVED_STATES = 2
#: Prompt tokens evaluated per forward pass: a cancel is seen between chunks.
PREFILL_CHUNK = 128


def cuda_device_name() -> str | None:
    """The first CUDA GPU torch sees, or None."""
    try:
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except (RuntimeError, AssertionError):
        return None


def _model_folder(
    source: Path, layout: str, on_progress: Callable[[int, int], None] | None
) -> tuple[Path, str | None]:
    """The folder transformers opens for ``source``, and the GGUF file name within it if any.

    Meta's checkpoint is converted first (once; cached), reporting each layer done.
    """
    if layout == "meta":
        from codenook.engine.meta_checkpoint import convert

        return convert(source, on_progress=on_progress), None
    if layout == "gguf":
        return source.parent, source.name
    return source, None


def _choose_dtype(source: Path, layout: str, *, on_cuda: bool, four_bit: bool) -> torch.dtype:
    """The weights' dtype on the chosen device; on CUDA, refuses a model that cannot fit."""
    if on_cuda:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        _check_gpu_fit(_weight_bytes(source, layout), four_bit=four_bit, name=source.name)
        return dtype
    # float32 on the CPU (fast kernels; the same numbers as llama.cpp's dequantized
    # weights) when it fits in RAM twice over, else bfloat16 at half the memory.
    need = _weight_bytes(source, layout) * 2
    roomy = need * 2 < psutil.virtual_memory().available
    return torch.float32 if roomy else torch.bfloat16


def _load_model(
    source: Path,
    folder: Path,
    gguf_file: str | None,
    *,
    dtype: torch.dtype,
    four_bit: bool,
    device: torch.device,
) -> tuple[Any, Any]:
    """The tokenizer and the model (in eval mode, on ``device``), or a ModelError in words."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"local_files_only": True}
    if gguf_file:
        kwargs["gguf_file"] = gguf_file
    chatter = io.StringIO()
    try:
        # transformers' GGUF reader draws its own progress bar on stderr; kept for the log.
        with contextlib.redirect_stderr(chatter):
            tokenizer = AutoTokenizer.from_pretrained(str(folder), **kwargs)
            load: dict[str, Any] = {**kwargs, "dtype": dtype}
            if four_bit:
                load["quantization_config"] = _four_bit_config(dtype)
                load["device_map"] = {"": 0}
            model = AutoModelForCausalLM.from_pretrained(str(folder), **load)
    except ModelError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, ImportError) as exc:
        log.info("transformers refused %s: %r", source, exc)
        raise ModelError(
            f"transformers could not load {source}: {_first_line(exc)}. Check that the "
            "folder is complete, or run it with --runtime llama.cpp as a GGUF file."
        ) from exc
    except torch.cuda.OutOfMemoryError as exc:
        raise ModelError(_too_big(source.name, "it did not fit while loading")) from exc
    if not four_bit:
        try:
            model.to(device)
        except torch.cuda.OutOfMemoryError as exc:
            raise ModelError(_too_big(source.name, "it did not fit while loading")) from exc
    log.debug("transformers loading %s: %s", source, chatter.getvalue()[-2000:])
    model.eval()
    return tokenizer, model


class TransformersBackend(Backend):
    """A model run by Hugging Face transformers (PyTorch) in this process."""

    def __init__(
        self,
        location: str | Path,
        *,
        layout: str = "hf",
        context_length: int = 4096,
        threads: int | None = None,
        gpu: bool = True,
        four_bit: bool = False,
        embedded: bool = False,
        chat_format_name: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        super().__init__()
        from transformers.utils import logging as hf_logging

        if chat_format_name:
            chat_format(chat_format_name)  # a wrong name fails before the slow load
        hf_logging.disable_progress_bar()
        source = Path(location)
        folder, gguf_file = _model_folder(source, layout, on_progress)
        self.threads = threads or default_threads()
        torch.set_num_threads(self.threads)
        cuda = cuda_device_name() if gpu else None
        if four_bit and cuda is None:
            raise ModelError(
                "model.four_bit needs a CUDA GPU that torch can see; turn it off to run on the CPU."
            )
        self.device = torch.device("cuda" if cuda else "cpu")
        dtype = _choose_dtype(source, layout, on_cuda=cuda is not None, four_bit=four_bit)
        self.dtype = dtype
        tokenizer, model = _load_model(
            source, folder, gguf_file, dtype=dtype, four_bit=four_bit, device=self.device
        )
        self._model = model
        # transformers 5.24 renamed the forward pass's past_key_values to cache.
        params = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        self.tokenizer = tokenizer
        self.vocab = HfVocab(tokenizer)
        meta = _metadata(source, layout, model, tokenizer)
        self.prompts = PromptModel.of(meta, self.vocab, chat_format_name=chat_format_name)
        self.formats = self.prompts.formats
        cfg = model.config
        self._ids: list[int] = []  # the tokens the cache holds
        self._cache: Any = None
        self._owner: str | None = None
        self._saved: OrderedDict[str, tuple[list[int], Any]] = OrderedDict()
        dtype_name = str(dtype).removeprefix("torch.") + (", 4-bit" if four_bit else "")
        name = source.stem.split(".")[0] if embedded else source.name.removesuffix(".gguf")
        self.info = ModelInfo(
            path=str(source),
            name=name,
            architecture=str(cfg.model_type),
            backend="transformers",
            context_length=context_length,
            trained_context_length=getattr(cfg, "max_position_embeddings", None),
            gpu_layers=-1 if cuda else 0,
            layer_count=getattr(cfg, "num_hidden_layers", None),
            threads=self.threads,
            gpu_offload_supported=cuda_device_name() is not None,
            embedded=embedded,
            can_fill=self.formats.fill_format is not None,
            chat_format=self.formats.chat_format,
            chat_template=self.formats.use_template,
            fill_format=self.formats.fill_format,
            chat_format_note=self.formats.describe_chat(),
            fill_format_note=self.formats.describe_fill(),
            runtime="transformers",
            device=f"CUDA ({cuda}, {dtype_name})" if cuda else f"CPU ({dtype_name})",
            on_gpu=cuda is not None,
            layer_offload=False,
        )

    # -- prompts -------------------------------------------------------------------

    def chat_prompt(self, messages: Sequence[Message]) -> Prompt:
        """The prompt for ``messages`` as segments, ending where the answer starts."""
        return self.prompts.chat_prompt(messages)

    def render_chat(self, messages: Sequence[Message]) -> str:
        """The exact prompt text for ``messages``."""
        return self.prompts.chat_prompt(messages).text

    def fill_prompt(self, prefix: str, suffix: str) -> Prompt:
        """The FIM prompt for the code between ``prefix`` and ``suffix`` (a ModelError
        for a model without fill-in-the-middle)."""
        return self.prompts.fill_prompt(prefix, suffix)

    def _require_open(self) -> None:
        if self._closed:
            raise GenerationError("The model was closed; load it again.")

    def tokenize_prompt(self, prompt: Prompt | str) -> list[int]:
        """Token ids of a prompt, as llama.cpp's runtime would feed them."""
        self._require_open()
        return self.vocab.encode(prompt)

    def count_tokens(self, text: str) -> int:
        """Count tokens of plain text with the model's own tokenizer."""
        self._require_open()
        return len(self.vocab._plain_raw(text))

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """Tokens of the rendered chat prompt."""
        return len(self.tokenize_prompt(self.chat_prompt(messages)))

    # -- generation ----------------------------------------------------------------

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
        # As in llama.cpp's runtime: an instruct model writing on past the gap is cut
        # where it repeats the suffix (engine/fillcut.py).
        return self._stream(
            tokens, options, None, lambda pieces: trim_suffix_repeat(pieces, suffix)
        )

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """Stream a continuation of ``prompt``."""
        return self.stream_tokens(self.tokenize_prompt(prompt), options=options)

    def stream_tokens(
        self, tokens: list[int], *, options: GenerationOptions, cache_key: str | None = None
    ) -> TokenStream:
        """Stream from already tokenized input (reuses the evaluated prefix kept)."""
        return self._stream(tokens, options, cache_key, None)

    def _stream(
        self,
        tokens: list[int],
        options: GenerationOptions,
        cache_key: str | None,
        wrap: Callable[[Iterator[tuple[str, int]]], Iterator[tuple[str, int]]] | None,
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
        cancel = threading.Event()
        pieces = self._generate(tokens, options, result, cache_key, cancel)
        stream = TokenStream(wrap(pieces) if wrap else pieces, result=result, _cancel=cancel)
        self._active = stream
        return stream

    def _switch_state(self, key: str | None) -> None:
        """Park the current conversation's cache and bring back ``key``'s."""
        if key == self._owner:
            return
        if self._owner is not None and self._ids:
            self._saved[self._owner] = (self._ids, self._cache)
            self._saved.move_to_end(self._owner)
            while len(self._saved) > SAVED_STATES:
                self._saved.popitem(last=False)
        saved = self._saved.pop(key, None) if key is not None else None
        self._ids, self._cache = saved if saved is not None else ([], None)
        self._owner = key

    def _reuse(self, tokens: list[int]) -> int:
        """Cut the cache back to its longest common prefix with ``tokens``; its length."""
        from transformers import DynamicCache

        same = 0
        for a, b in zip(self._ids, tokens, strict=False):
            if a != b:
                break
            same += 1
        # At least the last prompt token is evaluated again, for its fresh logits.
        same = min(same, len(tokens) - 1)
        if self._cache is None or same <= 0:
            self._cache = DynamicCache(config=self._model.config)
            self._ids = []
            return 0
        extra = self._cache.get_seq_length() - same
        if extra > 0:
            self._cache.crop(-extra)
        self._ids = self._ids[:same]
        return same

    def _forward(self, ids: list[int]) -> torch.Tensor:
        """Evaluate ``ids`` after the cached ones; the next token's logits."""
        with torch.inference_mode():
            out = self._model(
                input_ids=torch.tensor([ids], device=self.device),
                use_cache=True,
                logits_to_keep=1,
                **{self._cache_arg: self._cache},
            )
        self._ids.extend(ids)
        return out.logits[0, -1].float()

    def _generate(
        self,
        tokens: list[int],
        options: GenerationOptions,
        result: StreamResult,
        cache_key: str | None,
        cancel: threading.Event,
    ) -> Iterator[tuple[str, int]]:
        if not self._lock.acquire(blocking=False):
            raise GenerationError("The model is busy with another answer; wait or cancel it.")
        try:
            self._switch_state(cache_key)
            same = self._reuse(tokens)
            result.cached_tokens = same
            logits = None
            for at in range(same, len(tokens), PREFILL_CHUNK):
                if cancel.is_set():
                    return
                try:
                    logits = self._forward(tokens[at : at + PREFILL_CHUNK])
                except torch.cuda.OutOfMemoryError as exc:
                    self._ids, self._cache = [], None
                    raise GenerationError(
                        "The GPU ran out of memory evaluating the prompt: shorten it, or "
                        "lower the context (--context)."
                    ) from exc
            assert logits is not None
            sampler = _Sampler(options, self.device)
            room = self.info.context_length - len(tokens)
            limit = min(options.max_tokens, room)
            ends = self.vocab.end_ids
            produced: list[int] = []
            shown, start, pending, count, stopped = 0, 0, "", 0, False
            result.finish_reason = "length"
            while True:
                token = sampler.pick(logits)
                if token in ends:
                    result.finish_reason = "stop"
                    break
                produced.append(token)
                count += 1
                text = self.vocab.decode(produced[start:])
                if text.endswith("\ufffd"):
                    new = ""  # a character split across tokens: wait for its other bytes
                else:
                    new, shown = text[shown:], len(text)
                    if new.endswith("\n"):
                        start, shown = len(produced), 0  # decode only what follows
                emit, pending, stopped = _split_stop(pending + new, options.stop)
                if emit:
                    yield emit, count
                    count = 0
                if stopped:
                    result.finish_reason = "stop"
                    pending = ""
                    break
                if len(produced) >= limit or cancel.is_set():
                    break
                logits = self._forward([token])
            tail = "" if stopped else pending + self.vocab.decode(produced[start:])[shown:]
            if tail or count:
                yield tail, count
        finally:
            self._lock.release()
            self._active = None

    def close(self) -> None:
        """Free the model (and the GPU memory it held)."""
        if self._closed:
            return
        super().close()
        with self._lock:
            self._cache, self._saved = None, OrderedDict()
            self._model = None
            if self.device.type == "cuda":
                with contextlib.suppress(RuntimeError):
                    torch.cuda.empty_cache()


class _Sampler:
    """llama.cpp's sampling for one answer: greedy at temperature 0, else top-k, top-p,
    min-p (codenook's ``SAMPLER``) and temperature, with a seeded generator."""

    def __init__(self, options: GenerationOptions, device: torch.device) -> None:
        self.temperature = options.temperature
        self.top_p = options.top_p
        self.top_k = int(SAMPLER["top_k"])
        self.min_p = float(SAMPLER["min_p"])
        self.generator = torch.Generator(device="cpu")
        if options.seed is not None:
            self.generator.manual_seed(options.seed)
        else:
            self.generator.seed()

    def pick(self, logits: torch.Tensor) -> int:
        """The next token."""
        if self.temperature <= 0:
            return int(torch.argmax(logits))
        values, ids = torch.topk(logits.cpu(), min(self.top_k, logits.shape[-1]))
        probs = torch.softmax(values, dim=-1)
        keep = torch.cumsum(probs, dim=-1) - probs < self.top_p
        keep &= probs >= self.min_p * probs[0]
        keep[0] = True
        values = values[keep] / self.temperature
        probs = torch.softmax(values, dim=-1)
        choice = torch.multinomial(probs, 1, generator=self.generator)
        return int(ids[keep][choice])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")[:300]


def _metadata(source: Path, layout: str, model: Any, tokenizer: Any) -> dict[str, Any]:
    """GGUF-style metadata for the format choice: the file's own, or from the folder."""
    if layout == "gguf":
        from codenook.engine.gguf_meta import read_metadata

        return {k: v for k, v in read_metadata(source).fields.items() if isinstance(v, str)}
    name = getattr(model.config, "_name_or_path", "") or ""
    meta = {
        "general.architecture": str(model.config.model_type),
        "general.name": f"{source.name} {Path(name).name}".strip(),
    }
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, str) and template:
        meta["tokenizer.chat_template"] = template
    return meta


def _weight_bytes(source: Path, layout: str) -> int:
    """The weights' size in 16-bit floats, from the files (no loading)."""
    if layout == "gguf":
        from codenook.engine.gguf_meta import read_metadata

        meta = read_metadata(source)
        params = meta.get("general.parameter_count")
        return int(params) * 2 if isinstance(params, int) else source.stat().st_size * 4
    pattern = ("consolidated.*.pth",) if layout == "meta" else ("*.safetensors", "*.bin")
    return sum(f.stat().st_size for p in pattern for f in source.glob(p))


def _check_gpu_fit(need: int, *, four_bit: bool, name: str) -> None:
    """A ModelError, before loading, when the weights cannot fit in the free GPU memory."""
    if four_bit:
        need = need // 4 + need // 16  # 4 bits a weight, plus the scales and what stays 16-bit
    free, _ = torch.cuda.mem_get_info(0)
    # Room for the KV cache and activations beside the weights.
    if need * 1.15 > free:
        raise ModelError(
            _too_big(
                name, f"it needs about {need / 2**30:.1f} GB and {free / 2**30:.1f} GB is free"
            )
        )


def _too_big(name: str, why: str) -> str:
    return (
        f"{name} does not fit on the GPU ({why}). Load it in 4 bits (model.four_bit = true, "
        "needs bitsandbytes), run it on the CPU (--gpu-layers 0), or make it a GGUF file "
        "('codenook models import') for llama.cpp, which splits layers between GPU and CPU."
    )


def _four_bit_config(dtype: torch.dtype) -> Any:
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise ModelError(
            "model.four_bit needs the bitsandbytes package: pip install bitsandbytes (CUDA only)."
        ) from exc
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
    )
