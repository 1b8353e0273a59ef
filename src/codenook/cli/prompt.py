"""``codenook prompt``: print the exact prompt (or its tokens) a model is sent.

This is what a user runs when answers look wrong: a wrong template or FIM format shows
here byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from codenook import config
from codenook.cli.textin import decode_input
from codenook.engine.backend import Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.formats import ChatFormat, FillFormat, Prompt, all_formats, get_format
from codenook.engine.formats.messages import ROLES
from codenook.errors import UsageError

if TYPE_CHECKING:
    from codenook.engine.prompts import PromptModel

NAME = "prompt"
HELP = (
    "print the exact prompt for a JSON list of messages on stdin (or a fill-in-the-middle "
    "prompt with --fim); --list names the formats"
)
EXAMPLE = '[{"role": "system", "content": "..."}, {"role": "user", "content": "..."}]'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``prompt``."""
    parser.add_argument(
        "--format",
        metavar="NAME",
        help="render with this format (see --list) instead of the model's own template",
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="a GGUF file whose template, formats and vocabulary to use "
        "(default without --format: settings, else the embedded model)",
    )
    parser.add_argument(
        "--fim",
        action="store_true",
        help="a fill-in-the-middle prompt from --prefix-file and --suffix-file",
    )
    parser.add_argument("--prefix-file", metavar="FILE", help="the code before the gap")
    parser.add_argument("--suffix-file", metavar="FILE", help="the code after the gap")
    parser.add_argument(
        "--tokens",
        action="store_true",
        help="print token ids and pieces, one per line, instead of text (needs --model)",
    )
    parser.add_argument("--list", action="store_true", help="name the formats and exit")


def read_messages(data: bytes) -> list[Message]:
    """Messages from JSON text, or a UsageError that says what is wrong."""
    text = decode_input(data, source="stdin")
    if not text.strip():
        raise UsageError(f"No messages on stdin: give a JSON list such as {EXAMPLE}.")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"stdin is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"give a list such as {EXAMPLE}."
        ) from exc
    if not isinstance(raw, list):
        raise UsageError(f"stdin must hold a JSON list of messages, such as {EXAMPLE}.")
    messages = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise UsageError(
                f'Message {number} must be an object with a "role" and a "content" string.'
            )
        if item.get("role") not in ROLES:
            raise UsageError(
                f"Message {number} has the role {item.get('role')!r}; "
                "use 'system', 'user' or 'assistant'."
            )
        messages.append(Message(item["role"], item["content"]))
    return messages


def _read_file(path: str | None, what: str) -> str:
    if path is None:
        return ""
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read the {what} file {path}: {exc.strerror}.") from exc
    return decode_input(data, source=f"the {what} file {path}")


def list_formats() -> None:
    """Print every format: name, kind, stop strings, description."""
    rows = [
        (f.name, "chat" if isinstance(f, ChatFormat) else "fim", f.description, f.stop)
        for f in all_formats()
    ]
    width = max(len(name) for name, *_ in rows)
    for name, kind, description, stop in rows:
        stops = " ".join(json.dumps(s, ensure_ascii=False) for s in stop)
        print(f"{name:<{width}}  {kind:<4}  {description}  (stop: {stops})")


def _check(args: argparse.Namespace) -> ChatFormat | FillFormat | None:
    """Refuse option combinations that cannot work, before reading anything."""
    if (args.prefix_file or args.suffix_file) and not args.fim:
        raise UsageError("--prefix-file and --suffix-file go with --fim.")
    if args.tokens and not args.model:
        raise UsageError(
            "--tokens needs --model PATH: the tokens depend on the model's vocabulary."
        )
    fmt = get_format(args.format) if args.format else None
    if isinstance(fmt, ChatFormat) and args.fim:
        raise UsageError(
            f"{fmt.name} is a chat format; with --fim name a fill-in-the-middle format "
            "(see --list) or leave --format out."
        )
    if isinstance(fmt, FillFormat) and not args.fim:
        raise UsageError(
            f"{fmt.name} is a fill-in-the-middle format: add --fim --prefix-file A --suffix-file B."
        )
    return fmt


def _write(text: str) -> None:
    # Bytes, not text mode: the prompt is shown exactly, whatever the terminal's encoding.
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def _write_tokens(model: PromptModel, prompt: Prompt) -> None:
    for piece in model.vocab.pieces(model.tokenize(prompt)):
        try:
            shown = json.dumps(piece.data.decode("utf-8"), ensure_ascii=False)
        except UnicodeDecodeError:
            shown = repr(piece.data)  # part of a character: show its bytes
        mark = "  special" if piece.special else ""
        _write(f"{piece.id:>7}  {shown}{mark}\n")


def run(args: argparse.Namespace) -> int:
    """Print the prompt text, or its tokens."""
    if args.list:
        list_formats()
        return 0
    fmt = _check(args)
    if args.fim:
        prefix = _read_file(args.prefix_file, "prefix")
        suffix = _read_file(args.suffix_file, "suffix")
        messages: list[Message] = []
    else:
        messages = read_messages(sys.stdin.buffer.read())
    if fmt is not None and not args.model:
        # A named format needs no model: pure text in, text out.
        if isinstance(fmt, FillFormat):
            _write(fmt.text(prefix, suffix))
        else:
            _write(fmt.text(messages))
        return 0
    # Imported here: llama.cpp takes a while to load, and every command builds this parser.
    from codenook.engine.prompts import PromptModel

    settings = config.load_settings().model
    path = args.model or settings.path or embedded_model_path()
    chat_name = fmt.name if isinstance(fmt, ChatFormat) else settings.chat_format
    with PromptModel.open(path, chat_format_name=chat_name) as model:
        if isinstance(fmt, FillFormat):
            prompt = fmt.render(prefix, suffix)
        elif args.fim:
            if model.formats.fill_format:
                prompt = model.fill_prompt(prefix, suffix)
            else:
                print(
                    "codenook: note: this model has no fill-in-the-middle tokens; "
                    "showing the complete job's chat request it completes through instead.",
                    file=sys.stderr,
                )
                prompt = model.chat_prompt(_fill_messages(prefix, suffix))
        else:
            prompt = model.chat_prompt(messages)
        if args.tokens:
            _write_tokens(model, prompt)
        else:
            _write(prompt.text)
    return 0


def _fill_messages(prefix: str, suffix: str) -> list[Message]:
    """The complete job's chat request for a model without FIM ([prompts].complete applies)."""
    from codenook.assist.jobs.complete import fill_messages
    from codenook.assist.prompts import system_prompt

    system = system_prompt("complete", None, config.load_settings().prompts)
    return fill_messages(prefix, suffix, system=system)
