"""Options shared by the commands that run a model."""

from __future__ import annotations

import argparse
import difflib
import itertools
import re
from dataclasses import replace

from codenook import config
from codenook.assist.finish import finish_note
from codenook.engine.backend import StreamResult
from codenook.errors import ModelError, UsageError
from codenook.library.routing import BackendChoice


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model, --runtime, --format, --context, --threads, --gpu-layers."""
    g = parser.add_argument_group("model")
    g.add_argument(
        "--model",
        metavar="NAME|PATH",
        help="a GGUF model file, a Hugging Face model folder, Meta's checkpoint folder, or a "
        "model's name from 'codenook models list' "
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
    """--max-tokens, --temperature, --top-p, --seed, --stop, --draft."""
    g = parser.add_argument_group("generation")
    g.add_argument("--max-tokens", type=int, metavar="N", help="longest answer in tokens")
    g.add_argument("--temperature", type=float, metavar="T", help="0 is deterministic")
    g.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling")
    g.add_argument("--seed", type=int, metavar="S", help="random seed, for repeatable answers")
    g.add_argument(
        "--stop", action="append", metavar="TEXT", help="end the answer at TEXT (repeatable)"
    )
    g.add_argument(
        "--draft",
        choices=("auto", "on", "off"),
        help="prompt-lookup drafting: auto (the edit jobs), on or off",
    )


def model_file(name_or_path: str) -> str:
    """The model file that ``--model NAME|PATH`` names, for every command that takes it.

    A path, or a name as 'codenook models list' shows it (``NAME`` or ``NAME:QUANT`` of
    the catalog, an installed file's name): the library's one resolver decides. A catalog
    model not downloaded yet is refused with the command that downloads it.
    """
    if name_or_path.startswith(("http://", "https://")):
        return name_or_path  # a server's address: the remote runtime opens it
    # Imported here: the library is read only when a model is named.
    from codenook.library import manager

    found = manager.resolve(name_or_path)
    if found.path is None:
        spec = found.choice.spec if found.choice else name_or_path
        raise ModelError(
            f"The model {spec} is not downloaded yet: 'codenook models pull {spec}' fetches it."
        )
    return str(found.path)


def settings_from(args: argparse.Namespace) -> config.Settings:
    """Settings file values with command-line options laid over them (``--model`` resolved)."""
    base = config.load_settings()
    stop = getattr(args, "stop", None)
    model = getattr(args, "model", None)
    settings = config.with_overrides(
        base,
        path=model_file(model) if model else None,
        context_length=getattr(args, "context_length", None),
        threads=getattr(args, "threads", None),
        gpu_layers=getattr(args, "gpu_layers", None),
        chat_format=getattr(args, "chat_format", None),
        runtime=getattr(args, "runtime", None),
        max_tokens=getattr(args, "max_tokens", None),
        temperature=getattr(args, "temperature", None),
        top_p=getattr(args, "top_p", None),
        seed=getattr(args, "seed", None),
        draft=getattr(args, "draft", None),
        stop=tuple(stop) if stop else None,
        adapter=getattr(args, "adapter", None),
    )
    if settings.model.adapter:
        from codenook.library.registry import resolve_adapter

        settings = replace(settings, model=resolve_adapter(settings.model))
    return settings


def end_note(result: StreamResult, settings: config.Settings) -> str | None:
    """How an answer ended, when it did not end by itself, said as the command line says it.

    An answer cut at the token limit is marked as incomplete and names ``--max-tokens``.
    """
    return finish_note(result, longer=f"--max-tokens (now {settings.generation.max_tokens})")


# argparse's wording (Python 3.11 to 3.13) for a value not among the choices, and for
# options left over after parsing.
_INVALID_CHOICE = re.compile(r"invalid choice: (['\"]?)(?P<value>.*?)\1 \(choose from .*\)$")
_UNRECOGNIZED = "unrecognized arguments: "


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def _shared_command(progs: list[list[str]]) -> str:
    """The command all of ``progs`` belong to (``codenook users`` for add's and passwd's)."""
    same = itertools.takewhile(lambda words: len(set(words)) == 1, zip(*progs, strict=False))
    return " ".join(words[0] for words in same)


def usage_message(parser: argparse.ArgumentParser, message: str) -> str:
    """argparse's error ``message`` as one line, with "did you mean" for a typo.

    A misspelled command or choice gets the closest one; an unknown option gets the
    closest option of the commands being parsed, and the help of the command it belongs to.
    """
    see = parser.prog
    choice = _INVALID_CHOICE.search(message)
    if choice:
        value = choice["value"]
        names = [str(c) for a in parser._actions if a.choices is not None for c in a.choices]
        close = difflib.get_close_matches(value, names, n=1)
        if close:
            message = f"{message[: choice.start()]}invalid choice: '{value}'; did you mean "
            message += f"'{close[0]}'?"
    elif message.startswith(_UNRECOGNIZED):
        owners: dict[str, list[list[str]]] = {}
        for p in _parsers(parser):
            for a in p._actions:
                for o in a.option_strings:
                    owners.setdefault(o, []).append(p.prog.split())
        hints = []
        for arg in message[len(_UNRECOGNIZED) :].split():
            option = arg.split("=", 1)[0]
            if option.startswith("-") and option not in owners:
                close = difflib.get_close_matches(option, list(owners), n=1)
                if close:
                    hints.append(close[0])
                    see = _shared_command(owners[close[0]])
        if hints:
            message += f"; did you mean {' '.join(dict.fromkeys(hints))}?"
    return f"{message} (see '{see} --help')"
