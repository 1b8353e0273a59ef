"""The jobs codenook runs, each declared once: its name, words, input, command and route.

A job module ends with ``register(Job(...))``; the package imports every built-in job, so
reading the registry sees them all. Everything that lists jobs (the window's selector,
the command line and its help, the routes, the settings' prompt and routing keys) asks
the registry when it needs the list, so a job registered later is seen as well.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from codenook.errors import CodenookError

#: How a job reads its input. ``text``: the words typed (a question, a description),
#: the job function's first argument after the session. ``code``: code, as ``path=`` or
#: ``source=``. ``cursor``: code and a place in it (``line=``, ``column=``). ``run``: a
#: file to run (``path=``), with the error it gave when known (``error_text=``).
TEXT, CODE, CURSOR, RUN = "text", "code", "cursor", "run"
INPUTS = (TEXT, CODE, CURSOR, RUN)
LANGUAGES = ("python", "bash")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class JobError(CodenookError):
    """A job was asked for something it cannot do (an unknown job, a file in the way)."""


@dataclass(frozen=True)
class Job:
    """One job, declared once; ``run(session, ..., on_text=, on_event=, prompts=)`` runs it."""

    #: The job's name: its key in ``[prompts]`` and ``[routing]``, and in the history.
    name: str
    #: Its name in the window's job selector.
    label: str
    #: The job function (``assist.jobs.ask.ask`` is one), returning a ``JobResult``.
    run: Callable[..., Any]
    #: System prompt words for Python code, and for Bash code.
    python: str
    bash: str
    #: The words when the language is not known (a question about either); empty: Python's.
    either: str = ""
    #: How it reads its input: one of INPUTS.
    reads: str = TEXT
    #: Its command on the command line (None: none), and the command's help line.
    command: str | None = None
    help: str = ""
    #: Whether ``[routing]`` may send it to a remote backend.
    routable: bool = True
    #: Whether it needs a language named (generate writes new code: nothing to detect from).
    needs_language: bool = False
    #: Whether its answers copy their input (a diff's context lines, the documented code):
    #: then "auto" prompt-lookup drafting is on for it (``generation.draft``).
    drafts: bool = False

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise JobError(f"A job's name is lowercase letters, digits and _: not {self.name!r}.")
        if self.reads not in INPUTS:
            raise JobError(f"Job {self.name}: reads must be one of {', '.join(INPUTS)}.")

    def words(self, language: str | None) -> str:
        """The built-in system prompt for code in ``language`` (None: not known)."""
        if language == "bash":
            return self.bash
        if language == "python":
            return self.python
        return self.either or self.python

    def text_keyword(self) -> str:
        """The name of the argument that takes a ``text`` job's words (``question`` for ask)."""
        params = list(inspect.signature(self.run).parameters.values())
        positional = [p for p in params[1:] if p.kind is p.POSITIONAL_OR_KEYWORD]
        return positional[0].name if positional else "text"

    def takes(self, option: str) -> bool:
        """Whether the job's function has a keyword argument ``option`` (``request``...)."""
        return option in inspect.signature(self.run).parameters


_jobs: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add ``job`` (or replace the job of the same name); returns it.

    A command name another job uses already is refused: one command runs one job.
    """
    for other in _jobs.values():
        if other.name != job.name and job.command and other.command == job.command:
            raise JobError(
                f"Job {job.name}: the command {job.command!r} runs the job {other.name} already."
            )
    _jobs[job.name] = job
    return job


def unregister(name: str) -> None:
    """Forget the job called ``name`` (tests register toy jobs and take them away again)."""
    _jobs.pop(name, None)


def get(name: str) -> Job:
    """The job called ``name``; a :class:`JobError` lists the jobs when there is none."""
    job = _jobs.get(name)
    if job is None:
        raise JobError(f"Unknown job {name!r}; codenook's jobs are {', '.join(_jobs)}.")
    return job


def names() -> tuple[str, ...]:
    """Every job's name, in the order they were registered."""
    return tuple(_jobs)


def all_jobs() -> tuple[Job, ...]:
    """Every job, in the order they were registered."""
    return tuple(_jobs.values())


def drafts(name: str) -> bool:
    """Whether job ``name`` is declared ``drafts=True`` (an unknown name: no)."""
    job = _jobs.get(name)
    return job is not None and job.drafts


def routable() -> tuple[str, ...]:
    """The names of the jobs ``[routing]`` may send to a remote backend."""
    return tuple(j.name for j in _jobs.values() if j.routable)


def by_command(command: str) -> Job | None:
    """The job that the command-line command ``command`` runs, if any."""
    return next((j for j in _jobs.values() if j.command == command), None)


def by_label(label: str) -> Job | None:
    """The job with ``label`` in the window's selector (or that name), case ignored."""
    wanted = label.strip().lower()
    return next((j for j in _jobs.values() if wanted in (j.label.lower(), j.name)), None)


def system_prompt(name: str, language: str | None, prompts: Any = None) -> str:
    """The system prompt of job ``name``: the user's ``[prompts]`` setting, else built-in."""
    job = get(name)
    custom = getattr(prompts, name, "") if prompts is not None else ""
    if isinstance(custom, str) and custom.strip():
        return custom
    return job.words(language if language in LANGUAGES else None)


def _job_keys(table: Any) -> list[str]:
    """The job names a ``[prompts]`` or ``[routing]`` table has a value for.

    Per-job values are text (a prompt, a backend's name); a flag such as ``failover``
    is a setting of the table itself, not a job.
    """
    if is_dataclass(table) and not isinstance(table, type):
        table = {f.name: getattr(table, f.name) for f in fields(table)}
    for attribute in ("jobs", "by_job"):
        inner = getattr(table, attribute, None)
        if isinstance(inner, Mapping):
            table = inner
    if not isinstance(table, Mapping):
        return []
    return [str(k) for k, v in table.items() if isinstance(v, str)]


def check_settings(settings: Any) -> list[str]:
    """Warnings for ``[prompts]`` and ``[routing]`` keys that name no job (a typo, an old job)."""
    known = set(_jobs)
    warnings = []
    for section in ("prompts", "routing"):
        for key in _job_keys(getattr(settings, section, None)):
            if key not in known:
                warnings.append(
                    f"[{section}] {key}: no job is called {key!r}, so it does nothing; "
                    f"the jobs are {', '.join(_jobs)}."
                )
    return warnings
