"""A toy job, declared through the registry alone: no other file names it."""

from __future__ import annotations

from codenook.assist.jobs.common import JobResult, JobRun, OnEvent, OnText
from codenook.assist.jobs.registry import TEXT, Job
from codenook.assist.session import ChatSession
from codenook.config import PromptSettings

WORDS = "You are a town crier: repeat what you are given in capitals."


def shout(
    session: ChatSession,
    words: str,
    *,
    language: str | None = None,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
) -> JobResult:
    """Ask the model to shout ``words``."""
    job = JobRun("shout", session, language, on_text, on_event, prompts)
    job.send(f"Shout: {words}")
    return job.result


TOY = Job(
    name="shout",
    label="Shout",
    run=shout,
    python=WORDS,
    bash=WORDS,
    reads=TEXT,
    command="shout",
    help="shout the words given (a toy job for the tests)",
    routable=False,
)
