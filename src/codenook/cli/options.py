"""Options shared by the commands that run a model."""

from __future__ import annotations

import argparse
from dataclasses import replace

from codenook import config
from codenook.errors import UsageError
from codenook.library.routing import BackendChoice


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model, --runtime, --format, --context, --threads, --gpu-layers."""
    g = parser.add_argument_group("model")
    g.add_argument(
        "--model",
        metavar="PATH",
        help="a GGUF file, a Hugging Face model folder or Meta's checkpoint folder "
        "(default: settings, else the embedded SmolLM2-135M-Instruct)",
    )
    g.add_argument(
        "--runtime",
        choices=config.RUNTIMES,
        help="what runs the model: llama.cpp (GGUF), transformers (PyTorch: Hugging Face and "
        "Meta folders, GGUF dequantized) or auto, by what --model is (default: settings)",
    )
    g.add_argument(
        "--format",
        metavar="NAME",
        dest="chat_format",
        help="chat prompt format (default: the model file's own template; "
        "'codenook prompt --list' names them)",
    )
    g.add_argument(
        "--context",
        type=int,
        metavar="N",
        dest="context_length",
        help="context length in tokens (default 4096)",
    )
    g.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: physical cores)")
    g.add_argument(
        "--adapter",
        metavar="NAME",
        help="a LoRA adapter from 'codenook tune run' on top of the model (default: settings)",
    )
    g.add_argument(
        "--gpu-layers",
        type=int,
        metavar="N",
        help="layers on the GPU: -1 all, 0 none (default: all on a GPU build)",
    )


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """--backend URL|NAME, --api-key-file F, --remote-model NAME."""
    g = parser.add_argument_group("remote backend")
    g.add_argument(
        "--backend",
        metavar="URL|NAME",
        help="answer on an OpenAI-compatible server (a URL, or a name from 'codenook backends "
        "list'; 'local' for this machine) for this command only",
    )
    g.add_argument(
        "--api-key-file",
        metavar="F",
        help="a file holding the server's API key (never give the key itself on the command line)",
    )
    g.add_argument(
        "--remote-model",
        metavar="NAME",
        help="the server's model to use (default: the backend's setting, else its first model)",
    )


def backend_choice(args: argparse.Namespace) -> BackendChoice | None:
    """The --backend options as a routing choice, or None to follow the settings."""
    target = getattr(args, "backend", None)
    key_file = getattr(args, "api_key_file", None)
    model = getattr(args, "remote_model", None)
    if target is None:
        if key_file or model:
            raise UsageError("--api-key-file and --remote-model go with --backend URL|NAME.")
        return None
    return BackendChoice(target, api_key_file=key_file, model=model)


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """--max-tokens, --temperature, --top-p, --seed, --stop."""
    g = parser.add_argument_group("generation")
    g.add_argument("--max-tokens", type=int, metavar="N", help="longest answer in tokens")
    g.add_argument("--temperature", type=float, metavar="T", help="0 is deterministic")
    g.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling")
    g.add_argument("--seed", type=int, metavar="S", help="random seed, for repeatable answers")
    g.add_argument(
        "--stop", action="append", metavar="TEXT", help="end the answer at TEXT (repeatable)"
    )


def settings_from(args: argparse.Namespace) -> config.Settings:
    """Settings file values with command-line options laid over them."""
    base = config.load_settings()
    stop = getattr(args, "stop", None)
    settings = config.with_overrides(
        base,
        path=getattr(args, "model", None),
        context_length=getattr(args, "context_length", None),
        threads=getattr(args, "threads", None),
        gpu_layers=getattr(args, "gpu_layers", None),
        chat_format=getattr(args, "chat_format", None),
        runtime=getattr(args, "runtime", None),
        max_tokens=getattr(args, "max_tokens", None),
        temperature=getattr(args, "temperature", None),
        top_p=getattr(args, "top_p", None),
        seed=getattr(args, "seed", None),
        stop=tuple(stop) if stop else None,
        adapter=getattr(args, "adapter", None),
    )
    if settings.model.adapter:
        from codenook.library.registry import resolve_adapter

        settings = replace(settings, model=resolve_adapter(settings.model))
    return settings
