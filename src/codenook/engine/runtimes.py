"""Model runtimes, registered with what they can open: a model location in, a Backend out.

A location is a GGUF file, a Hugging Face model folder (``config.json`` + safetensors),
Meta's original checkpoint folder (``params.json`` + ``consolidated.*.pth`` +
``tokenizer.model``) or an http(s) URL of an OpenAI-compatible server. Each runtime says
which of these it opens; ``model.runtime = "auto"`` takes the first registered runtime
that opens what the location is. The runtimes' modules are imported only when one opens a
model (torch alone takes seconds to import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from codenook.config import ModelSettings
from codenook.engine.gguf_file import check_model_file
from codenook.errors import ModelError

if TYPE_CHECKING:
    from codenook.engine.backend import Backend
    from codenook.engine.hardware import Hardware

Layout = Literal["gguf", "hf", "meta", "url"]
AUTO = "auto"

LAYOUT_WORDS: dict[Layout, str] = {
    "gguf": "a GGUF file",
    "hf": "a Hugging Face model folder",
    "meta": "Meta's original checkpoint folder",
    "url": "a server URL",
}


@dataclass(frozen=True)
class Location:
    """Where a model is and what is there."""

    path: str
    layout: Layout
    #: The model that ships with codenook (no location was given).
    embedded: bool = False


Opener = Callable[[Location, ModelSettings, "Hardware | None"], "Backend"]


@dataclass(frozen=True)
class Runtime:
    """One way to run a model: what it opens, how, and what it can do."""

    name: str
    #: One line for ``codenook info`` and the Settings dialog.
    title: str
    opens: tuple[Layout, ...]
    open: Opener
    #: Runs in this process (not on a server).
    local: bool = True
    #: Can split a model's layers between GPU and CPU.
    layer_offload: bool = False

    def can_open(self, location: Location) -> bool:
        """Whether this runtime opens what ``location`` is."""
        return location.layout in self.opens


_REGISTRY: dict[str, Runtime] = {}


def register(runtime: Runtime) -> Runtime:
    """Add a runtime (a later one with the same name replaces the earlier)."""
    _REGISTRY[runtime.name] = runtime
    return runtime


def registered() -> list[Runtime]:
    """Every runtime, in the order ``auto`` tries them."""
    return list(_REGISTRY.values())


def names() -> list[str]:
    """The runtimes a setting may name (the remote client is reached by URL, not by name)."""
    return [AUTO, *(r.name for r in _REGISTRY.values() if r.local)]


def get(name: str) -> Runtime:
    """The runtime called ``name``, or a ModelError listing the known ones."""
    runtime = _REGISTRY.get(name)
    if runtime is None:
        known = ", ".join(names())
        raise ModelError(f"No model runtime {name!r}; the runtimes are {known}.")
    return runtime


# -- what a location is ------------------------------------------------------------------


def is_url(text: str) -> bool:
    """Whether ``text`` is a server URL."""
    return text.startswith(("http://", "https://"))


def _meta_parts(folder: Path) -> dict[str, bool]:
    return {
        "params.json": (folder / "params.json").is_file(),
        "consolidated.00.pth": any(folder.glob("consolidated.*.pth")),
        "tokenizer.model": (folder / "tokenizer.model").is_file(),
    }


def _hf_weights(folder: Path) -> bool:
    return any(folder.glob("*.safetensors")) or any(folder.glob("pytorch_model*.bin"))


def inspect(location: str | None) -> Location:
    """What is at ``location`` (None: the embedded model), or a ModelError saying why none."""
    if location is None:
        from codenook.engine.embedded import embedded_model_path

        return Location(str(embedded_model_path()), "gguf", embedded=True)
    if is_url(location):
        return Location(location, "url")
    path = Path(location).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file() and _hf_weights(path):
            return Location(str(path.resolve()), "hf")
        meta = _meta_parts(path)
        if all(meta.values()):
            return Location(str(path.resolve()), "meta")
        if meta["params.json"] or meta["consolidated.00.pth"]:
            missing = ", ".join(k for k, v in meta.items() if not v)
            raise ModelError(
                f"{path} looks like Meta's original checkpoint but lacks {missing}; copy the "
                "whole folder that Meta's download.sh wrote."
            )
        raise ModelError(
            f"{path} is a folder but holds no model: a Hugging Face model folder has "
            "config.json and *.safetensors, Meta's download has params.json, "
            "consolidated.00.pth and tokenizer.model; or give a .gguf file."
        )
    return Location(str(check_model_file(path)), "gguf")


def choose(location: Location, wanted: str = AUTO) -> Runtime:
    """The runtime for ``location``: ``wanted``, or the first that opens it for ``auto``."""
    if wanted == AUTO:
        for runtime in _REGISTRY.values():
            if runtime.can_open(location):
                return runtime
        raise ModelError(f"No runtime opens {LAYOUT_WORDS[location.layout]} ({location.path}).")
    runtime = get(wanted)
    if not runtime.can_open(location):
        able = [r.name for r in _REGISTRY.values() if r.can_open(location) and r.local]
        hint = f" use --runtime {able[0]}" if able else ""
        if location.layout in ("hf", "meta"):
            hint += (" or" if hint else "") + (
                f" turn it into a GGUF file with 'codenook models import {location.path}'"
            )
        raise ModelError(
            f"The {runtime.name} runtime cannot open {LAYOUT_WORDS[location.layout]} "
            f"({location.path}); it opens "
            + " and ".join(LAYOUT_WORDS[k] for k in runtime.opens)
            + (f":{hint}." if hint else ".")
        )
    return runtime


def open_model(model: ModelSettings, *, hardware: Hardware | None = None) -> Backend:
    """Open the model the settings name with the runtime they ask for."""
    location = inspect(model.path)
    return choose(location, model.runtime).open(location, model, hardware)


# -- the built-in runtimes ---------------------------------------------------------------


def _open_llama(location: Location, model: ModelSettings, hardware: Hardware | None) -> Backend:
    from codenook.engine.llama_open import open_llama

    return open_llama(Path(location.path), model, embedded=location.embedded, hardware=hardware)


def _open_transformers(
    location: Location, model: ModelSettings, hardware: Hardware | None
) -> Backend:
    from codenook.engine.transformers_backend import TransformersBackend

    return TransformersBackend(
        location.path,
        layout=location.layout,
        context_length=model.context_length,
        threads=model.threads,
        gpu=model.gpu_layers != 0,
        four_bit=model.four_bit,
        embedded=location.embedded,
        chat_format_name=model.chat_format,
    )


def _open_remote(location: Location, model: ModelSettings, hardware: Hardware | None) -> Backend:
    from codenook.engine.remote import RemoteBackend

    return RemoteBackend(location.path, context_length=model.context_length)


LLAMA_CPP = register(
    Runtime(
        "llama.cpp",
        "llama.cpp in this process (GGUF files, quantized; GPU layers where the build has CUDA)",
        ("gguf",),
        _open_llama,
        layer_offload=True,
    )
)
TRANSFORMERS = register(
    Runtime(
        "transformers",
        "Hugging Face transformers on PyTorch in this process (Hugging Face folders, Meta's "
        "checkpoints, GGUF files dequantized; CUDA when torch sees a GPU)",
        ("hf", "meta", "gguf"),
        _open_transformers,
    )
)
REMOTE = register(
    Runtime(
        "remote",
        "an OpenAI-compatible server on another machine",
        ("url",),
        _open_remote,
        local=False,
    )
)
