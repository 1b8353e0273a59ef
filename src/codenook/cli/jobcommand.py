"""The command of a job that declares one but has no module of its own here.

A job registered with a ``command`` (assist/jobs/registry.py) gets a command built from
how it reads its input: a ``text`` job takes its words (``-`` reads stdin), the others a
file (a ``cursor`` job also ``--line`` and ``--column``; a ``run`` job the file's
arguments). Each runs through :func:`codenook.assist.jobs.run_job`, as the window does.
"""

from __future__ import annotations

import argparse
from typing import Any

from codenook.assist import jobs
from codenook.assist.jobs import registry
from codenook.cli.jobkit import Printer, add_language_option, add_model_and_generation, job_session
from codenook.cli.textin import read_question


def commands() -> dict[str, registry.Job]:
    """Each registered job's command, by name: read from the registry at the call."""
    return {job.command: job for job in registry.all_jobs() if job.command}


class JobCommand:
    """A command (``NAME``, ``HELP``, ``add_arguments``, ``run``) for one registered job."""

    def __init__(self, job: registry.Job) -> None:
        self.job = job
        self.NAME = job.command or job.name
        self.HELP = job.help or f"run the {job.name} job"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """The job's input, --lang, and the model options every job shares."""
        reads = self.job.reads
        if reads == registry.TEXT:
            parser.add_argument("text", help="the words to work on; '-' reads them from stdin")
        else:
            parser.add_argument("file", help="the file to work on")
        if reads == registry.CURSOR:
            parser.add_argument("--line", type=int, required=True, help="1-based line")
            parser.add_argument("--column", type=int, required=True, help="1-based column")
        if reads == registry.RUN:
            parser.add_argument("args", nargs="*", help="arguments for the file's run")
        add_language_option(parser, required=self.job.needs_language)
        add_model_and_generation(parser)

    def _input(self, args: argparse.Namespace) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The job's positional input and keywords, from the parsed command line."""
        reads = self.job.reads
        if reads == registry.TEXT:
            return (read_question(args.text, what="text"),), {}
        options: dict[str, Any] = {"path": args.file}
        if reads == registry.CURSOR:
            options.update(line=args.line, column=args.column)
        if reads == registry.RUN:
            options["args"] = list(args.args)
        return (), options

    def run(self, args: argparse.Namespace) -> int:
        """Run the job; its answer streams to stdout, the tools' notes to stderr."""
        positional, options = self._input(args)
        printer = Printer()
        with job_session(args) as (session, settings):
            result = jobs.run_job(
                self.job.name,
                session,
                *positional,
                language=args.lang,
                on_text=printer.text,
                on_event=printer.event,
                prompts=settings.prompts,
                **options,
            )
        printer.end()
        return 0 if result.answer is not None else 1


def job_command(name: str) -> JobCommand | None:
    """The command ``name`` of a registered job, if one declares it."""
    job = commands().get(name)
    return JobCommand(job) if job is not None else None
