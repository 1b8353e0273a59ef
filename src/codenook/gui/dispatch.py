"""From the input area (job, language, text, attached file) to the job the window runs.

Pure logic, no Tk: the window calls :func:`plan` on the Tk thread (it is cheap) and hands
the result to a worker, which calls :func:`codenook.assist.jobs.run_job`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codenook.assist.tools.language import LanguageError, detect_language
from codenook.errors import UsageError

JOBS = ("Ask", "Generate", "Complete", "Review", "Debug", "Document")
LANGUAGES = ("Auto", "Python", "Bash")

# One fenced block in the input box: ```lang\n...\n```.
_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)
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


def split_code(text: str) -> tuple[str, str]:
    """``(words, code)`` of an input: the first fenced block is the code, the rest words.

    Without a fence the whole text is the code (a paste), and there are no words.
    """
    m = _FENCE.search(text)
    if m is None:
        return "", text
    words = (text[: m.start()] + text[m.end() :]).strip()
    return words, m.group(3)


def plan(job: str, language: str, text: str, attached: str | None = None) -> JobRequest:
    """Decide what the selected job runs on; a :class:`UsageError` says what is missing."""
    lang = language_option(language)
    name = job.strip().lower()
    file = Path(attached).name if attached else None
    shown_file = f"\n\n(attached: {file})" if file else ""
    if name == "ask":
        if not text.strip():
            raise UsageError("Type a question first.")
        options = {"question": text, "language": lang}
        return JobRequest("ask", options, text + shown_file, attach=attached)
    if name == "generate":
        description = text.strip()
        if not description:
            raise UsageError("Describe the code to generate first.")
        chosen = lang or ("bash" if _BASH_WORDS.search(description) else "python")
        options = {"description": text, "language": chosen}
        return JobRequest("generate", options, text + shown_file, attach=attached)
    if name in ("complete", "review", "document"):
        source: dict[str, Any]
        if attached:
            source, shown = {"path": attached}, f"{job} {file}"
            if text.strip():
                shown += f"\n\n{text}"
        else:
            _, code = split_code(text)
            if not code.strip():
                raise UsageError(f"{job} needs code: paste it in the box or attach a file.")
            source, shown = {"source": code}, text
        options: dict[str, Any] = {**source, "language": lang}
        if name == "complete" and "source" in source:
            # The cursor is at the end of the code: complete what was written so far.
            # (An attached file is read by the worker, which then calls end_of.)
            options.update(end_of(source["source"]))
        return JobRequest(name, options, shown)
    if name == "debug":
        words, code = split_code(text)
        error = text if _TRACEBACK.search(text) else None
        if attached:
            shown = f"Debug {file}" + (f"\n\n{text}" if text.strip() else "")
            options = {"path": attached, "language": lang, "error_text": error}
            return JobRequest("debug", options, shown)
        if error is not None and not words and code == text:
            raise UsageError("Debug needs the file the error came from: attach it.")
        if not code.strip():
            raise UsageError("Debug needs code to run: paste it in the box or attach a file.")
        return JobRequest("debug", {"language": lang}, text, scratch=code)
    raise UsageError(f"Unknown job {job!r}; choose one of {', '.join(JOBS)}.")


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
