"""llama.cpp's opener: GPU layers chosen for this machine, retried with fewer when loading fails.

Below the runtime registry (`engine/runtimes.py` registers :func:`open_llama` as the
llama.cpp runtime's opener), so it knows a path and the settings, not a ``Location``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from codenook.config import ModelSettings
from codenook.engine.backend import Backend
from codenook.errors import ModelError

if TYPE_CHECKING:
    from codenook.engine.hardware import Hardware

log = logging.getLogger(__name__)


def choose_gpu_layers(
    path: Path, *, context: int, hardware: Hardware | None = None
) -> tuple[int, int | None, str]:
    """GPU layers for ``path`` on this machine: (n_gpu_layers, layer count, why)."""
    # Imported here: every command imports this module, few load a model.
    from codenook.engine import hardware as hw_module
    from codenook.engine.fit import figures_from_metadata, plan
    from codenook.engine.gguf_meta import read_metadata

    meta = read_metadata(path)
    hw = hardware or hw_module.detect()
    for warning in hw.warnings:
        log.warning("%s", warning)
    try:
        fit = plan(figures_from_metadata(meta), hw, context=context)
    except ValueError as exc:
        # An unusual file: no estimate, so offer the GPU everything, as llama.cpp would.
        layers = -1 if hw.usable_gpus else 0
        return layers, meta.block_count, f"no memory estimate ({exc})"
    log.info("GPU layers for %s: %s", path.name, fit.sentence)
    return fit.gpu_layers, fit.layers, fit.sentence


def open_llama(
    path: Path,
    model: ModelSettings,
    *,
    embedded: bool = False,
    hardware: Hardware | None = None,
) -> Backend:
    """Load a GGUF file with llama.cpp, GPU layers chosen for this machine.

    Unless the settings fix the GPU layers, they are chosen from the model's size and the
    free GPU memory; if loading still fails, it is retried with half the layers, and the
    user is told (a warning, and ``info.fit_note``) rather than left with a crash.
    """
    from codenook.engine import hardware as hw_module
    from codenook.engine import llama
    from codenook.engine.gguf_meta import read_metadata

    if model.gpu_layers is not None:
        layers, layer_count, note = model.gpu_layers, None, ""
    else:
        layers, layer_count, why = choose_gpu_layers(
            path, context=model.context_length, hardware=hardware
        )
        note = f"chosen for this machine: {why}"
    can_retry = (hardware.gpu_offload if hardware else hw_module.gpu_offload_supported()) and bool(
        layers
    )
    tried: list[int] = []
    while True:
        try:
            backend = llama.LlamaBackend(
                path,
                context_length=model.context_length,
                threads=model.threads,
                gpu_layers=layers,
                embedded=embedded,
                chat_format_name=model.chat_format,
                lora_path=model.adapter,
                kv_cache=model.kv_cache,
            )
            break
        except ModelError as exc:
            if not can_retry or layers == 0:
                raise
            if layer_count is None:
                layer_count = read_metadata(path).block_count or 32
            tried.append(layers)
            fewer = (layer_count if layers < 0 else layers) // 2
            log.warning(
                "Loading %s with %s GPU layers failed (%s); retrying with %d.",
                path.name,
                "all" if layers < 0 else layers,
                exc,
                fewer,
            )
            layers = fewer
    if tried:
        first = "all" if tried[0] < 0 else str(tried[0])
        where = f"{layers} GPU layers" if layers else "the CPU only"
        note = (
            f"loaded on {where} after {first} did not fit in GPU memory: answers will be "
            "slower; lower the context (--context) or use a smaller quantization"
            + (f" (the estimate was: {note})" if note else "")
        )
        log.warning("%s: %s", path.name, note)
    backend.info = replace(backend.info, fit_note=note)
    return backend
