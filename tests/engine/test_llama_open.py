"""llama.cpp's opener on its own: a path and the settings in, no runtime registry involved.

The retry with fewer layers is tested through the registry in test_loader.py; here the
opener's own contract: it takes a plain path and the embedded flag, and the GPU-layer
choice reads the file's figures against the machine given.
"""

from __future__ import annotations

import llama_cpp
import pytest

from codenook.config import ModelSettings
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.engine.llama_open import choose_gpu_layers, open_llama
from codenook.errors import ModelError
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


def test_the_kv_cache_setting_reaches_the_backend() -> None:
    settings = ModelSettings(context_length=256, threads=1, kv_cache="q8_0")
    with open_llama(embedded_model_path(), settings, embedded=True, hardware=CPU_ONLY) as b:
        assert b.kv_cache == "q8_0"
        assert b._llm.context_params.type_k == llama_cpp.GGML_TYPE_Q8_0
    plain = ModelSettings(context_length=256, threads=1)
    with open_llama(embedded_model_path(), plain, embedded=True, hardware=CPU_ONLY) as b:
        assert b.kv_cache == "f16" and b._llm.context_params.type_k == llama_cpp.GGML_TYPE_F16
    with pytest.raises(ModelError, match="Unknown KV cache type 'q4'"):
        LlamaBackend(embedded_model_path(), context_length=256, kv_cache="q4")
