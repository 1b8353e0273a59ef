"""The prompt side of a GGUF model: which formats it wants, and its prompts as tokens.

It renders prompts only: the words of a job (what to ask a model that has no
fill-in-the-middle, for one) are the job's own, in ``codenook.assist``.

``LlamaBackend`` uses one for the model it runs; ``PromptModel.open`` loads only the
vocabulary (fast, no weights) to show a prompt without running the model.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import llama_cpp

from codenook.engine.backend import Message
from codenook.engine.formats import (
    FormatChoice,
    Prompt,
    chat_format,
    choose_formats,
    fill_format,
    template_prompt,
)
from codenook.engine.gguf_file import check_model_file, diagnose_load_failure
from codenook.engine.vocab import Vocab
from codenook.errors import ModelError

log = logging.getLogger(__name__)


class PromptModel:
    """A model's formats, chat template and vocabulary: messages in, prompt or tokens out."""

    def __init__(self, llm: llama_cpp.Llama, *, chat_format_name: str | None = None) -> None:
        self._llm: llama_cpp.Llama | None = llm
        self._setup(llm.metadata, Vocab(llm), chat_format_name)

    @classmethod
    def of(
        cls, metadata: Mapping[str, Any], vocab: Any, *, chat_format_name: str | None = None
    ) -> PromptModel:
        """Formats for any runtime: its metadata (GGUF keys) and a vocabulary with Vocab's
        contract (``encode``, ``piece``, ``has_token``, ``bos``, ``eos``)."""
        model = cls.__new__(cls)
        model._llm = None
        model._setup(metadata, vocab, chat_format_name)
        return model

    def _setup(self, meta: Mapping[str, Any], vocab: Any, chat_format_name: str | None) -> None:
        self._owned = False
        self.metadata = meta
        self.template: str | None = meta.get("tokenizer.chat_template")
        self.vocab = vocab
        self.bos_text = self.vocab.piece(self.vocab.bos) if self.vocab.bos >= 0 else ""
        self.eos_text = self.vocab.piece(self.vocab.eos) if self.vocab.eos >= 0 else ""
        self.formats: FormatChoice = choose_formats(
            meta, has_token=self.vocab.has_token, chat_format=chat_format_name
        )

    @classmethod
    def open(cls, path: str | Path, *, chat_format_name: str | None = None) -> PromptModel:
        """Load only the vocabulary and metadata of a GGUF file; close() when done."""
        if chat_format_name:
            chat_format(chat_format_name)  # a wrong name fails before loading
        model_path = check_model_file(path)
        # llama-cpp-python reports a harmless "n_ctx_train (0)" warning for every
        # vocabulary-only load as an error; keep it off the user's terminal.
        chatter = io.StringIO()
        try:
            with contextlib.redirect_stderr(chatter):
                llm = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            log.info("llama.cpp refused %s: %s %s", model_path, exc, chatter.getvalue())
            raise ModelError(diagnose_load_failure(model_path)) from exc
        log.debug("llama.cpp: %s", chatter.getvalue().strip())
        try:
            model = cls(llm, chat_format_name=chat_format_name)
        except BaseException:
            llm.close()
            raise
        model._owned = True
        return model

    def close(self) -> None:
        """Free the vocabulary if this object loaded it."""
        if self._owned and self._llm is not None:
            self._owned = False
            with contextlib.suppress(Exception):
                self._llm.close()

    def __enter__(self) -> PromptModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- chat ------------------------------------------------------------------------

    def chat_prompt(self, messages: Sequence[Message]) -> Prompt:
        """The prompt for ``messages`` as segments, ending where the answer starts."""
        if self.formats.use_template and self.template:
            return template_prompt(
                self.template, messages, bos_token=self.bos_text, eos_token=self.eos_text
            )
        return chat_format(self.formats.chat_format or "chatml").render(messages)

    def chat_stop(self) -> tuple[str, ...]:
        """Stop strings of the chat format (its end-of-turn marker written as text)."""
        name = self.formats.chat_format
        return chat_format(name).stop if name else ()

    # -- fill in the middle ----------------------------------------------------------

    def fill_prompt(self, prefix: str, suffix: str) -> Prompt:
        """The FIM prompt for the code between ``prefix`` and ``suffix``.

        Only a model with fill-in-the-middle tokens has one: for the others the complete
        job writes its own chat request (assist/jobs/complete.py).
        """
        if not self.formats.fill_format:
            raise ModelError(
                "This model has no fill-in-the-middle tokens; codenook completes code with it "
                "through a chat request instead."
            )
        return fill_format(self.formats.fill_format).render(prefix, suffix)

    def fill_stop(self) -> tuple[str, ...]:
        """Where a FIM answer ends: its format's stop strings."""
        if not self.formats.fill_format:
            return ()
        return fill_format(self.formats.fill_format).stop

    # -- tokens ----------------------------------------------------------------------

    def tokenize(self, prompt: Prompt | str) -> list[int]:
        """Token ids: special tokens only in the format's own text, BOS exactly once."""
        return self.vocab.encode(prompt)
