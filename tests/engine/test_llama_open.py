"""llama.cpp's opener on its own: a path and the settings in, no runtime registry involved.

The retry with fewer layers is tested through the registry in test_loader.py; here the
opener's own contract: it takes a plain path and the embedded flag, and the GPU-layer
choice reads the file's figures against the machine given.
"""

from __future__ import annotations

from codenook.config import ModelSettings
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama_open import choose_gpu_layers, open_llama
from tests.engine.test_loader import BIG_GPU, CPU_ONLY


def test_gpu_layers_follow_the_machine() -> None:
    path = embedded_model_path()
    layers, count, why = choose_gpu_layers(path, context=256, hardware=CPU_ONLY)
    assert (layers, count) == (0, 30)
    assert "no NVIDIA GPU (NVML unavailable: test)" in why
    layers, count, why = choose_gpu_layers(path, context=256, hardware=BIG_GPU)
    assert (layers, count) == (-1, 30)
    assert why.startswith("fits fully on the NVIDIA GeForce RTX 4060")


def test_a_plain_path_opens_with_the_embedded_flag_and_the_fit_note() -> None:
    settings = ModelSettings(context_length=256, threads=1)
    with open_llama(embedded_model_path(), settings, embedded=True, hardware=CPU_ONLY) as b:
        info = b.info
    assert info.embedded is True
    assert info.runtime == "llama.cpp"
    assert info.gpu_layers == 0
    assert info.fit_note.startswith("chosen for this machine: runs on the CPU with 256 context")
