"""The six jobs: generate, complete, review, debug, document and ask, grounded in real tools.

Each job is a function that takes a :class:`~codenook.assist.session.ChatSession` (so the
exchange lands in the conversation history with its task and language), keyword-only
options, an ``on_text`` callback that receives the answer as it streams and an optional
``on_event`` callback that receives what the tools find as they find it. Each returns a
:class:`JobResult`. The window calls :func:`run_job` from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codenook.assist.jobs.ask import ask, question_language, sources_line
from codenook.assist.jobs.common import (
    ErrorReport,
    JobError,
    JobEvent,
    JobResult,
    OnEvent,
    OnText,
)
from codenook.assist.jobs.complete import complete
from codenook.assist.jobs.debug import debug, parse_error
from codenook.assist.jobs.document import document
from codenook.assist.jobs.generate import generate
from codenook.assist.jobs.review import review
from codenook.assist.session import ChatSession

JOBS: dict[str, Callable[..., JobResult]] = {
    "ask": ask,
    "generate": generate,
    "complete": complete,
    "review": review,
    "debug": debug,
    "document": document,
}


def run_job(
    name: str,
    session: ChatSession,
    *args: Any,
    on_text: OnText,
    on_event: OnEvent | None = None,
    **options: Any,
) -> JobResult:
    """Run the job called ``name`` in ``session``; ``options`` are that job's keywords.

    Runs in the caller's thread (a worker thread in the window); ``backend.cancel()``
    from another thread stops the answer, as it does for a chat.
    """
    job = JOBS.get(name)
    if job is None:
        known = ", ".join(JOBS)
        raise JobError(f"Unknown job {name!r}; codenook's jobs are {known}.")
    return job(session, *args, on_text=on_text, on_event=on_event, **options)


__all__ = [
    "JOBS",
    "ErrorReport",
    "JobError",
    "JobEvent",
    "JobResult",
    "ask",
    "complete",
    "debug",
    "document",
    "generate",
    "parse_error",
    "question_language",
    "review",
    "run_job",
    "sources_line",
]
