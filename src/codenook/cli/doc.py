"""``codenook doc FILE``: docstrings (Python) or comments (Bash) written by the model."""

from __future__ import annotations

import argparse
import sys

from codenook.assist import jobs
from codenook.assist.jobs.common import load_source_to_write
from codenook.assist.tools.docstrings import STYLES
from codenook.cli.jobkit import (
    Printer,
    add_language_option,
    add_model_and_generation,
    job_session,
    say_endings,
)

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("document")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``doc``."""
    parser.add_argument("file", help="the Python or Bash file")
    parser.add_argument("--style", choices=STYLES, default="google", help="docstring style")
    parser.add_argument(
        "--write", action="store_true", help="write FILE (keeps FILE.orig) instead of printing it"
    )
    parser.add_argument(
        "--all", action="store_true", dest="all_", help="write every docstring anew (Python)"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="write a Markdown summary of the file instead (to FILE.md with --write)",
    )
    add_language_option(parser)
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Document the file.

    Without --write the new file is printed on stdout, so the model's words stream to
    stderr (``codenook doc f.py > new.py`` gives a clean file); with --write or --readme
    they stream to stdout.
    """
    # What was read is remembered: a file edited while the model answers is not overwritten.
    text, _, read = load_source_to_write(args.file, None, None, what="document")
    to_stdout = args.write or args.readme
    stream = sys.stdout if to_stdout else sys.stderr
    printer = Printer(answer=stream, events=stream)
    with job_session(args) as (session, settings):
        result = jobs.run_job(
            JOB.name,
            session,
            path=args.file,
            source=text,
            read=read,
            language=args.lang,
            style=args.style,
            all_=args.all_,
            readme=args.readme,
            write=args.write,
            on_text=printer.text,
            on_event=printer.event,
            prompts=settings.prompts,
        )
    printer.end()
    # Each docstring's own cut is said by the job (its limit is the job's, not --max-tokens).
    say_endings(printer, result.answers if args.readme else [], settings)
    if not to_stdout and result.text is not None:
        # The file's own bytes: its line endings must come out as they are.
        sys.stdout.flush()
        sys.stdout.buffer.write(result.text.encode("utf-8"))
        sys.stdout.flush()
    return 0
