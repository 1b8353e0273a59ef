"""Reading GGUF metadata: the real embedded model and llama.cpp's vocabulary-only files."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf import GGUFReader

from codenook.engine.embedded import embedded_model_path
from codenook.engine.gguf_meta import ArrayInfo, read_metadata
from codenook.errors import ModelError
from tests.ggufs import write_gguf

VOCAB = Path(__file__).resolve().parents[2].parent / "shared" / "vocab"


def vocab_file(name: str) -> Path:
    """A file of shared/vocab; its absence fails the test (no skipping)."""
    path = VOCAB / name
    assert path.is_file(), f"missing test data {path}"
    return path


def test_embedded_model_metadata() -> None:
    meta = read_metadata(embedded_model_path())
    assert meta.architecture == "llama"
    assert meta.family == "smollm2"
    assert meta.size_label == "135M"
    assert meta.quantization == "Q4_1"
    assert meta.context_length == 8192
    assert meta.block_count == 30
    assert (meta.head_count, meta.head_count_kv, meta.head_dim) == (9, 3, 64)
    assert meta.vocab_size == 49152
    assert meta.tensor_count == 272
    assert meta.params == 134_515_008
    assert 0 < meta.tensor_bytes < meta.file_size
    assert meta.chat_template and "im_start" in meta.chat_template
    tokens = meta.get("tokenizer.ggml.tokens")
    assert isinstance(tokens, ArrayInfo) and tokens.length == 49152 and tokens.values is None


@pytest.mark.parametrize(
    ("name", "arch", "layers", "context", "kv_heads", "vocab"),
    [
        ("ggml-vocab-deepseek-coder.gguf", "llama", 32, 16384, 32, 32256),
        ("ggml-vocab-llama-spm.gguf", "llama", 32, 4096, 32, 32000),
        ("ggml-vocab-starcoder.gguf", "starcoder2", 30, 16384, 2, 49152),
    ],
)
def test_vocabulary_only_files(
    name: str, arch: str, layers: int, context: int, kv_heads: int, vocab: int
) -> None:
    meta = read_metadata(vocab_file(name))
    assert meta.architecture == arch
    assert meta.block_count == layers
    assert meta.context_length == context
    assert meta.head_count_kv == kv_heads
    assert meta.head_dim == 128
    assert meta.vocab_size == vocab
    assert meta.quantization == "F16"
    assert meta.tensor_count == 0 and meta.params == 0 and meta.tensor_bytes == 0
    assert meta.size_label is None


def test_values_agree_with_the_gguf_package_reader() -> None:
    path = vocab_file("ggml-vocab-llama-spm.gguf")
    ours = read_metadata(path)
    theirs = GGUFReader(path)
    for key, field in theirs.fields.items():
        if key.startswith("GGUF."):
            continue
        value = field.contents()
        if isinstance(value, list):
            assert ours.get(key).length == len(value), key
        elif isinstance(value, float):
            assert ours.get(key) == pytest.approx(value), key
        else:
            assert ours.get(key) == value, key


def test_synthetic_file_sizes_and_labels(tmp_path: Path) -> None:
    meta = read_metadata(write_gguf(tmp_path / "t.gguf", layers=3, embedding=32))
    assert meta.params == 3 * 32 * 32
    assert meta.tensor_bytes == 3 * 32 * 32 * 4
    assert meta.size_label == "3K"
    assert meta.quantization == "Q4_K_M"
    assert meta.head_dim == 8


def test_truncated_header_is_a_clear_error(tmp_path: Path) -> None:
    cut = tmp_path / "cut.gguf"
    with embedded_model_path().open("rb") as f:
        cut.write_bytes(f.read(100_000))
    with pytest.raises(ModelError, match="truncated"):
        read_metadata(cut)


def test_not_a_gguf_file(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_text("not a model")
    with pytest.raises(ModelError, match="not a GGUF model file"):
        read_metadata(fake)
