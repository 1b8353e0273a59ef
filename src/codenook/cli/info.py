"""``codenook info``: what model and runtime are in use, and where files live."""

from __future__ import annotations

import argparse
import importlib.metadata

from codenook import config
from codenook.cli.options import add_model_options, settings_from
from codenook.engine.loader import open_backend

NAME = "info"
HELP = (
    "show the model, backend, context, prompt formats, GPU layers, threads and codenook's folders"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``info``."""
    add_model_options(parser)


def run(args: argparse.Namespace) -> int:
    """Load the model as ``ask`` would and describe it."""
    settings = settings_from(args)
    paths = config.paths()
    with open_backend(settings.model) as backend:
        i = backend.info
    if i.runtime == "transformers":
        version = f"transformers {importlib.metadata.version('transformers')}, torch "
        version += importlib.metadata.version("torch")
        build = "CUDA available" if i.gpu_offload_supported else "no CUDA"
    else:
        version = f"llama-cpp-python {importlib.metadata.version('llama-cpp-python')}"
        build = "GPU offload available" if i.gpu_offload_supported else "CPU-only build"
    can = [
        "local" if i.local else "remote",
        "fill in the middle" if i.can_fill else "no fill-in-the-middle tokens",
        "on the GPU" if i.on_gpu else "not on a GPU",
        *(["GPU layer offload"] if i.layer_offload else []),
    ]
    if i.gpu_layers == 0:
        gpu = "0 (all on CPU)"
    elif i.gpu_layers < 0 or (i.layer_count and i.gpu_layers >= i.layer_count):
        gpu = f"all ({i.layer_count or '?'} layers)"
    else:
        gpu = f"{i.gpu_layers} of {i.layer_count or '?'} layers"
    trained = f" (trained for {i.trained_context_length:,})" if i.trained_context_length else ""
    rows = [
        ("model", f"{i.name}{' (embedded)' if i.embedded else ''}"),
        ("file", i.path),
        ("architecture", i.architecture),
        ("runtime", f"{i.runtime} ({version}, {build})"),
        ("backend", i.backend),
        ("device", i.device),
        ("can", ", ".join(can)),
        ("context", f"{i.context_length:,} tokens{trained}"),
        ("chat format", i.chat_format_note),
        ("fill in middle", i.fill_format_note),
        ("gpu layers", gpu),
        *([("fit", i.fit_note)] if i.fit_note else []),
        ("threads", str(i.threads)),
        ("settings", str(paths.settings_file)),
        ("data", str(paths.data)),
        ("logs", str(paths.logs)),
        ("cache", str(paths.cache)),
    ]
    width = max(len(k) for k, _ in rows) + 1
    for key, value in rows:
        print(f"{key + ':':<{width}} {value}")
    return 0
