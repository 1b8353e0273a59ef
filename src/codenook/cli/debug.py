"""``codenook debug FILE [-- ARGS]`` or ``--error-file F``: the error, its cause, a fix."""

from __future__ import annotations

import argparse

from codenook.assist import jobs
from codenook.assist.jobs import JobEvent
from codenook.assist.jobs.common import load_source
from codenook.cli.context import add_context_options, context_options
from codenook.cli.jobkit import Printer, add_language_option, add_model_and_generation, job_session
from codenook.errors import UsageError

#: The job this command runs: its name and help are declared there.
JOB = jobs.get("debug")
NAME = JOB.command or JOB.name
HELP = JOB.help


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``debug``."""
    parser.add_argument("file", help="the Python or Bash file")
    parser.add_argument("args", nargs="*", metavar="ARGS", help="arguments for it, after --")
    parser.add_argument(
        "--error-file",
        metavar="F",
        help="read the error (a pasted traceback) from F instead of running the file",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="run a copy with the proposed fix in the sandbox and say whether the error is gone",
    )
    add_language_option(parser)
    add_context_options(parser)
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Debug; with --verify, exit 0 only when the error is gone."""
    load_source(args.file, None, what="debug")
    error_text = None
    if args.error_file is not None:
        if args.args:
            raise UsageError("Program arguments only make sense when codenook runs the file.")
        error_text, _ = load_source(args.error_file, None, what="read as an error")
    printer = Printer()

    def on_event(event: JobEvent) -> None:
        if event.kind == "diff":
            if not args.verify:
                return  # the answer showed it
            event = JobEvent("diff", f"Verifying this fix on a copy:\n{event.text}", event.data)
        printer.event(event)

    with job_session(args) as (session, settings):
        result = jobs.run_job(
            JOB.name,
            session,
            path=args.file,
            args=args.args,
            error_text=error_text,
            language=args.lang,
            verify=args.verify,
            on_text=printer.text,
            on_event=on_event,
            prompts=settings.prompts,
            **context_options(args),
        )
    printer.end()
    if args.verify:
        return 0 if result.error_gone else 1
    return 0
