"""``codenook chat``: a conversation in the terminal, or over piped lines."""

from __future__ import annotations

import argparse
import sys

from codenook.assist.conversation import Conversation, options_from
from codenook.cli.account import open_auth, require_user
from codenook.cli.ask import decode_input, write_piece
from codenook.cli.options import add_generation_options, add_model_options, settings_from
from codenook.engine.loader import open_backend
from codenook.errors import UsageError

NAME = "chat"
HELP = "chat in the terminal (one question per line on stdin when piped); /exit ends"
EXIT_WORDS = {"/exit", "/quit"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``chat``."""
    add_model_options(parser)
    add_generation_options(parser)


def _lines(interactive: bool):
    """Yield the user's lines until end of input."""
    number = 0
    while True:
        if interactive:
            try:
                yield input("you> ")
            except EOFError:
                print(file=sys.stderr)
                return
            continue
        raw = sys.stdin.buffer.readline()
        if not raw:
            return
        number += 1
        try:
            yield decode_input(raw, source=f"stdin line {number}").rstrip("\r\n")
        except UsageError as exc:
            # One bad line must not end the conversation: say so and carry on.
            print(f"codenook: error: {exc}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Chat until /exit or end of input; the whole conversation stays in memory."""
    interactive = sys.stdin.isatty()
    require_user(open_auth())
    settings = settings_from(args)
    with open_backend(settings.model) as backend:
        if interactive:
            print(f"codenook chat with {backend.info.name}. /exit or Ctrl-D ends.", file=sys.stderr)
        conversation = Conversation()
        options = options_from(settings.generation)
        for line in _lines(interactive):
            question = line.strip()
            if not question:
                continue
            if question in EXIT_WORDS:
                break
            result = conversation.ask(backend, question, options=options, on_text=write_piece)
            write_piece("\n" if result.text.endswith("\n") else "\n\n")
    return 0
