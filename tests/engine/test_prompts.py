"""A model's prompts: fill-in-the-middle through FIM tokens only (the words are assist's)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, _with_stop
from codenook.engine.prompts import PromptModel
from codenook.errors import ModelError

PREFIX = "def add(a, b):\n    return "
SUFFIX = "\n\nprint(add(1, 2))\n"


def test_a_model_without_fim_tokens_has_no_fill_prompt() -> None:
    """The engine renders FIM only; the complete job words the request for other models."""
    with PromptModel.open(embedded_model_path()) as model:
        assert model.formats.fill_format is None
        with pytest.raises(ModelError, match="no fill-in-the-middle tokens"):
            model.fill_prompt(PREFIX, SUFFIX)
        assert model.fill_stop() == ()


def test_fill_on_a_model_without_fim_is_refused(embedded_backend: LlamaBackend) -> None:
    assert not embedded_backend.info.can_fill
    with pytest.raises(ModelError, match="no fill-in-the-middle"):
        embedded_backend.fill(PREFIX, SUFFIX, options=GenerationOptions(max_tokens=8))


def test_fill_uses_the_fim_format_and_its_stops_where_the_model_has_one(
    embedded_backend: LlamaBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The FIM path: the starcoder prompt, its stop strings, nothing wrapped around it."""
    fim = replace(embedded_backend.formats, fill_format="starcoder")
    monkeypatch.setattr(embedded_backend.prompts, "formats", fim)
    monkeypatch.setattr(embedded_backend, "formats", fim)
    seen = {}

    def capture(tokens, options, result, cache_key, stop_ids):
        seen["tokens"], seen["options"], seen["stop_ids"] = tokens, options, stop_ids
        return iter(())

    monkeypatch.setattr(embedded_backend, "_generate", capture)
    user_stop = GenerationOptions(stop=("STOP",))
    assert "".join(embedded_backend.fill("a", "b", options=user_stop)) == ""
    text = embedded_backend.vocab._llm.detokenize(seen["tokens"]).decode()
    assert text == "<fim_prefix>a<fim_suffix>b<fim_middle>"
    assert seen["options"].stop[0] == "STOP"
    # Decoded text never shows a control token: the FIM markers stop by id as well.
    assert seen["stop_ids"] == embedded_backend.vocab.control_tokens()
    assert "<|endoftext|>" in seen["options"].stop


def test_format_stop_strings_join_the_users(embedded_backend: LlamaBackend) -> None:
    assert embedded_backend.prompts.chat_stop() == ("<|im_end|>",)
    joined = _with_stop(GenerationOptions(stop=("zzz",)), ("<|im_end|>",))
    assert joined.stop == ("zzz", "<|im_end|>")
    same = GenerationOptions(stop=("<|im_end|>",))
    assert _with_stop(same, ("<|im_end|>",)) is same
