"""The tuning tests' shared base: the embedded model dequantized once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded model dequantized for training, once for the whole test session."""
    from codenook.engine.embedded import embedded_model_path
    from codenook.tuning import train

    old = os.environ.get("CODENOOK_HOME")
    os.environ["CODENOOK_HOME"] = str(tmp_path_factory.mktemp("tune-home"))
    try:
        return train.prepare_base(embedded_model_path())
    finally:
        if old is None:
            os.environ.pop("CODENOOK_HOME", None)
        else:
            os.environ["CODENOOK_HOME"] = old
