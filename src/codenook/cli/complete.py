"""``codenook complete FILE --line L --column C``: the code at a cursor, and only that."""

from __future__ import annotations

import argparse
import sys

from codenook.assist import jobs
from codenook.assist.jobs.common import load_source_to_write
from codenook.cli.context import add_context_options, context_options
from codenook.cli.jobkit import Printer, add_language_option, add_model_and_generation, job_session

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("complete")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``complete``."""
    parser.add_argument("file", help="the Python or Bash file")
    parser.add_argument("--line", type=int, required=True, metavar="L", help="1-based line")
    parser.add_argument("--column", type=int, required=True, metavar="C", help="1-based column")
    parser.add_argument(
        "--apply", action="store_true", help="write the completion into FILE (keeps FILE.orig)"
    )
    add_language_option(parser)
    add_context_options(parser)
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Print the completion as it streams; notes go to stderr."""
    # What was read is remembered: a file edited while the model answers is not overwritten.
    text, _, read = load_source_to_write(args.file, None, None, what="complete")
    printer = Printer(events=sys.stderr)
    with job_session(args) as (session, settings):
        jobs.run_job(
            JOB.name,
            session,
            path=args.file,
            source=text,
            read=read,
            line=args.line,
            column=args.column,
            language=args.lang,
            apply=args.apply,
            on_text=printer.text,
            on_event=printer.event,
            prompts=settings.prompts,
            **context_options(args),
        )
    printer.end()
    return 0
