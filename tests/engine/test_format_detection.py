"""Choosing formats for a GGUF model: family from metadata, FIM from the vocabulary, the
file's own template unless the settings name a format."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook.engine.backend import Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.formats import choose_formats, detect_family, template_style
from codenook.engine.llama import LlamaBackend
from codenook.engine.prompts import PromptModel
from codenook.errors import ConfigError

VOCAB_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "vocab"


def no_tokens(_: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("metadata", "family"),
    [
        (
            {"general.architecture": "llama", "general.name": "codellama_codellama-7b-instruct-hf"},
            "codellama",
        ),
        ({"general.architecture": "llama", "general.name": "CodeLlama 13B Instruct"}, "codellama"),
        (
            {"general.architecture": "llama", "general.name": "mistralai_mistral-7b-instruct-v0.1"},
            "mistral",
        ),
        ({"general.architecture": "llama", "general.name": "Codestral-22B-v0.1"}, "codestral"),
        ({"general.architecture": "llama", "general.name": "deepseek-coder"}, "deepseek-coder"),
        (
            {"general.architecture": "llama", "tokenizer.ggml.pre": "deepseek-coder"},
            "deepseek-coder",
        ),
        (
            {"general.architecture": "qwen2", "general.name": "Qwen2.5 Coder 7B Instruct"},
            "qwen-coder",
        ),
        ({"general.architecture": "qwen2", "general.name": "Qwen2.5 7B Instruct"}, "qwen"),
        ({"general.architecture": "starcoder2", "general.name": "starcoder"}, "starcoder"),
        ({"general.architecture": "llama", "general.basename": "smollm2"}, "smollm"),
        ({"general.architecture": "llama", "general.name": "Meta Llama 3 8B Instruct"}, "llama3"),
        ({"general.architecture": "llama", "general.name": "Llama 2 7B Chat"}, "llama2"),
        ({"general.architecture": "gpt2", "general.name": "something"}, "unknown"),
    ],
)
def test_family_from_metadata(metadata: dict[str, str], family: str) -> None:
    assert detect_family(metadata) == family


@pytest.mark.parametrize(
    ("family_meta", "chat"),
    [
        ({"general.name": "CodeLlama 7B Instruct"}, "codellama-instruct"),
        ({"general.name": "Mistral 7B Instruct v0.1"}, "mistral-instruct"),
        ({"general.name": "deepseek-coder-6.7b-instruct"}, "deepseek-coder-instruct"),
        ({"general.name": "Qwen2.5 Coder 7B Instruct"}, "chatml"),
        ({"general.name": "Meta Llama 3 8B Instruct"}, "llama3"),
    ],
)
def test_without_a_template_the_family_decides(family_meta: dict[str, str], chat: str) -> None:
    choice = choose_formats({"general.architecture": "llama", **family_meta}, has_token=no_tokens)
    assert (choice.chat_format, choice.use_template, choice.chat_source) == (
        chat,
        False,
        "model family",
    )


def test_an_unknown_model_without_template_gets_a_stated_guess() -> None:
    choice = choose_formats({"general.architecture": "gpt2"}, has_token=no_tokens)
    assert choice.chat_format == "chatml" and choice.chat_source == "guess"
    assert "guess" in choice.describe_chat()


def test_the_file_template_wins_unless_the_settings_name_a_format() -> None:
    meta = {
        "general.architecture": "llama",
        "general.name": "Mistral 7B Instruct",
        "tokenizer.chat_template": "{{ '[INST] ' + messages[0]['content'] + ' [/INST]' }}",
    }
    from_file = choose_formats(meta, has_token=no_tokens)
    assert from_file.use_template and from_file.chat_format == "mistral-instruct"
    named = choose_formats(meta, has_token=no_tokens, chat_format="chatml")
    assert not named.use_template and named.chat_format == "chatml"
    assert named.chat_source == "settings"
    with pytest.raises(ConfigError, match="Unknown chat format 'bogus'"):
        choose_formats(meta, has_token=no_tokens, chat_format="bogus")


@pytest.mark.parametrize(
    ("template", "style"),
    [
        ("<|im_start|>{{ m }}", "chatml"),
        ("<|start_header_id|>", "llama3"),
        ("[INST] <<SYS>>", "codellama-instruct"),
        ("[INST]", "mistral-instruct"),
        ("### Instruction:\n", "deepseek-coder-instruct"),
        ("{{ messages }}", None),
    ],
)
def test_template_style(template: str, style: str | None) -> None:
    assert template_style(template) == style


@pytest.mark.parametrize(
    ("tokens", "fill"),
    [
        ({"▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"}, "codellama"),
        ({"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"}, "qwen2.5-coder"),
        ({"<fim_prefix>", "<fim_suffix>", "<fim_middle>"}, "starcoder"),
        ({"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}, "deepseek-coder"),
        ({"[SUFFIX]", "[PREFIX]", "[INST]"}, "codestral"),
        ({"<fim_prefix>", "<fim_suffix>"}, None),  # incomplete: no FIM
        ({"[INST]", "[/INST]"}, None),  # Mistral Instruct: no FIM tokens
    ],
)
def test_fim_only_where_the_vocabulary_has_the_markers(tokens: set[str], fill: str | None) -> None:
    def loose(text: str) -> str:
        return text.replace("▁", " ").strip()

    def has(text: str) -> bool:
        return any(loose(t) == loose(text) for t in tokens)

    choice = choose_formats({"general.architecture": "llama"}, has_token=has)
    assert choice.fill_format == fill
    assert ("tokens in the vocabulary" in choice.describe_fill()) == bool(fill)


@pytest.mark.parametrize(
    ("file", "family", "chat", "fill"),
    [
        (
            "ggml-vocab-deepseek-coder.gguf",
            "deepseek-coder",
            "deepseek-coder-instruct",
            "deepseek-coder",
        ),
        ("ggml-vocab-starcoder.gguf", "starcoder", "chatml", "starcoder"),
        ("ggml-vocab-llama-spm.gguf", "llama2", "codellama-instruct", None),
    ],
)
def test_real_vocabularies(file: str, family: str, chat: str, fill: str | None) -> None:
    path = VOCAB_DIR / file
    assert path.is_file(), f"vocabulary file missing: {path}"
    with PromptModel.open(path) as model:
        assert model.formats.family == family
        assert model.formats.chat_format == chat
        assert model.formats.fill_format == fill


def test_embedded_smollm2_is_chatml_from_its_own_template_without_fim(
    embedded_backend: LlamaBackend,
) -> None:
    info = embedded_backend.info
    assert embedded_backend.formats.family == "smollm"
    assert info.chat_format == "chatml"
    assert info.chat_template
    assert not info.can_fill and info.fill_format is None
    assert "instruction prompt" in info.fill_format_note
    prompt = embedded_backend.chat_prompt([Message("user", "hi")])
    assert prompt.text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_settings_format_overrides_the_template_in_the_backend() -> None:
    with PromptModel.open(embedded_model_path(), chat_format_name="llama3") as model:
        assert model.formats.chat_source == "settings"
        assert model.chat_prompt([Message("user", "hi")]).text.startswith("<|begin_of_text|>")


def test_a_wrong_format_name_fails_before_loading(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown chat format"):
        LlamaBackend(embedded_model_path(), chat_format_name="nope", context_length=256)
