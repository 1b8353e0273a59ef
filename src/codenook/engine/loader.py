"""Open the backend that the settings ask for, with GPU layers chosen for this machine.

The one door to a model for the faces and the library: :func:`open_backend` goes through the
runtime registry (`engine/runtimes.py`); llama.cpp's own opening and GPU-layer choice live in
`engine/llama_open.py`, below the registry, so the two never import each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from codenook.config import ModelSettings
from codenook.engine.backend import Backend
from codenook.engine.embedded import embedded_model_path
from codenook.engine.gguf_file import check_model_file
from codenook.engine.llama_open import choose_gpu_layers

if TYPE_CHECKING:
    from codenook.engine.hardware import Hardware


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
