"""Open the backend that the settings ask for, with GPU layers chosen for this machine."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from codenook.config import ModelSettings
from codenook.engine.backend import Backend
from codenook.engine.embedded import embedded_model_path
from codenook.engine.gguf_file import check_model_file
from codenook.errors import ModelError

if TYPE_CHECKING:
    from codenook.engine.hardware import Hardware
    from codenook.engine.runtimes import Location

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


def model_and_layers(
    model: ModelSettings, *, hardware: Hardware | None = None
) -> tuple[Path, int, int | None, str]:
    """The model file the settings name (else the embedded one) and its GPU layers.

    Returns (path, n_gpu_layers, layer count if read, how the layers were chosen): the
    settings' layers when set, else the fit for this machine.
    """
    path = check_model_file(model.path) if model.path else embedded_model_path()
    if model.gpu_layers is not None:
        return path, model.gpu_layers, None, ""
    layers, layer_count, why = choose_gpu_layers(
        path, context=model.context_length, hardware=hardware
    )
    return path, layers, layer_count, f"chosen for this machine: {why}"


def open_backend(model: ModelSettings, *, hardware: Hardware | None = None) -> Backend:
    """Load the configured model (else the embedded one) with the runtime the settings ask
    for: ``model.runtime``, or for ``auto`` the first registered runtime that opens it."""
    from codenook.engine.runtimes import open_model

    return open_model(model, hardware=hardware)


def open_llama(
    location: Location, model: ModelSettings, *, hardware: Hardware | None = None
) -> Backend:
    """Load a GGUF file with llama.cpp, GPU layers chosen for this machine.

    Unless the settings fix the GPU layers, they are chosen from the model's size and the
    free GPU memory; if loading still fails, it is retried with half the layers, and the
    user is told (a warning, and ``info.fit_note``) rather than left with a crash.
    """
    from codenook.engine import hardware as hw_module
    from codenook.engine import llama
    from codenook.engine.gguf_meta import read_metadata

    path = Path(location.path)
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
                embedded=location.embedded,
                chat_format_name=model.chat_format,
                lora_path=model.adapter,
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
