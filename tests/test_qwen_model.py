"""The Qwen test model: joined once from pinned parts, checked before use, refused if wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from codenook.engine.prompts import PromptModel
from tests import qwen


def test_the_assembled_model_is_the_expected_qwen_coder(qwen_model: Path) -> None:
    assert qwen_model.stat().st_size == qwen.SIZE
    assert qwen.sha256_of(qwen_model) == qwen.SHA256
    assert qwen_model.parent == qwen.cache_dir()  # outside every test's CODENOOK_HOME
    with PromptModel.open(qwen_model) as model:
        assert model.metadata["general.architecture"] == "qwen2"
        assert model.metadata["qwen2.block_count"] == "24"
        assert model.formats.fill_format == "qwen2.5-coder"
        ids = [model.vocab.token_text(t) for t in (151659, 151660, 151661)]
        assert ids == ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"]


def test_parts_are_the_six_pinned_packages_in_order() -> None:
    parts = qwen.part_files()
    assert [p.name for p in parts] == [f"part0{n}.bin" for n in range(1, 7)]
    assert sum(p.stat().st_size for p in parts) == qwen.SIZE


def _parts(tmp_path: Path) -> tuple[list[Path], bytes]:
    chunks = [b"GGUF" + bytes(range(200)), b"second part " * 50, b"\x00tail"]
    parts = []
    for n, chunk in enumerate(chunks, 1):
        part = tmp_path / f"part0{n}.bin"
        part.write_bytes(chunk)
        parts.append(part)
    return parts, b"".join(chunks)


def test_assembly_joins_the_parts_in_order_once(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    sha = hashlib.sha256(whole).hexdigest()
    assert qwen.assemble(parts, target, size=len(whole), sha256=sha) == target
    assert target.read_bytes() == whole
    parts[0].write_bytes(b"changed")  # a second call reuses the checked file
    assert qwen.assemble(parts, target, size=len(whole), sha256=sha).read_bytes() == whole


def test_assembly_with_a_wrong_hash_is_refused_and_not_kept(tmp_path: Path) -> None:
    parts, whole = _parts(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(qwen.TestModelError, match="refused"):
        qwen.assemble(parts, target, size=len(whole), sha256="0" * 64)
    assert list(target.parent.iterdir()) == []


def test_a_corrupted_copy_in_the_cache_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(qwen.CACHE_ENV, str(tmp_path))
    bad = tmp_path / qwen.FILE_NAME
    with bad.open("wb") as f:
        f.truncate(qwen.SIZE)  # the right size, all zeros: only the hash tells
    with pytest.raises(qwen.TestModelError, match=r"sha256 \w+, expected \w+: refused\. Delete it"):
        qwen.qwen_model_path()
    bad.write_bytes(b"GGUF")
    with pytest.raises(qwen.TestModelError, match="4 bytes, expected 491,400,064"):
        qwen.qwen_model_path()
