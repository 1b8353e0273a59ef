"""The shipped model catalog: every entry loads, is consistent, and matches the real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook import config
from codenook.engine import catalog as cat
from codenook.engine.embedded import FILENAME, embedded_model_path
from codenook.engine.gguf_meta import read_metadata
from codenook.errors import ConfigError

REQUIRED = [
    "mistral-7b-instruct-v0.2",
    "mistral-7b-instruct-v0.3",
    "codellama-7b-instruct",
    "codellama-7b",
    "qwen2.5-coder-7b-instruct",
    "qwen2.5-coder-1.5b",
    "qwen2.5-coder-1.5b-instruct",
    "deepseek-coder-6.7b-instruct",
    "smollm2-135m-instruct",
]
VOCAB = Path(__file__).resolve().parents[2].parent / "shared" / "vocab"


def test_every_required_model_is_in_the_shipped_catalog() -> None:
    catalog = cat.load_catalog()
    assert catalog.names() == REQUIRED


@pytest.mark.parametrize("name", REQUIRED)
def test_entry_is_complete_and_consistent(name: str) -> None:
    entry = cat.load_catalog().get(name)
    assert entry is not None
    assert entry.chat_format in cat.CHAT_FORMATS | {None}
    assert entry.fill_format in cat.FILL_FORMATS | {None}
    assert entry.quants and entry.default_quant in entry.quants
    assert "/" in entry.repo and entry.license and entry.good_for
    assert entry.head_dim * entry.heads >= 512  # a transformer, not a typo
    assert entry.kv_heads <= entry.heads and entry.heads % entry.kv_heads == 0
    for quant in entry.quants.values():
        assert quant.file.endswith(".gguf")
        bits = quant.size * 8 / entry.params
        # A size typo shows as an impossible number of bits per weight.
        if quant.name == "Q4_K_M":
            assert 4.4 <= bits <= 5.6, (quant, bits)
        if quant.name == "Q8_0":
            assert 8.0 <= bits <= 9.0, (quant, bits)
    if not entry.embedded:
        assert set(entry.quants) == {"Q4_K_M", "Q8_0"}
        assert entry.default_quant == "Q4_K_M"


def test_base_models_have_no_chat_format_and_instruct_models_do() -> None:
    catalog = cat.load_catalog()
    assert catalog.get("codellama-7b").chat_format is None
    assert catalog.get("codellama-7b").fill_format == "codellama"
    assert catalog.get("qwen2.5-coder-1.5b").chat_format is None
    assert catalog.get("qwen2.5-coder-1.5b").fill_format == "qwen2.5-coder"
    assert catalog.get("qwen2.5-coder-1.5b-instruct").fill_format is None
    assert catalog.get("codellama-7b-instruct").chat_format == "codellama-instruct"
    assert catalog.get("mistral-7b-instruct-v0.2").fill_format is None


def test_name_quant_syntax() -> None:
    catalog = cat.load_catalog()
    default = catalog.resolve("mistral-7b-instruct-v0.2")
    assert default.quant.name == "Q4_K_M"
    assert default.spec == "mistral-7b-instruct-v0.2:Q4_K_M"
    q8 = catalog.resolve("Mistral-7B-Instruct-v0.2:q8_0")
    assert q8.quant.file == "mistral-7b-instruct-v0.2.Q8_0.gguf"
    assert cat.parse_spec(" codellama-7b:Q8_0 ") == ("codellama-7b", "Q8_0")


def test_unknown_name_and_quant_say_what_exists() -> None:
    catalog = cat.load_catalog()
    with pytest.raises(cat.CatalogError, match=r"No model called 'gpt-5'.*codellama-7b"):
        catalog.resolve("gpt-5")
    with pytest.raises(cat.CatalogError, match=r"no Q2_K file.*Q4_K_M, Q8_0"):
        catalog.resolve("codellama-7b:Q2_K")


def test_embedded_entry_is_the_file_that_ships() -> None:
    entry = cat.load_catalog().get("smollm2-135m-instruct")
    assert entry.embedded
    quant = entry.quant()
    assert quant.name == "Q4_1" and quant.embedded
    assert quant.file == FILENAME
    assert quant.size == embedded_model_path().stat().st_size
    meta = read_metadata(embedded_model_path())
    assert (meta.block_count, meta.head_count, meta.head_count_kv, meta.head_dim) == (
        entry.layers,
        entry.heads,
        entry.kv_heads,
        entry.head_dim,
    )
    assert (meta.vocab_size, meta.context_length) == (entry.vocab, entry.context)
    assert abs(meta.params - entry.params) / entry.params < 0.01


def test_deepseek_figures_match_its_real_vocabulary_file() -> None:
    vocab = VOCAB / "ggml-vocab-deepseek-coder.gguf"
    assert vocab.is_file(), f"missing test data {vocab}"
    meta = read_metadata(vocab)
    entry = cat.load_catalog().get("deepseek-coder-6.7b-instruct")
    assert meta.block_count == entry.layers
    assert meta.head_count_kv == entry.kv_heads and meta.head_dim == entry.head_dim
    assert meta.context_length == entry.context
    assert meta.vocab_size == entry.vocab


def test_lookup_by_file_name() -> None:
    catalog = cat.load_catalog()
    found = catalog.by_file("Qwen2.5-Coder-7B-Instruct-Q8_0.gguf")
    assert found is not None and found.spec == "qwen2.5-coder-7b-instruct:Q8_0"
    # A file renamed to lower case is still recognised.
    assert catalog.by_file("qwen2.5-coder-7b-instruct-q8_0.gguf") == found
    assert catalog.by_file("something-else.gguf") is None


def test_a_user_catalog_adds_entries() -> None:
    config.ensure_dirs()
    cat.user_catalog_file().write_text(
        """
