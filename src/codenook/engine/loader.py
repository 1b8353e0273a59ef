"""Open the backend that the settings ask for."""

from __future__ import annotations

from codenook.config import ModelSettings
from codenook.engine.backend import Backend
from codenook.engine.embedded import embedded_model_path


def open_backend(model: ModelSettings) -> Backend:
    """Load the configured model, or the embedded one when none is set."""
    from codenook.engine.llama import LlamaBackend

    path = model.path
    return LlamaBackend(
        path or embedded_model_path(),
        context_length=model.context_length,
        threads=model.threads,
        gpu_layers=model.gpu_layers,
        embedded=not path,
        chat_format_name=model.chat_format,
    )
