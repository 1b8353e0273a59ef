"""What the job commands (gen, complete, review, debug, doc, ask) share on the command line."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import TextIO

from codenook.assist.jobs import JobEvent, registry
from codenook.assist.session import Answer, ChatSession, options_from
from codenook.assist.tools.language import LanguageError, normalise_language
from codenook.cli.account import open_auth, require_user
from codenook.cli.options import (
    add_backend_options,
    add_generation_options,
    add_model_options,
    backend_choice,
    end_note,
    settings_from,
)
from codenook.config import Settings
from codenook.engine.backend import Backend
from codenook.engine.loader import open_backend
from codenook.library.pool import BackendPool
from codenook.library.routing import BackendChoice

# The first answer with a new model file may end before its hash (seconds for GBs);
# a command waits for it after printing, so the log row is complete.
HASH_WAIT_S = 120.0


def language(value: str) -> str:
    """``--lang`` as argparse's type: python or bash (py, sh, shell accepted)."""
    try:
        return normalise_language(value)
    except LanguageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_language_option(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--lang python|bash."""
    parser.add_argument(
        "--lang",
        type=language,
        required=required,
        metavar="python|bash",
        help="the language" + ("" if required else " (default: from the shebang, name, content)"),
    )


def add_model_and_generation(parser: argparse.ArgumentParser) -> None:
    """The options every command that runs the model shares."""
    add_model_options(parser)
    add_generation_options(parser)
    add_backend_options(parser)


def job_of_command(command: str | None) -> str:
    """The job a command runs (the routing settings use the job's name); chat asks."""
    job = registry.by_command(command or "chat")
    return job.name if job is not None else "ask"


def note(text: str) -> None:
    """A line for the user on stderr, apart from the answer."""
    print(f"codenook: {text}", file=sys.stderr, flush=True)


def open_job_backend(
    args: argparse.Namespace, settings: Settings, choice: BackendChoice | None
) -> Backend:
    """The backend this command's job is routed to (``--backend`` first), said when remote."""
    job = job_of_command(getattr(args, "command", None))
    # open_backend is looked up at the call, so tests can stand a scripted model in for it.
    pool = BackendPool(on_note=note, local=lambda s: open_backend(s.model))
    backend = pool.get(settings, job, choice)
    # Said when another machine answers, or the local model stands in for one (failover).
    if not backend.info.local or backend.info.backend != backend.info.runtime:
        note(f"answering on {backend.info.backend}")
    return backend


@contextlib.contextmanager
def job_session(args: argparse.Namespace) -> Iterator[tuple[ChatSession, Settings]]:
    """Log in, open the job's backend, and open a new conversation for one job."""
    choice = backend_choice(args)  # a wrong combination is said before the login
    auth = open_auth()
    user = require_user(auth)
    settings = settings_from(args)
    for warning in registry.check_settings(settings):
        note(warning)  # a [prompts] or [routing] key that names no job does nothing
    with open_job_backend(args, settings, choice) as backend:
        session = ChatSession(auth.db, user, backend, options_from(settings.generation))
        yield session, settings
        session.record_model_hash(timeout=HASH_WAIT_S)


class Printer:
    """Streams an answer and prints the tools' findings around it, each on its own lines."""

    def __init__(self, *, answer: TextIO | None = None, events: TextIO | None = None) -> None:
        self.answer = answer or sys.stdout
        self.events = events or sys.stdout
        self._at_line_start = {id(self.answer): True, id(self.events): True}

    def _write(self, stream: TextIO, text: str) -> None:
        if not text:
            return
        stream.write(text)
        stream.flush()
        self._at_line_start[id(stream)] = text.endswith("\n")

    def _line_break(self, stream: TextIO) -> None:
        if not self._at_line_start.get(id(stream), True):
            self._write(stream, "\n")

    def text(self, piece: str) -> None:
        """One streamed piece of the answer, printed at once."""
        self._write(self.answer, piece)

    def event(self, event: JobEvent) -> None:
        """A tool's finding: notes to stderr, the rest where the events go."""
        if event.kind in ("note", "target", "not_applied"):
            stream = sys.stderr
            text = f"== {event.text}" if event.kind == "target" else f"codenook: {event.text}"
        else:
            stream = self.events
            text = event.text
        self._line_break(self.answer)
        self._line_break(stream)
        self._write(stream, text.rstrip("\n") + "\n")
        if event.kind in ("findings", "error"):
            self._write(stream, "\n")  # the answer that follows starts apart from them

    def end(self) -> None:
        """Finish the output with a newline."""
        self._line_break(self.answer)
        self._line_break(self.events)


def say_endings(printer: Printer, answers: list[Answer], settings: Settings) -> None:
    """Note each answer that did not end by itself (cut at the token limit, stopped), once."""
    said: set[str] = set()
    for answer in answers:
        text = end_note(answer.result, settings)
        if text and text not in said:
            said.add(text)
            printer.event(JobEvent("note", text))