[[model]]
name = "my-coder"
title = "My Coder"
family = "llama"
repo = "me/My-Coder-GGUF"
chat_format = "chatml"
context = 4096
params = 1_000_000_000
layers = 16
heads = 16
kv_heads = 4
head_dim = 64
vocab = 32000
license = "mit"
good_for = "testing"
[model.quants.Q4_K_M]
file = "my-coder.Q4_K_M.gguf"
size = 600_000_000
"""
    )
    catalog = cat.load_catalog()
    assert catalog.names()[-1] == "my-coder"
    assert catalog.resolve("my-coder").quant.size == 600_000_000
    assert len(catalog) == len(REQUIRED) + 1


GOOD = """
[[model]]
name = "m"
title = "M"
family = "f"
repo = "o/r"
chat_format = "chatml"
context = 1
params = 1
layers = 1
heads = 1
kv_heads = 1
head_dim = 1
vocab = 1
license = "l"
good_for = "g"
[model.quants.Q4_K_M]
file = "m.gguf"
size = 1
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('name = "m"', 'name = "Bad Name"'), "lower-case"),
        (
            ('chat_format = "chatml"', 'chat_format = "alpaca"'),
            "chat_format must be .*, not 'alpaca'",
        ),
        (('chat_format = "chatml"', ""), "chat_format, a fill_format or both"),
        (("layers = 1", "layers = 0"), "layers must be a positive integer"),
        (('repo = "o/r"', 'repo = "nope"'), "owner/name"),
        (('file = "m.gguf"', 'file = "m.bin"'), ".gguf file name"),
        (("size = 1", "size = -5"), "positive number of bytes"),
        (('license = "l"', 'license = "l"\nspeed = 3'), "unknown keys"),
        (('title = "M"\n', ""), "title is missing: it must be a non-empty string"),
        (('license = "l"', 'license = "l"\ngated = 1'), "gated must be true or false, not 1"),
        (("size = 1", 'size = "1"'), "Q4_K_M: size must be a positive number of bytes"),
        (('good_for = "g"', 'good_for = "g"\ndefault_quant = "Q8_0"'), "default_quant"),
    ],
)
def test_bad_entries_are_refused_with_the_reason(change: tuple[str, str], message: str) -> None:
    assert cat.parse_catalog(GOOD)[0].name == "m"
    with pytest.raises(ConfigError, match=message):
        cat.parse_catalog(GOOD.replace(*change))


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="duplicate names"):
        cat.parse_catalog(GOOD + GOOD)


def test_the_catalog_checks_the_rules_declared_at_its_fields() -> None:
    # The same declarations as settings (config.setting): a rule and help at each field.
    declared = {d.name: d for d in config.declared(cat.CatalogEntry)}
    assert all(d.about for d in declared.values())
    assert {n for n, d in declared.items() if d.rule is None} == {"quants", "default_quant"}
    assert declared["chat_format"].rule.choices == tuple(sorted(cat.CHAT_FORMATS))
    assert declared["layers"].rule.allows(1) and not declared["layers"].rule.allows(True)
