"""Options shared by the commands that run a model."""

from __future__ import annotations

import argparse

from codenook import config


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model, --format, --context, --threads, --gpu-layers."""
    g = parser.add_argument_group("model")
    g.add_argument(
        "--model",
        metavar="PATH",
        help="a GGUF model file (default: settings, else the embedded SmolLM2-135M-Instruct)",
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
        "--gpu-layers",
        type=int,
        metavar="N",
        help="layers on the GPU: -1 all, 0 none (default: all on a GPU build)",
    )


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
    return config.with_overrides(
        base,
        path=getattr(args, "model", None),
        context_length=getattr(args, "context_length", None),
        threads=getattr(args, "threads", None),
        gpu_layers=getattr(args, "gpu_layers", None),
        chat_format=getattr(args, "chat_format", None),
        max_tokens=getattr(args, "max_tokens", None),
        temperature=getattr(args, "temperature", None),
        top_p=getattr(args, "top_p", None),
        seed=getattr(args, "seed", None),
        stop=tuple(stop) if stop else None,
    )
