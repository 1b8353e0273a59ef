"""``codenook gen "DESCRIPTION" --lang python|bash [-o FILE]``: code, checked by real tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from codenook.assist import jobs
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
from codenook.safefile import check_target

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("generate")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``gen``."""
    parser.add_argument("description", help="what the code should do; '-' reads it from stdin")
    add_language_option(parser, required=True)
    parser.add_argument("-o", "--output", metavar="FILE", help="write the final code to FILE")
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite FILE if it exists (a backup is kept); a symbolic link is replaced, "
        "never written through",
    )
    parser.add_argument(
        "--no-retry", action="store_true", help="do not ask again when the checks fail"
    )
    add_context_options(parser)
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Generate; exit 0 when the final code passes its checks, 1 when it does not."""
    description = read_question(args.description, what="description")
    out = Path(args.output) if args.output else None
    # Said before the model is loaded, not after the user waited for an answer (and
    # checked again when the code is written: a file may appear meanwhile).
    if out is not None and out.is_dir():
        raise UsageError(f"{out} is a directory; give a file name for the code.")
    if out is not None and check_target(out, force=args.force) is not None and not args.force:
        raise UsageError(f"{out} exists; add --force to overwrite it (a backup is kept).")
    printer = Printer()
    with job_session(args) as (session, settings):
        result = jobs.run_job(
            JOB.name,
            session,
            description,
            language=args.lang,
            output=out,
            force=args.force,
            retry=not args.no_retry,
            on_text=printer.text,
            on_event=printer.event,
            prompts=settings.prompts,
            **context_options(args),
        )
    printer.end()
    say_endings(printer, result.answers, settings)
    return 0 if result.passed else 1
