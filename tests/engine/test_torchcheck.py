"""PyTorch is optional: without it, the places that need it say so in one line."""

from __future__ import annotations

import importlib
import sys

import pytest

from codenook import config
from codenook.engine import runtimes, torchcheck
from codenook.engine.backend import GenerationOptions
from codenook.errors import ModelError


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` unimportable (as where the package is not installed), and drop the
    codenook modules that import them so that they are imported afresh."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("codenook.engine.transformers_backend", "codenook.tuning.train"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_nothing_is_missing_where_the_torch_extra_is_installed() -> None:
    assert torchcheck.missing((*torchcheck.PACKAGES, "peft")) == []
    torchcheck.require("Anything")


def test_without_torch_the_transformers_runtime_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without(monkeypatch, "torch")
    assert torchcheck.missing() == ["torch"]
    settings = config.ModelSettings(runtime="transformers", context_length=256, threads=1)
    with pytest.raises(ModelError, match=r"transformers runtime needs PyTorch \(torch not") as e:
        runtimes.open_model(settings)
    assert "codenook-torch" in str(e.value)


def test_without_torch_tuning_says_so_and_llama_cpp_still_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _without(monkeypatch, "torch")
    with pytest.raises(ModelError, match=r"^Tuning needs PyTorch \(torch not installed\)"):
        importlib.import_module("codenook.tuning.train")
    settings = config.ModelSettings(runtime="llama.cpp", context_length=256, threads=1)
    backend = runtimes.open_model(settings)
    try:
        stream = backend.stream_completion(
            "def add(a, b):\n", options=GenerationOptions(max_tokens=8, temperature=0.0)
        )
        assert stream.read().strip()
    finally:
        backend.close()
