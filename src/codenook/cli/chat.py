"""``codenook chat``: a conversation in the terminal, or over piped lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

from codenook.assist.session import ChatSession, options_from
from codenook.cli.account import open_auth, require_user
from codenook.cli.ask import write_piece
from codenook.cli.jobkit import HASH_WAIT_S, open_job_backend
from codenook.cli.options import (
    add_backend_options,
    add_generation_options,
    add_model_options,
    backend_choice,
    end_note,
    settings_from,
)
from codenook.cli.textin import decode_input
from codenook.engine.remote import RemoteError
from codenook.errors import UsageError

NAME = "chat"
HELP = "chat in the terminal (one question per line on stdin when piped); /exit ends"
EXIT_WORDS = {"/exit", "/quit"}
#: Before each piped question's answer: the question, as the terminal's prompt shows it, so
#: the answers read as a transcript and never run together.
ECHO = "you> "


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``chat``."""
    parser.add_argument("--resume", type=int, metavar="ID", help="continue conversation ID")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per answer instead of streaming text",
    )
    add_model_options(parser)
    add_generation_options(parser)
    add_backend_options(parser)


class _Heading:
    """Streams an answer to stdout, its question above it (piped input) with the first piece.

    Printed with the answer, not before it: what appears on stdout is the answer under way.
    """

    def __init__(self, heading: str) -> None:
        self.heading = heading

    def show(self) -> None:
        """Print the heading, once."""
        if self.heading:
            write_piece(self.heading)
            self.heading = ""

    def text(self, piece: str) -> None:
        """One streamed piece of the answer."""
        self.show()
        write_piece(piece)


def _lines(interactive: bool) -> Iterator[str]:
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
    """Chat until /exit or end of input; every turn is stored as it happens."""
    interactive = sys.stdin.isatty()
    failed = False
    choice = backend_choice(args)
    auth = open_auth()
    user = require_user(auth)
    settings = settings_from(args)
    options = options_from(settings.generation)
    with open_job_backend(args, settings, choice) as backend:
        if args.resume is not None:
            session = ChatSession.resume(auth.db, user, backend, args.resume, options=options)
        else:
            session = ChatSession(auth.db, user, backend, options)
        if interactive:
            print(f"codenook chat with {backend.info.name}. /exit or Ctrl-D ends.", file=sys.stderr)
        for line in _lines(interactive):
            question = line.strip()
            if not question:
                continue
            if question in EXIT_WORDS:
                break
            heading = _Heading("" if interactive or args.json else f"{ECHO}{question}\n")
            try:
                if args.json:
                    answer = session.send(question, on_text=lambda _: None)
                    print(json.dumps({"text": answer.text, **answer.figures()}), flush=True)
                    continue
                answer = session.send(question, on_text=heading.text)
                heading.show()  # an empty answer still gets its question
            except RemoteError as exc:
                heading.show()
                # The question and the partial answer are stored (marked incomplete); the
                # conversation goes on, the next line may find the server back.
                write_piece("\n")
                print(f"codenook: error: {exc}", file=sys.stderr, flush=True)
                failed = True
                continue
            note = end_note(answer.result, settings)
            if note:
                # Right under the answer it is about, before the blank line that ends it.
                write_piece("" if answer.text.endswith("\n") else "\n")
                print(f"codenook: {note}", file=sys.stderr, flush=True)
                write_piece("\n")
            else:
                write_piece("\n" if answer.text.endswith("\n") else "\n\n")
            if answer.turns_dropped and interactive:
                print(
                    f"(the {answer.turns_dropped} oldest turns were left out to fit the context)",
                    file=sys.stderr,
                )
        session.record_model_hash(timeout=HASH_WAIT_S)
    return 2 if failed else 0
