"""From the input area (job, language, text, attached file) to the job the window runs.

Pure logic, no Tk: the window calls :func:`plan` on the Tk thread (it is cheap) and hands
the result to a worker, which calls :func:`codenook.assist.jobs.run_job`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codenook.assist.tools.language import LanguageError, detect_language, from_extension
from codenook.errors import UsageError

LANGUAGES = ("Auto", "Python", "Bash")

_BASH_WORDS = re.compile(r"\b(bash|shell|sh script|shellscript|zsh)\b", re.I)
_TRACEBACK = re.compile(
    r"Traceback \(most recent call last\)|^\S*: line \d+: |^\w+(Error|Exception): ", re.M
)


@dataclass(frozen=True)
class JobRequest:
    """What to run: ``run_job(name, session, **options)``, and what the transcript shows."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    shown: str = ""
    #: Debug on pasted code: the worker writes this to a scratch file and runs that.
    scratch: str | None = None
    #: Ask/Generate with a file: the worker adds its text to the request as a fenced block.
    attach: str | None = None


def language_option(label: str) -> str | None:
    """The language selector's value as a job option: None for Auto."""
    value = label.strip().lower()
    if value in ("", "auto"):
        return None
    if value not in ("python", "bash"):
        raise UsageError(f"Unknown language {label!r}: choose Auto, Python or Bash.")
    return value


def override_note(language: str, attached: str | None) -> str:
    """What to tell the user when the chosen language is not the attached file's own.

    Empty when nothing is overridden (Auto, no file, or a file of that language). The
    extension tells the file's language: the choice wins, but never silently.
    """
    lang = language_option(language)
    own = from_extension(attached) if attached else None
    if lang is None or own is None or own == lang:
        return ""
    name = Path(attached or "").name
    return (
        f"{lang.capitalize()} was chosen: {name} is treated as {lang.capitalize()}, "
        f"not as the {own.capitalize()} its name says (choose Auto to follow the file)."
    )


def split_code(text: str) -> tuple[str, str]:
    """``(words, code)`` of an input: :func:`codenook.assist.tools.split.split_code`."""
    from codenook.assist.tools.split import split_code as split  # the one splitter

    return split(text)


def job_labels() -> tuple[str, ...]:
    """The job selector's choices: every registered job's label, read at the call.

    The registry is imported here, not with this module: the jobs and their tools cost
    ~0.2 s the window's first appearance need not wait for (a ``postcommand`` can fill
    the selector when it opens).
    """
    from codenook.assist.jobs import registry

    return tuple(job.label for job in registry.all_jobs())


def plan(job: str, language: str, text: str, attached: str | None = None) -> JobRequest:
    """Decide what the selected job runs on; a :class:`UsageError` says what is missing."""
    from codenook.assist.jobs import registry

    lang = language_option(language)
    found = registry.by_label(job)
    if found is None:
        raise UsageError(f"Unknown job {job!r}; choose one of {', '.join(job_labels())}.")
    if found.reads == registry.TEXT:
        return _text_job(found, lang, text, attached)
    if found.reads == registry.RUN:
        return _run_job(found, lang, text, attached)
    return _code_job(found, lang, text, attached, cursor=found.reads == registry.CURSOR)


def _text_job(job: Any, lang: str | None, text: str, attached: str | None) -> JobRequest:
    """A job on the words typed (Ask, Generate): they go in as its text argument."""
    keyword = job.text_keyword()
    if not text.strip():
        if keyword == "question":
            raise UsageError("Type a question first.")
        if keyword == "description":
            raise UsageError(f"Describe the code to {job.label.lower()} first.")
        raise UsageError(f"Type the text for {job.label} first.")
    if job.needs_language and lang is None:
        lang = "bash" if _BASH_WORDS.search(text.strip()) else "python"
    file = Path(attached).name if attached else None
    shown = text + (f"\n\n(attached: {file})" if file else "")
    return JobRequest(job.name, {keyword: text, "language": lang}, shown, attach=attached)


def _code_job(
    job: Any, lang: str | None, text: str, attached: str | None, *, cursor: bool
) -> JobRequest:
    """A job on code (Complete, Review, Document): the attached file, or pasted code."""
    source: dict[str, Any]
    if attached:
        source, shown = {"path": attached}, f"{job.label} {Path(attached).name}"
        if text.strip():
            shown += f"\n\n{text}"
    else:
        words, code = split_code(text)
        if not code.strip():
            raise UsageError(f"{job.label} needs code: paste it in the box or attach a file.")
        source, shown = {"source": code}, text
        if words and job.takes("request"):
            source["request"] = words  # the user's sentence is for the model, not the linter
    options: dict[str, Any] = {**source, "language": lang}
    if cursor and "source" in source:
        # The cursor is at the end of the code: complete what was written so far.
        # (An attached file is read by the worker, which then calls end_of.)
        options.update(end_of(source["source"]))
    return JobRequest(job.name, options, shown)


def _run_job(job: Any, lang: str | None, text: str, attached: str | None) -> JobRequest:
    """A job that runs code (Debug): the attached file, or pasted code in a scratch file."""
    words, code = split_code(text)
    error = text if _TRACEBACK.search(text) else None
    if attached:
        shown = f"{job.label} {Path(attached).name}" + (f"\n\n{text}" if text.strip() else "")
        options = {"path": attached, "language": lang, "error_text": error}
        return JobRequest(job.name, options, shown)
    if error is not None and not words and code == text:
        raise UsageError(f"{job.label} needs the file the error came from: attach it.")
    if not code.strip():
        raise UsageError(f"{job.label} needs code to run: paste it in the box or attach a file.")
    return JobRequest(job.name, {"language": lang}, text, scratch=code)


def with_file(text: str, name: str, code: str, language: str | None) -> str:
    """``text`` followed by a file's code as a fenced block, named."""
    fence = "````" if "```" in code else "```"
    return f"{text.rstrip()}\n\n{name}:\n{fence}{language or ''}\n{code.rstrip()}\n{fence}\n"


def end_of(code: str) -> dict[str, int]:
    """The 1-based ``line`` and ``column`` just after the last character of ``code``."""
    lines = code.split("\n")
    return {"line": len(lines), "column": len(lines[-1]) + 1}


def scratch_name(code: str, language: str | None) -> str:
    """A file name for pasted code that Debug runs: ``snippet.py`` or ``snippet.sh``."""
    try:
        lang = detect_language(code, path=None, override=language)
    except LanguageError:
        lang = "python"
    return "snippet.sh" if lang == "bash" else "snippet.py"
