"""``codenook ask``: one question, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import sys

from codenook.assist.session import ChatSession, options_from
from codenook.cli.account import open_auth, require_user
from codenook.cli.options import add_generation_options, add_model_options, settings_from
from codenook.engine.loader import open_backend
from codenook.errors import UsageError

# The first answer with a new model file may end before its hash (seconds for GBs);
# the command waits for it after printing, so the log row is complete.
HASH_WAIT_S = 120.0
NAME = "ask"
HELP = "ask one coding question and stream the answer (kept in your history)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``ask``."""
    parser.add_argument("question", help="the question; '-' reads it from stdin")
    add_model_options(parser)
    add_generation_options(parser)


def write_piece(text: str) -> None:
    """Print one streamed piece at once (flush per token)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def decode_input(data: bytes, *, source: str) -> str:
    """Bytes a user gave us as text, or a UsageError saying they are not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{source} is not UTF-8 text (bad byte at position {exc.start}); "
            "convert it, e.g. with iconv -t UTF-8."
        ) from exc


def read_question(arg: str) -> str:
    """The question from argv, or all of stdin when it is '-'."""
    text = decode_input(sys.stdin.buffer.read(), source="stdin") if arg == "-" else arg
    if not text.strip():
        raise UsageError("The question is empty.")
    return text


def run(args: argparse.Namespace) -> int:
    """Answer one question."""
    question = read_question(args.question)
    auth = open_auth()
    user = require_user(auth)
    settings = settings_from(args)
    with open_backend(settings.model) as backend:
        session = ChatSession(auth.db, user, backend, options_from(settings.generation))
        answer = session.send(question, on_text=write_piece)
        if not answer.text.endswith("\n"):
            write_piece("\n")
        session.record_model_hash(timeout=HASH_WAIT_S)
    return 0
