"""Scanning a folder of GGUF files into the registry (models.toml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codenook import config
from codenook.engine.embedded import embedded_model_path
from codenook.errors import ModelError
from codenook.library import registry
from tests.ggufs import write_gguf

VOCAB = Path(__file__).resolve().parents[2].parent / "shared" / "vocab"


def weights_folder(tmp_path: Path) -> Path:
    """A folder as a user might have it: models, a vocabulary file, junk, a partial download."""
    folder = tmp_path / "weights"
    (folder / "sub").mkdir(parents=True)
    (folder / "smol.gguf").symlink_to(embedded_model_path())
    write_gguf(folder / "sub" / "Qwen2.5-Coder-1.5B.Q4_K_M.gguf", layers=28, heads=12)
    vocab = VOCAB / "ggml-vocab-starcoder.gguf"
    assert vocab.is_file(), f"missing test data {vocab}"
    shutil.copy(vocab, folder / "starcoder-vocab.gguf")
    (folder / "notes.gguf").write_text("not a model")
    (folder / "big.gguf.part").write_bytes(b"GGUF partial")
    (folder / "model-00002-of-00003.gguf").write_bytes(b"GGUF second part")
    return folder


def test_scan_registers_models_and_says_why_others_are_skipped(tmp_path: Path) -> None:
    folder = weights_folder(tmp_path)
    result = registry.register_folder(folder)
    added = {m.name: m for m in result.added}
    assert set(added) == {"smol", "qwen2.5-coder-1.5b:Q4_K_M"}
    smol = added["smol"]
    assert smol.path == str(folder / "smol.gguf")  # the user's name for it, not the link target
    assert (smol.architecture, smol.family, smol.quant) == ("llama", "smollm2", "Q4_1")
    assert (smol.size_label, smol.context, smol.source) == ("135M", 8192, "scan")
    assert smol.file_size == embedded_model_path().stat().st_size
    qwen = added["qwen2.5-coder-1.5b:Q4_K_M"]
    assert qwen.catalog == "qwen2.5-coder-1.5b" and qwen.family == "qwen2.5-coder"
    skipped = {p.name: why for p, why in result.skipped}
    assert skipped["starcoder-vocab.gguf"] == "vocabulary only (starcoder2, no weights)"
    assert "not a GGUF model file" in skipped["notes.gguf"]
    assert "later part of a split model" in skipped["model-00002-of-00003.gguf"]
    assert "big.gguf.part" not in skipped
    saved = registry.load_registry()
    assert {m.name for m in saved} == set(added)
    assert config.paths().model_registry.is_file()


def test_a_second_scan_adds_nothing(tmp_path: Path) -> None:
    folder = weights_folder(tmp_path)
    registry.register_folder(folder)
    again = registry.register_folder(folder)
    assert again.added == [] and len(again.known) == 2
    assert len(registry.load_registry()) == 2


def test_find_by_name_catalog_name_and_file_name(tmp_path: Path) -> None:
    registry.register_folder(weights_folder(tmp_path))
    assert registry.find_installed("smol").name == "smol"
    assert registry.find_installed("smol.gguf").name == "smol"
    assert registry.find_installed("qwen2.5-coder-1.5b").quant == "Q4_K_M"
    assert registry.find_installed("qwen2.5-coder-1.5b:Q8_0") is None
    assert registry.find_installed("nothing") is None


def test_forget_keeps_the_file(tmp_path: Path) -> None:
    folder = weights_folder(tmp_path)
    registry.register_folder(folder)
    assert registry.forget(folder / "smol.gguf")
    assert (folder / "smol.gguf").exists()
    assert [m.name for m in registry.load_registry()] == ["qwen2.5-coder-1.5b:Q4_K_M"]


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is not a folder"):
        registry.register_folder(tmp_path / "missing")


def test_vocabulary_file_cannot_be_registered_alone() -> None:
    vocab = VOCAB / "ggml-vocab-deepseek-coder.gguf"
    assert vocab.is_file(), f"missing test data {vocab}"
    with pytest.raises(ModelError, match="vocabulary only"):
        registry.register_file(vocab, source="use")


def test_corrupt_registry_is_kept_aside(caplog: pytest.LogCaptureFixture) -> None:
    config.ensure_dirs()
    path = config.paths().model_registry
    path.write_text("[[model]\nbroken")
    assert registry.load_registry() == []
    assert path.with_name("models.toml.corrupt").exists()
    assert "unusable" in caplog.text
