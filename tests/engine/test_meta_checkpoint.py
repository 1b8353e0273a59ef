"""Meta's original checkpoint, converted once, computes what Meta's own code computes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from codenook.engine import meta_checkpoint
from codenook.engine.transformers_backend import TransformersBackend
from codenook.errors import ModelError
from tests.metackpt import build_meta_checkpoint, meta_reference_logits


def test_converted_weights_give_metas_logits(tmp_path: Path) -> None:
    folder = build_meta_checkpoint(tmp_path / "tiny")
    backend = TransformersBackend(folder, layout="meta", threads=1, context_length=256)
    with backend:
        tokens = backend.tokenize_prompt("def add(a, b):\n    return a + b")
        assert tokens[0] == 1  # BOS, as Meta's generation.py puts it
        with torch.inference_mode():
            ours = backend._model(torch.tensor([tokens])).logits[0, -1].float()
        # The rotary rows are permuted: without it the logits would be far off.
        reference = meta_reference_logits(folder, tokens)
        assert torch.allclose(ours, reference, atol=2e-3), (ours - reference).abs().max()
        assert backend.info.runtime == "transformers" and backend.info.architecture == "llama"
    converted = meta_checkpoint.cache_folder(folder)
    stamp = (converted / "model.safetensors").stat().st_mtime_ns
    # A second open reuses the converted folder.
    TransformersBackend(folder, layout="meta", threads=1, context_length=256).close()
    assert (converted / "model.safetensors").stat().st_mtime_ns == stamp


def test_a_damaged_checkpoint_is_named(tmp_path: Path) -> None:
    folder = build_meta_checkpoint(tmp_path / "tiny")
    data = (folder / "consolidated.00.pth").read_bytes()
    (folder / "consolidated.00.pth").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=r"consolidated\.00\.pth cannot be read"):
        TransformersBackend(folder, layout="meta", threads=1)
