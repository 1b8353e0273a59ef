"""``codenook review FILE [--apply]``: linter findings, the model's review, a diff."""

from __future__ import annotations

import argparse

from codenook.assist import jobs
from codenook.assist.jobs import JobEvent
from codenook.assist.jobs.common import load_source_to_write
from codenook.assist.tools.split import split_code
from codenook.cli.context import add_context_options, context_options
from codenook.cli.jobkit import (
    Printer,
    add_language_option,
    add_model_and_generation,
    job_session,
    say_endings,
)
from codenook.cli.textin import read_question
from codenook.errors import UsageError

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("review")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``review``."""
    parser.add_argument(
        "file",
        help="the Python or Bash file; '-' reads code from stdin, where sentences before "
        "the code (or around a fenced block) are your request to the model",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="apply the proposed diff (all hunks or none; keeps FILE.orig) and lint again",
    )
    add_language_option(parser)
    add_context_options(parser)
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Review; with --apply, exit 1 when no diff was applied."""
    path, ask = args.file, None
    if path == "-":
        if args.apply:
            raise UsageError("--apply needs a file; code from stdin has nowhere to go.")
        ask, text = split_code(read_question("-", what="code"))
        path, read = None, None
    else:
        # What was read is remembered: a file edited while the model answers is not
        # overwritten.
        text, _, read = load_source_to_write(path, None, None, what="review")
    printer = Printer()

    def on_event(event: JobEvent) -> None:
        if event.kind == "diff":
            # The answer showed the diff as the model wrote it; --apply shows what applies.
            if args.apply:
                event = JobEvent("diff", f"The change to apply:\n{event.text}", event.data)
            else:
                event = JobEvent("note", "the review proposes a diff; --apply applies it.")
        printer.event(event)

    with job_session(args) as (session, settings):
        result = jobs.run_job(
            JOB.name,
            session,
            path=path,
            source=text,
            request=ask or None,
            read=read,
            language=args.lang,
            apply=args.apply,
            on_text=printer.text,
            on_event=on_event,
            prompts=settings.prompts,
            **context_options(args),
        )
    printer.end()
    say_endings(printer, result.answers, settings)
    return 0 if result.applied or not args.apply else 1
