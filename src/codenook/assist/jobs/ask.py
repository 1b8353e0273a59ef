"""Ask: a coding question, grounded in this machine's own documentation where it can be."""

from __future__ import annotations

import re

from codenook.assist.jobs.common import Job, JobResult, OnEvent, OnText
from codenook.assist.prompts import ask_request
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


def ask(
    session: ChatSession,
    question: str,
    *,
    language: str | None = None,
    lookup: bool = True,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
) -> JobResult:
    """Answer ``question`` with excerpts of pydoc, Bash ``help`` or ``man`` in the prompt.

    The excerpts are bounded to what the context can spare; ``result.sources`` names
    the ones the prompt held (none when nothing in the question could be looked up).
    """
    if not question.strip():
        raise UsageError("The question is empty.")
    lang = normalise_language(language) if language else question_language(question)
    job = Job("ask", session, lang, on_text, on_event, prompts)
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
    answer = job.send(ask_request(question, excerpts))
    job.log_tools(answer, sources=r.sources)
    line = sources_line(r.sources)
    if line:
        job.event("sources", line, r.sources)
    return r
