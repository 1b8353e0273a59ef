"""tune run on the embedded model: held-out perplexity falls, llama.cpp agrees, Stop/resume."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import torch

from codenook.engine.embedded import embedded_model_path
from codenook.engine.model_hash import sha256_of
from codenook.tuning import train
from codenook.tuning.dataset import build_dataset
from codenook.tuning.export import export_gguf, llama_perplexity
from tests.tuning.fixture_repo import make_style_repo

#: The repository's idiom: its own helpers. The base model has never seen them.
IDIOM = "qk_"
PROMPT = '"""Quoll module 40: cargo records."""\n\nfrom quollkit import'


def _dataset(root: Path):
    repo = make_style_repo(root, modules=24, heldout=4)
    return build_dataset([repo], heldout_patterns=["quoll/later/"])


def _greedy(adapter: Path | None) -> str:
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(embedded_model_path()),
        lora_path=str(adapter) if adapter else None,
        n_ctx=256,
        n_threads=2,
        n_gpu_layers=0,
        verbose=False,
    )
    try:
        out = llm.create_completion(PROMPT, max_tokens=24, temperature=0.0)
        return out["choices"][0]["text"]
    finally:
        llm.close()


def test_base_config_is_one_llama_cpp_converts(base_dir: Path) -> None:
    import json

    cfg = json.loads((base_dir / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"]
    assert "quantization_config" not in cfg


def test_short_cpu_run_learns_the_repository_and_llama_cpp_agrees(
    base_dir: Path, tmp_path: Path
) -> None:
    dataset = _dataset(tmp_path)
    options = train.TrainOptions(steps=24, seq_len=128, lr=3e-3, seed=1, threads=2)
    began = time.monotonic()
    progress: list[train.Progress] = []
    result = train.train(
        dataset, base_dir, tmp_path / "ad", options=options, on_progress=progress.append
    )
    trained = time.monotonic() - began
    assert result.finished and result.step == 24
    assert [p.step for p in progress] == list(range(1, 25))
    assert progress[-1].tokens_per_second > 0 and progress[-1].seconds_left == 0
    assert result.ppl_after < result.ppl_before * 0.8, (result.ppl_before, result.ppl_after)
    assert trained < 180 * 2  # the 3 minutes on quiet cores; this machine is shared

    gguf = export_gguf(tmp_path / "ad" / "peft", base_dir, tmp_path / "ad" / "adapter.gguf")
    assert 1_000_000 < gguf.stat().st_size < 10_000_000
    peft_model, tokenizer = train.load_peft(tmp_path / "ad" / "peft", base_dir, threads=2)
    windows = train.heldout_ids(tokenizer, dataset.heldout, 128)
    ppl_peft = train.perplexity(peft_model, windows, torch.device("cpu"))
    ppl_llama = llama_perplexity(embedded_model_path(), windows, adapter=gguf)
    ppl_llama_base = llama_perplexity(embedded_model_path(), windows)
    assert abs(ppl_llama - ppl_peft) / ppl_peft < 0.03, (ppl_llama, ppl_peft)
    assert abs(ppl_llama_base - result.ppl_before) / result.ppl_before < 0.03
    print(
        f"ppl before {result.ppl_before:.3f} after {result.ppl_after:.3f} "
        f"llama.cpp {ppl_llama:.3f} peft {ppl_peft:.3f} tokens/s {result.tokens_per_second:.0f}"
    )

    plain, tuned = _greedy(None), _greedy(gguf)
    assert tuned != plain
    assert tuned.count(IDIOM) > plain.count(IDIOM), (plain, tuned)


def test_stop_then_resume_matches_an_uninterrupted_run(base_dir: Path, tmp_path: Path) -> None:
    dataset = _dataset(tmp_path)
    options = train.TrainOptions(steps=6, seq_len=48, lr=2e-3, seed=7, threads=2)
    whole = train.train(dataset, base_dir, tmp_path / "whole", options=options, measure=False)
    assert whole.finished and whole.step == 6
    stop = threading.Event()

    def stop_at_3(p: train.Progress) -> None:
        if p.step == 3:
            stop.set()

    first = train.train(
        dataset,
        base_dir,
        tmp_path / "cut",
        options=options,
        stop=stop,
        on_progress=stop_at_3,
        measure=False,
    )
    assert not first.finished and first.step == 3
    assert (tmp_path / "cut" / train.CHECKPOINT).is_file()
    steps: list[int] = []
    second = train.train(
        dataset,
        base_dir,
        tmp_path / "cut",
        options=options,
        resume=True,
        measure=False,
        on_progress=lambda p: steps.append(p.step),
    )
    assert second.finished and steps == [4, 5, 6]
    assert second.losses[:3] == first.losses
    from safetensors.torch import load_file

    a = load_file(tmp_path / "whole" / "peft" / "adapter_model.safetensors")
    b = load_file(tmp_path / "cut" / "peft" / "adapter_model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    assert any(float(a[k].abs().sum()) > 0 for k in a if "lora_B" in k)  # it did train
    with pytest.raises(train.TuneError, match="No stopped run"):
        train.train(dataset, base_dir, tmp_path / "cut", options=options, resume=True)


def test_memory_plan_refuses_early_with_what_fits() -> None:
    gb = 2**30
    rtx = dict(
        gpu_name="NVIDIA GeForce RTX 4060",
        gpu_capability=(8, 9),
        gpu_free=int(7.6 * gb),
        ram_free=24 * gb,
        device="auto",
        batch=1,
    )
    ok = train.plan_training(params=int(1.5e9), hidden=1536, layers=28, seq_len=1024, **rtx)
    assert ok.fits and ok.device == "cuda" and ok.need_bytes < 7.6 * gb
    big = train.plan_training(params=int(13e9), hidden=5120, layers=40, seq_len=4096, **rtx)
    assert not big.fits and "what fits: up to" in big.message and "GB" in big.message
    pascal = dict(
        rtx, gpu_name="NVIDIA GeForce GTX 1050 Ti", gpu_capability=(6, 1), gpu_free=4 * gb
    )
    cpu = train.plan_training(params=int(135e6), hidden=576, layers=30, seq_len=256, **pascal)
    assert cpu.fits and cpu.device == "cpu" and "GTX 1050 Ti" in cpu.message
    tight = train.plan_training(
        params=int(7e9), hidden=4096, layers=32, seq_len=512, **dict(pascal, ram_free=8 * gb)
    )
    assert not tight.fits and "RAM" in tight.message


def test_cuda_qlora_plan_and_refusals_without_a_gpu() -> None:
    """The CUDA path's plan and refusals, checked on this CPU (no GPU machine lent)."""
    gb = 2**30
    common = dict(params=int(1.5e9), hidden=1536, layers=28, seq_len=512, batch=1, ram_free=gb)
    none = train.plan_training(
        device="cuda", gpu_name=None, gpu_capability=None, gpu_free=0, **common
    )
    assert not none.fits and "No CUDA GPU is visible" in none.message
    h200 = train.plan_training(
        device="cuda", gpu_name="NVIDIA H200", gpu_capability=(9, 0), gpu_free=130 * gb, **common
    )
    assert h200.fits and h200.device == "cuda" and "4 bits (QLoRA)" in h200.message
    assert h200.need_bytes < 4 * gb  # NF4 weights: far below float32's 6 GB for 1.5B
    old = train.plan_training(
        device="cuda", gpu_name="GTX 1050 Ti", gpu_capability=(6, 1), gpu_free=4 * gb, **common
    )
    assert not old.fits and "too old" in old.message and "train on the CPU" in old.message
    with pytest.raises(train.TuneError, match="needs the bitsandbytes package"):
        train.require_qlora(find=lambda _name: None)
    train.require_qlora(find=lambda name: name)  # present: no refusal


def test_adapter_checks(base_dir: Path, tmp_path: Path) -> None:
    from codenook.errors import ModelError
    from codenook.library.registry import InstalledAdapter, adapter_for, register_adapter

    digest = sha256_of(embedded_model_path())
    fake = tmp_path / "a.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 20)
    register_adapter(
        InstalledAdapter("mine", str(fake), str(tmp_path), "SmolLM2.gguf", digest, 0.0)
    )
    register_adapter(
        InstalledAdapter("other", str(fake), str(tmp_path), "Qwen.gguf", "ab" * 32, 0.0)
    )
    with pytest.raises(
        ModelError, match=r"trained on Qwen.gguf .*models use Qwen.gguf --adapter other"
    ):
        adapter_for("other", base_path=embedded_model_path())
    with pytest.raises(ModelError, match="corrupt"):
        adapter_for("mine", base_path=embedded_model_path())
    fake.unlink()
    with pytest.raises(ModelError, match="missing"):
        adapter_for("mine", base_path=embedded_model_path())
