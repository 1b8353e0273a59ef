"""``codenook models import``: Meta's checkpoint becomes a GGUF file that llama.cpp runs and
that answers as the transformers runtime does."""

from __future__ import annotations

import hashlib
from pathlib import Path

import llama_cpp
import pytest
import torch

from codenook.engine.backend import GenerationOptions
from codenook.engine.llama import LlamaBackend
from codenook.engine.transformers_backend import TransformersBackend
from codenook.library.registry import load_registry
from tests.cli.test_ask import one_error_line
from tests.conftest import run_cli
from tests.metackpt import build_meta_checkpoint

pytestmark = pytest.mark.timeout(900)
PROMPT = "def add(a, b):\n    return"


def _llama_ids(path: Path, tokens: list[int], n: int) -> list[int]:
    with LlamaBackend(path, threads=1, context_length=256) as backend:
        assert backend.tokenize_prompt(PROMPT) == tokens
        out = []
        for token in backend._llm.generate(tokens, temp=0.0):
            if llama_cpp.llama_vocab_is_eog(backend._llm._model.vocab, token) or len(out) >= n:
                break
            out.append(int(token))
        return out


def test_a_meta_checkpoint_imported_runs_in_llama_cpp_as_in_transformers(tmp_path: Path) -> None:
    meta = build_meta_checkpoint(tmp_path / "TinyLlama")
    # f32: the tiny model's rows (64 wide) are too short for Q4_K_M's 256-value blocks, and
    # random weights have no margin for quantization error; Q4_K_M is checked below.
    proc = run_cli("models", "import", str(meta), "--quant", "f32", timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "imported TinyLlama.F32" in out
    [entry] = [m for m in load_registry() if m.name == "TinyLlama.F32"]
    path = Path(entry.path)
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "chat format:" in proc.stderr.decode()

    with TransformersBackend(meta, layout="meta", threads=1, context_length=256) as hf:
        tokens = hf.tokenize_prompt(PROMPT)
        ids = torch.tensor([tokens])
        with torch.inference_mode():
            made = hf._model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False
            )
        expected = [int(t) for t in made[0, len(tokens) :]]
    got = _llama_ids(path, tokens, 12)
    same = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), 12)
    print(f"llama.cpp and transformers agree on the first {same} greedy tokens")
    assert same >= 8, (got, expected)

    # The default quantization through llama.cpp's quantizer: a smaller file llama.cpp loads.
    proc = run_cli("models", "import", str(meta), "--name", "tiny-q", timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    [q] = [m for m in load_registry() if m.name == "tiny-q.Q4_K_M"]
    assert q.file_size < entry.file_size and q.sha256
    with LlamaBackend(q.path, threads=1, context_length=256) as backend:
        stream = backend.stream_completion(PROMPT, options=GenerationOptions(max_tokens=4))
        stream.read()
        assert stream.result.completion_tokens >= 1


def test_import_refuses_a_gguf_file_in_one_line(tmp_path: Path) -> None:
    from codenook.engine.embedded import embedded_model_path

    line = one_error_line(run_cli("models", "import", str(embedded_model_path())))
    assert "a GGUF file" in line and "Hugging Face model folder" in line
