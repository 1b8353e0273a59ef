"""Debug: a real failure (a sandbox run or a pasted traceback), its cause, a fix, a check."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePath

from codenook.assist.jobs.common import (
    ErrorReport,
    JobResult,
    JobRun,
    OnEvent,
    OnText,
    load_source,
)
from codenook.assist.jobs.common import resolve_language as _language
from codenook.assist.jobs.registry import RUN, Job, register
from codenook.assist.jobs.review import strip_line_numbers
from codenook.assist.prompts import debug_request, job_words
from codenook.assist.session import Answer, ChatSession
from codenook.assist.tools import sandbox
from codenook.assist.tools.diffs import DiffError, apply_diff, extract_diff
from codenook.config import PromptSettings

#: The error output that goes into the prompt: its end, where the error is.
ERROR_CHARS = 3000

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?\s*$')
_EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::[ \t]?(?P<msg>.*))?$")
_BASH = re.compile(r"^(?P<file>[^:\n]+): line (?P<line>\d+): (?P<msg>.*)$")


def _same_file(a: str, b: str | None) -> bool:
    return b is not None and PurePath(a).name == PurePath(b).name


def parse_python_error(output: str, *, filename: str | None = None) -> ErrorReport | None:
    """The exception at the end of a Python traceback, at its last frame in ``filename``."""
    lines = output.replace("\r\n", "\n").split("\n")
    frames = [(i, m) for i, ln in enumerate(lines) if (m := _FRAME.match(ln))]
    if not frames:
        return None
    last_frame = frames[-1][0]
    exc_type, message = None, ""
    for ln in lines[last_frame + 1 :]:
        if ln and not ln[0].isspace() and (m := _EXCEPTION.match(ln)):
            exc_type, message = m.group("type"), (m.group("msg") or "").strip()
            break
    if exc_type is None:
        return None
    # A chained traceback repeats frames: the frames of the last traceback are the ones
    # after its "Traceback (most recent call last):" (a SyntaxError has no such line).
    start = max((i for i, ln in enumerate(lines) if ln.startswith("Traceback (")), default=-1)
    last = [m for i, m in frames if i > start] or [m for _, m in frames]
    mine = [m for m in last if _same_file(m.group("file"), filename)]
    frame = (mine or last)[-1]
    file = filename if mine and filename else frame.group("file")
    return ErrorReport(exc_type, message, file, int(frame.group("line")), frame.group("func"))


def parse_bash_error(output: str, *, filename: str | None = None) -> ErrorReport | None:
    """The last ``FILE: line N: message`` Bash printed about ``filename``."""
    found = [m for ln in output.replace("\r\n", "\n").split("\n") if (m := _BASH.match(ln))]
    if not found:
        return None
    mine = [m for m in found if _same_file(m.group("file"), filename)]
    m = (mine or found)[-1]
    file = filename if mine and filename else m.group("file")
    return ErrorReport("Bash error", m.group("msg").strip(), file, int(m.group("line")))


def parse_error(output: str, *, language: str, filename: str | None = None) -> ErrorReport | None:
    """The error in a program's error output, for its language."""
    if language == "python":
        return parse_python_error(output, filename=filename)
    return parse_bash_error(output, filename=filename)


def _from_run(run: sandbox.RunResult, *, language: str, filename: str) -> ErrorReport | None:
    """The error of a sandbox run, or None when it ended well."""
    if run.ended is sandbox.Ended.EXIT and run.exit_code == 0:
        return None
    found = parse_error(run.stderr, language=language, filename=filename)
    if found is not None:
        return found
    if run.ended is not sandbox.Ended.EXIT:
        return ErrorReport(f"Stopped ({run.ended.value})", run.detail, filename)
    last = next((ln for ln in reversed(run.stderr.splitlines()) if ln.strip()), "")
    return ErrorReport(f"Exit status {run.exit_code}", last.strip(), filename)


def _tail(text: str, limit: int = ERROR_CHARS) -> str:
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def _find_error(
    job: JobRun,
    path: str | Path,
    name: str,
    *,
    error_text: str | None,
    args: Sequence[str],
    limits: sandbox.Limits | None,
) -> str | None:
    """Run the file (or read ``error_text``) and keep its error; returns the error output.

    None: the file ran without an error, and there is nothing to debug.
    """
    r, lang = job.result, job.language or "python"
    if error_text is None:
        run = sandbox.run_file(path, language=lang, args=args, limits=limits)
        r.runs.append(run)
        r.error = _from_run(run, language=lang, filename=name)
        if r.error is None:
            job.event("run", f"Ran {name} in the sandbox: {run.summary()}", run)
            job.note(f"{name} ran without an error (exit 0); there is nothing to debug.")
            return None
        return run.stderr
    r.error = parse_error(error_text, language=lang, filename=name)
    if r.error is None:
        last = next((ln for ln in reversed(error_text.splitlines()) if ln.strip()), "")
        r.error = ErrorReport("Error", last.strip()[:300])
        job.note("No traceback or Bash error line was found in the error text.")
    return error_text


