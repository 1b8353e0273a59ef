"""``codenook ask``: one question, grounded in local docs, the answer streamed to stdout."""

from __future__ import annotations

import argparse
import sys

from codenook.assist import jobs
from codenook.assist.jobs import JobEvent
from codenook.cli.context import add_context_options, context_options
from codenook.cli.jobkit import Printer, add_language_option, add_model_and_generation, job_session
from codenook.cli.options import end_note
from codenook.cli.textin import read_question

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
