"""The jobs: ask, generate, complete, review, debug and document, grounded in real tools.

Each job is declared once, in its own module, with :func:`registry.register`; importing
this package registers the built-in ones. A job function takes a
:class:`~codenook.assist.session.ChatSession` (so the exchange lands in the conversation
history with its task and language), its input, keyword-only options, an ``on_text``
callback that receives the answer as it streams and an optional ``on_event`` callback
that receives what the tools find as they find it. Each returns a :class:`JobResult`.
Both faces run a job through :func:`run_job`: the command line, and the window from a
worker thread.
"""

from __future__ import annotations

from typing import Any

# The built-in jobs, in the order the window and the help list them: importing each
# registers it.
# isort: off
from codenook.assist.jobs.ask import ask, question_language, sources_line
from codenook.assist.jobs.generate import generate
from codenook.assist.jobs.complete import complete
from codenook.assist.jobs.review import review
from codenook.assist.jobs.debug import debug, parse_error
from codenook.assist.jobs.document import document
from codenook.assist.jobs.common import (
    ErrorReport,
    JobEvent,
    JobResult,
    OnEvent,
    OnText,
)
from codenook.assist.jobs.registry import Job, JobError, all_jobs, get, names, register
from codenook.assist.session import ChatSession
from codenook.config import PromptSettings

# isort: on


def run_job(
    name: str,
    session: ChatSession,
    *args: Any,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    shown: str | None = None,
    **options: Any,
) -> JobResult:
    """Run the job called ``name`` in ``session``: the one path both faces take.

    ``args`` are the job's input (a ``text`` job's words), ``options`` that job's keywords
    (``path=``, ``language=`` ...); ``prompts`` are the user's ``[prompts]`` settings.
    ``shown`` is what the user typed (the window's box): the history shows it as their
    turn, while the model gets the job's whole prompt.
    Runs in the caller's thread (a worker thread in the window); ``backend.cancel()``
    from another thread stops the answer, as it does for a chat.
    """
    job = get(name)
    session.typed = shown
    return job.run(session, *args, on_text=on_text, on_event=on_event, prompts=prompts, **options)


__all__ = [
    "ErrorReport",
    "Job",
    "JobError",
    "JobEvent",
    "JobResult",
    "all_jobs",
    "ask",
    "complete",
    "debug",
    "document",
    "generate",
    "get",
    "names",
    "parse_error",
    "question_language",
    "register",
    "review",
    "run_job",
    "sources_line",
]