def _ask(
    job: JobRun, path: str | Path, name: str, text: str, output: str, *, context: bool,
    project: str | None,
) -> Answer:  # fmt: skip
    """Show the error, then ask for its cause and a fix (with the project's code when grounded)."""
    r, lang, s = job.result, job.language or "python", job.session
    assert r.error is not None
    where = r.error.where + (f" (in {r.error.function})" if r.error.function else "")
    ran = f"\n(ran in the sandbox: {r.runs[0].summary()})" if r.runs else ""
    job.event("error", f"{r.error.headline}\n  at {where}{ran}", r.error)
    reserve = 400 + len(_tail(output)) // 3 + job.context_reserve(context)
    request = debug_request(
        name, text, r.error.headline, where, _tail(output),
        language=lang, budget_chars=job.budget(reserve_tokens=reserve),
    )  # fmt: skip
    if job.grounded(context):
        from codenook.assist.project import grounding  # numpy: loaded when a job grounds

        request = job.ground(
            request,
            lambda count, room: grounding.for_code(
                s.db, s.user, text, language=lang, path=str(path), count_tokens=count,
                budget=room, project=project,
            ),
        )  # fmt: skip
    answer = job.send(request, grammar=job.edit_grammar(text, name))
    job.say_sources()
    if r.runs:
        job.log_tools(answer, sandbox_exit=r.runs[0].exit_code)
    return answer


def _verify(
    job: JobRun,
    answer: Answer,
    text: str,
    name: str,
    *,
    args: Sequence[str],
    limits: sandbox.Limits | None,
) -> None:
    """Apply the fix to a copy, run it in the sandbox and say whether the error is gone."""
    r, lang = job.result, job.language or "python"
    assert r.diff is not None and r.error is not None
    try:
        fixed = apply_diff(text, r.diff, name=name)
    except DiffError as exc:
        job.event("not_applied", f"The fix cannot be verified: {exc}", exc)
        r.notes.append(str(exc))
        return
    r.text = fixed.text
    run = sandbox.run_code(fixed.text, language=lang, args=args, limits=limits, filename=name)
    r.runs.append(run)
    after = _from_run(run, language=lang, filename=name)
    r.error_gone = after is None or after.headline != r.error.headline
    job.log_tools(answer, verify_exit=run.exit_code, error_gone=r.error_gone)
    if after is None:
        verdict = "The error is gone: the fixed copy ran without an error (exit 0)."
    elif r.error_gone:
        verdict = (
            "The error is gone, but the fixed copy fails otherwise: "
            f"{after.headline} at {after.where}."
        )
    else:
        verdict = f"The error is still there: {after.headline} at {after.where}."
    job.event("verify", f"{verdict} ({run.summary()})", run)
    r.notes.append(verdict)


def debug(
    session: ChatSession,
    *,
    path: str | Path,
    args: Sequence[str] = (),
    error_text: str | None = None,
    language: str | None = None,
    verify: bool = False,
    limits: sandbox.Limits | None = None,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    context: bool = True,
    project: str | None = None,
) -> JobResult:
    """Run ``path`` in the sandbox (or read ``error_text``), explain the failure, propose a fix.

    With the user's projects indexed, the definitions the code calls and its callers go
    into the prompt too (``context=False``: not).

    With ``verify`` the fix is applied to a copy that runs in the sandbox; the file
    itself is never changed, and without ``verify`` nothing runs a second time.
    """
    text, name = load_source(path, None, what="debug")
    lang, note = _language(text, path=path, override=language)
    job = JobRun("debug", session, lang, on_text, on_event, prompts)
    if note:
        job.note(note)
    r = job.result
    output = _find_error(job, path, name, error_text=error_text, args=args, limits=limits)
    if output is None:
        return r
    answer = _ask(job, path, name, text, output, context=context, project=project)
    diff = extract_diff(answer.text)
    if diff is None:
        if verify:
            job.note("The answer has no diff, so there is no fix to verify.")
        return r
    r.diff = strip_line_numbers(diff)
    job.event("diff", r.diff)
    if verify and not job.stop_note("the fix was not verified"):
        _verify(job, answer, text, name, args=args, limits=limits)
    return r


#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
DEBUG_WORDS = (
    "You are codenook, debugging {name}. From the code and the error, explain the "
    "cause in a few sentences, then give the smallest fix as a unified diff against the "
    "file in a ```diff block."
)

JOB = register(
    Job(
        name="debug",
        label="Debug",
        run=debug,
        **job_words(DEBUG_WORDS),
        reads=RUN,
        command="debug",
        help="run a file in the sandbox (or read a pasted traceback), explain the error, "
        "propose a fix",
        drafts=True,
    )
)
