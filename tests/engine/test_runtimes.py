"""The runtime registry: what each location is, which runtime opens it, and clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codenook import config
from codenook.engine import runtimes
from codenook.engine.embedded import embedded_model_path
from codenook.errors import ConfigError, ModelError


def hf_folder(root: Path) -> Path:
    folder = root / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "model.safetensors").write_bytes(b"\0" * 16)
    return folder


def meta_folder(root: Path, *, without: str = "") -> Path:
    folder = root / "meta"
    folder.mkdir()
    for name in ("params.json", "consolidated.00.pth", "tokenizer.model"):
        if name != without:
            (folder / name).write_bytes(b"{}")
    return folder


def test_each_location_is_recognized(tmp_path: Path) -> None:
    assert runtimes.inspect(None) == runtimes.Location(
        str(embedded_model_path()), "gguf", embedded=True
    )
    assert runtimes.inspect(str(embedded_model_path())).layout == "gguf"
    assert runtimes.inspect(str(hf_folder(tmp_path))).layout == "hf"
    assert runtimes.inspect(str(meta_folder(tmp_path))).layout == "meta"
    assert runtimes.inspect("http://127.0.0.1:8080").layout == "url"


def test_auto_takes_the_runtime_that_opens_each_kind(tmp_path: Path) -> None:
    chosen = {
        layout: runtimes.choose(runtimes.Location("x", layout)).name
        for layout in ("gguf", "hf", "meta", "url")
    }
    assert chosen == {
        "gguf": "llama.cpp",
        "hf": "transformers",
        "meta": "transformers",
        "url": "remote",
    }
    gguf = runtimes.Location("x.gguf", "gguf")
    assert runtimes.choose(gguf, "transformers").name == "transformers"


def test_a_runtime_that_cannot_open_a_location_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        runtimes.choose(runtimes.Location(str(tmp_path), "meta"), "llama.cpp")
    text = str(err.value)
    assert "--runtime transformers" in text and "codenook models import" in text
    with pytest.raises(ModelError, match="No model runtime 'vllm'"):
        runtimes.get("vllm")


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda root: root / "missing.gguf", "not found"),
        (lambda root: _write(root / "bad.gguf", b"not a model at all"), "not a GGUF model file"),
        (lambda root: _mkdir(root / "empty"), "holds no model"),
        (lambda root: meta_folder(root, without="tokenizer.model"), "lacks tokenizer.model"),
    ],
)
def test_bad_locations_get_one_clear_sentence(tmp_path: Path, make, words: str) -> None:
    with pytest.raises(ModelError) as err:
        runtimes.inspect(str(make(tmp_path)))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_settings_name_the_registered_runtimes() -> None:
    assert list(config.RUNTIMES) == runtimes.names()
    with pytest.raises(ConfigError, match=r"model\.runtime"):
        config.with_overrides(config.Settings(), runtime="vllm")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path
