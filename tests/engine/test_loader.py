"""The loader chooses GPU layers for the machine and retries with fewer when loading fails."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from codenook.config import ModelSettings
from codenook.engine import llama, loader
from codenook.engine.hardware import Gpu, Hardware
from codenook.errors import ModelError

GIB = 1024**3
CPU_ONLY = Hardware((), 16 * 10**9, 12 * 10**9, 2, False, "none", "NVML unavailable: test")
BIG_GPU = Hardware(
    (Gpu(0, "NVIDIA GeForce RTX 4060", 8 * GIB, 7 * GIB, 272.0),),
    32 * 10**9,
    28 * 10**9,
    12,
    True,
    "nvml",
)
SETTINGS = ModelSettings(context_length=256, threads=1)


def test_cpu_machine_gets_zero_layers_and_a_note_why() -> None:
    with loader.open_backend(SETTINGS, hardware=CPU_ONLY) as backend:
        info = backend.info
    assert info.gpu_layers == 0
    assert info.fit_note.startswith("chosen for this machine: runs on the CPU with 256 context")
    assert "no NVIDIA GPU (NVML unavailable: test)" in info.fit_note


def test_gpu_that_holds_the_model_gets_every_layer() -> None:
    with loader.open_backend(SETTINGS, hardware=BIG_GPU) as backend:
        info = backend.info
    assert info.gpu_layers == -1
    assert "fits fully on the NVIDIA GeForce RTX 4060 with 256 context" in info.fit_note


def test_layers_set_by_the_user_are_kept_without_a_note() -> None:
    settings = ModelSettings(context_length=256, threads=1, gpu_layers=0)
    with loader.open_backend(settings, hardware=BIG_GPU) as backend:
        assert backend.info.gpu_layers == 0
        assert backend.info.fit_note == ""


def fail_above(limit: int, calls: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """Make loading fail, as an out-of-memory GPU does, above ``limit`` layers (or all)."""
    real = llama.LlamaBackend

    def load(path: Path, *, gpu_layers: int, **kwargs: object) -> llama.LlamaBackend:
        calls.append(gpu_layers)
        if gpu_layers < 0 or gpu_layers > limit:
            raise ModelError("llama.cpp could not load it: cudaMalloc failed: out of memory")
        return real(path, gpu_layers=gpu_layers, **kwargs)

    monkeypatch.setattr(llama, "LlamaBackend", load)


def test_failed_load_retries_with_half_the_layers_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    fail_above(10, calls, monkeypatch)
    with caplog.at_level(logging.WARNING), loader.open_backend(SETTINGS, hardware=BIG_GPU) as b:
        info = b.info
    # All 30 layers, then 15, then 7: the first count that loads.
    assert calls == [-1, 15, 7]
    assert info.gpu_layers == 7
    assert info.fit_note.startswith("loaded on 7 GPU layers after all did not fit in GPU memory")
    assert "the estimate was: chosen for this machine: fits fully" in info.fit_note
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("retrying with 15" in w for w in warnings)
    assert any("loaded on 7 GPU layers" in w for w in warnings)


def test_when_nothing_loads_the_error_is_raised_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = llama.LlamaBackend

    def broken(path: Path, *, gpu_layers: int, **kwargs: object) -> llama.LlamaBackend:
        calls.append(gpu_layers)
        raise ModelError("unknown architecture")

    monkeypatch.setattr(llama, "LlamaBackend", broken)
    with pytest.raises(ModelError, match="unknown architecture"):
        loader.open_backend(SETTINGS, hardware=BIG_GPU)
    assert calls == [-1, 15, 7, 3, 1, 0]
    assert real is not broken


def test_cpu_only_build_with_a_gpu_warns(caplog: pytest.LogCaptureFixture) -> None:
    cpu_build = Hardware(
        BIG_GPU.gpus,
        32 * 10**9,
        28 * 10**9,
        12,
        False,
        "nvml",
        warnings=("Warning: NVIDIA GeForce RTX 4060 is present but ... built without GPU",),
    )
    with caplog.at_level(logging.WARNING), loader.open_backend(SETTINGS, hardware=cpu_build) as b:
        assert b.info.gpu_layers == 0
        assert "CPU-only build" in b.info.fit_note
    assert "built without GPU" in caplog.text


def test_missing_file_is_the_usual_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Model file not found"):
        loader.open_backend(ModelSettings(path=str(tmp_path / "none.gguf")), hardware=BIG_GPU)
