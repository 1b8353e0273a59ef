"""``codenook ask``: one question, grounded in local docs, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import sys

from codenook.assist import jobs
from codenook.assist.jobs import JobEvent
from codenook.cli.context import add_context_options, context_options
from codenook.cli.jobkit import Printer, add_language_option, add_model_and_generation, job_session
from codenook.cli.options import end_note
from codenook.errors import UsageError

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("ask")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``ask``."""
    parser.add_argument("question", help="the question; '-' reads it from stdin")
    add_language_option(parser)
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help="do not look names up in pydoc, Bash help or man pages",
    )
    add_context_options(parser)
    add_model_and_generation(parser)


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


def read_question(arg: str, *, what: str = "question") -> str:
    """The question (or another text) from argv, or all of stdin when it is '-'."""
    text = decode_input(sys.stdin.buffer.read(), source="stdin") if arg == "-" else arg
    if not text.strip():
        raise UsageError(f"The {what} is empty.")
    return text


def run(args: argparse.Namespace) -> int:
    """Answer one question; then name the documentation it was given, if any."""
    question = read_question(args.question)
    printer = Printer()
    with job_session(args) as (session, settings):
        result = jobs.run_job(
            JOB.name,
            session,
            question,
            language=args.lang,
            lookup=not args.no_docs,
            on_text=printer.text,
            on_event=printer.event,
            prompts=settings.prompts,
            **context_options(args),
        )
    printer.end()
    note = end_note(result.answer.result, settings) if result.answer else None
    if note:
        printer.event(JobEvent("note", note))
    return 0
