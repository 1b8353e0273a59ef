"""Ask: a coding question, grounded in this machine's own documentation where it can be."""

from __future__ import annotations

import re

from codenook.assist.jobs.common import JobResult, JobRun, OnEvent, OnText
from codenook.assist.jobs.registry import TEXT, Job, register
from codenook.assist.prompts import ask_request, job_words
from codenook.assist.session import ChatSession
from codenook.assist.tools import docs
from codenook.assist.tools.language import normalise_language
from codenook.config import PromptSettings
from codenook.errors import UsageError

_BASH_WORDS = {"bash", "shell", "sh", "shellcheck", "posix"}


def question_language(question: str) -> str | None:
    """Which language a question is about: named outright, else the one whose names it uses."""
    words = set(re.findall(r"[a-z]+", question.lower()))
    if words & _BASH_WORDS:
        return "bash"
    if "python" in words:
        return "python"
    for language in ("python", "bash"):
        if docs.names_in(question, language=language):
            return language
    return None


def sources_line(sources: list[str]) -> str:
    """``Sources: pydoc subprocess.run, bash help read``, or "" when none were used."""
    return f"Sources: {', '.join(sources)}" if sources else ""


def prepare(
    session: ChatSession,
    question: str,
    *,
    language: str | None = None,
    lookup: bool = True,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    context: bool = True,
    project: str | None = None,
) -> tuple[JobRun, str]:
    """The ask job and its request, grounded, as it would be sent (``codenook context show``)."""
    if not question.strip():
        raise UsageError("The question is empty.")
    lang = normalise_language(language) if language else question_language(question)
    job = JobRun("ask", session, lang, on_text, on_event, prompts)
    r = job.result
    excerpts: list[docs.DocExcerpt] = []
    if lookup and lang is not None:
        room = job.budget(reserve_tokens=300 + len(question) // 3) // 2
        total = min(docs.TOTAL_CHARS, room)
        if total >= 200:
            excerpts = docs.lookup(
                question,
                language=lang,
                total_chars=total,
                excerpt_chars=min(docs.EXCERPT_CHARS, total),
            )
    r.sources = [e.source for e in excerpts]
    if job.typed is None:
        job.typed = question  # the history shows the question, not the excerpts around it
    request = ask_request(question, excerpts)
    if job.grounded(context):
        from codenook.assist.project import grounding  # numpy: loaded when a job grounds

        s = session
        request = job.ground(
            request,
            lambda count, budget: grounding.for_question(
                s.db, s.user, question, count_tokens=count, budget=budget, project=project
            ),
        )
    return job, request


def ask(
    session: ChatSession,
    question: str,
    *,
    language: str | None = None,
    lookup: bool = True,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    context: bool = True,
    project: str | None = None,
) -> JobResult:
    """Answer ``question`` with the user's project passages and local docs in the prompt.

    Passages of the user's indexed projects (``project``: one of them; ``context=False``:
    none) and excerpts of pydoc, Bash ``help`` or ``man`` are bounded to what the context
    can spare; ``result.sources`` names the ones the prompt held.
    """
    job, request = prepare(
        session,
        question,
        language=language,
        lookup=lookup,
        on_text=on_text,
        on_event=on_event,
        prompts=prompts,
        context=context,
        project=project,
    )
    r = job.result
    answer = job.send(request)
    job.log_tools(answer, sources=r.sources)
    line = sources_line(r.sources)
    if line:
        job.event("sources", line, r.sources)
    return r


# The chat's own prompt: a question asked in the window and with `codenook ask` alike.
# The grounding instruction travels with the excerpts, in the request.
#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
ASK_WORDS = "{default}"

JOB = register(
    Job(
        name="ask",
        label="Ask",
        run=ask,
        **job_words(ASK_WORDS),
        reads=TEXT,
        command="ask",
        help="ask one coding question and stream the answer (grounded in pydoc, help, man; kept)",
    )
)
