"""Hardware detection: parsing fixed nvidia-smi output, NVML through a stand-in, this machine."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from codenook.engine import hardware as hw

MIB = 1024 * 1024


def test_parse_one_gpu() -> None:
    gpus = hw.parse_nvidia_smi("NVIDIA GeForce RTX 4060, 8188, 7724\n")
    assert gpus == [hw.Gpu(0, "NVIDIA GeForce RTX 4060", 8188 * MIB, 7724 * MIB, 272.0)]


def test_parse_two_gpus_blank_lines_and_missing_figures() -> None:
    text = (
        "NVIDIA GeForce GTX 1050 Ti, 4096, 4012\n"
        "\n"
        "NVIDIA GeForce RTX 4060 Ti, 16380, 15000\n"
        "NVIDIA Grid T4-1B, [N/A], [N/A]\n"
    )
    gpus = hw.parse_nvidia_smi(text)
    assert [(g.index, g.name, g.free_bytes, g.bandwidth_gbs) for g in gpus] == [
        (0, "NVIDIA GeForce GTX 1050 Ti", 4012 * MIB, 112.0),
        (1, "NVIDIA GeForce RTX 4060 Ti", 15000 * MIB, 288.0),
    ]


def test_a_name_with_a_comma_keeps_its_figures() -> None:
    (gpu,) = hw.parse_nvidia_smi("Quadro RTX 5000, with Max-Q Design, 16384, 16000")
    assert gpu.name == "Quadro RTX 5000, with Max-Q Design"
    assert gpu.total_bytes == 16384 * MIB and gpu.bandwidth_gbs is None


def test_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected nvidia-smi line"):
        hw.parse_nvidia_smi("No devices were found")


def test_bandwidth_from_nvml_figures() -> None:
    # RTX 4060: 128-bit bus, NVML reports 8501 MHz; GTX 1050 Ti: 128-bit, 3504 MHz.
    assert hw.nvml_bandwidth(128, 8501) == pytest.approx(272.0, abs=0.1)
    assert hw.nvml_bandwidth(128, 3504) == pytest.approx(112.1, abs=0.1)
    assert hw.known_bandwidth("NVIDIA GeForce RTX 4060 Ti") == 288.0
    assert hw.known_bandwidth("NVIDIA GeForce RTX 4060") == 272.0
    assert hw.known_bandwidth("Some Future GPU") is None


def fake_nvml(*, fail: str | None = None) -> types.ModuleType:
    """A stand-in pynvml with one RTX 4060, or one whose init fails with ``fail``."""
    m = types.ModuleType("pynvml")

    class NVMLError(Exception):
        pass

    m.NVMLError = NVMLError
    m.NVML_CLOCK_MEM = 2

    def init() -> None:
        if fail:
            raise NVMLError(fail)

    m.nvmlInit = init
    m.nvmlShutdown = lambda: None
    m.nvmlDeviceGetCount = lambda: 1
    m.nvmlDeviceGetHandleByIndex = lambda i: object()
    m.nvmlDeviceGetName = lambda h: b"NVIDIA GeForce RTX 4060"
    m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(
        total=8188 * MIB, free=7600 * MIB, used=588 * MIB
    )
    m.nvmlDeviceGetMemoryBusWidth = lambda h: 128
    m.nvmlDeviceGetMaxClockInfo = lambda h, kind: 8501
    return m


def test_nvml_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml())
    monkeypatch.setattr(hw, "gpu_offload_supported", lambda: True)
    found = hw.detect()
    assert found.gpu_source == "nvml"
    (gpu,) = found.gpus
    assert gpu.name == "NVIDIA GeForce RTX 4060" and gpu.free_bytes == 7600 * MIB
    assert gpu.bandwidth_gbs == pytest.approx(272.0, abs=0.1)
    assert found.gpu_free_bytes == 7600 * MIB
    assert found.warnings == ()
    assert "GPU 0: NVIDIA GeForce RTX 4060, 8.0 GB free of 8.6 GB, 272 GB/s (via nvml)" in (
        found.describe()
    )


def fake_smi(tmp_path: Path, script: str) -> None:
    exe = tmp_path / "bin" / "nvidia-smi"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(0o755)


def test_nvidia_smi_when_nvml_is_missing_and_a_cpu_only_build_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(fail="NVML Shared Library Not Found"))
    fake_smi(tmp_path, "echo 'NVIDIA GeForce GTX 1050 Ti, 4096, 4012'\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(hw, "gpu_offload_supported", lambda: False)
    found = hw.detect()
    assert found.gpu_source == "nvidia-smi"
    assert found.gpus[0].name == "NVIDIA GeForce GTX 1050 Ti"
    assert found.usable_gpus == () and found.gpu_free_bytes == 0
    (warning,) = found.warnings
    assert "built without GPU support" in warning and "make clean setup" in warning
    assert "llama.cpp: CPU-only build (no layers can go on a GPU)" in found.describe()


def test_no_gpu_anywhere_is_an_ordinary_answer_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(fail="Driver Not Loaded"))
    fake_smi(
        tmp_path,
        "echo 'NVIDIA-SMI has failed because it couldn'\"'\"'t communicate with the NVIDIA "
        "driver.' >&2\nexit 9\n",
    )
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    found = hw.detect()
    assert found.gpus == () and found.gpu_source == "none"
    assert "Driver Not Loaded" in found.gpu_note
    assert "communicate with the NVIDIA driver" in found.gpu_note
    assert found.describe()[0].startswith("GPU: none (NVML unavailable: Driver Not Loaded")


def test_this_machine() -> None:
    found = hw.detect()
    assert found.ram_total_bytes >= found.ram_available_bytes > 0
    assert found.physical_cores >= 1
    lines = found.describe()
    assert any(line.startswith("RAM: ") for line in lines)
    assert any(line.startswith("llama.cpp: ") for line in lines)
    if not found.gpus:
        assert found.gpu_note  # says why
