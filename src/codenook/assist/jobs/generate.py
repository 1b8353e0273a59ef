"""Generate: code to order, checked by the real tools, with one corrected attempt."""

from __future__ import annotations

from pathlib import Path

from codenook.assist.jobs.common import JobError, JobResult, JobRun, OnEvent, OnText
from codenook.assist.jobs.registry import TEXT, Job, register
from codenook.assist.prompts import (
    MAX_FINDINGS,
    fix_request,
    generate_request,
    job_words,
    no_code_request,
)
from codenook.assist.session import Answer, ChatSession
from codenook.assist.tools.check import ensure_parses
from codenook.assist.tools.code_blocks import first_block
from codenook.assist.tools.language import normalise_language
from codenook.assist.tools.lint import Finding, Validation, validate
from codenook.config import PromptSettings
from codenook.errors import UsageError
from codenook.safefile import (
    PROPOSED_SUFFIX,
    FileWriteError,
    check_target,
    keep_beside,
    write_file,
)


def _check(job: JobRun, answer: Answer, language: str) -> tuple[str | None, Validation]:
    block = first_block(answer.text, language)
    if block is None:
        missing = Finding(1, 1, "no-code", "The answer has no fenced code block.", "codenook")
        return None, Validation(False, [missing])
    validation = validate(block.code, language)
    cut = answer.result.finish_reason == "length"
    if cut or not block.closed:
        # Code that stops mid-way may still parse: it never passes as if it were whole.
        job.note("The code block was cut off (the answer hit its length limit).")
        lines = block.code.count("\n") + 1
        cutoff = Finding(lines, 1, "cut", "The code was cut off at the token limit.", "codenook")
        validation = Validation(False, [*validation.findings, cutoff])
    return block.code, validation


def _report(job: JobRun, validation: Validation, attempt: int) -> None:
    if validation.passed:
        job.event("validation", f"Attempt {attempt}: the code passes the checks.", validation)
        return
    lines = "\n".join(f"  {f}" for f in validation.findings[:MAX_FINDINGS])
    job.event(
        "validation",
        f"Attempt {attempt}: the code fails the checks ({len(validation.findings)}):\n{lines}",
        validation,
    )


def _check_output(output: str | Path | None, *, force: bool) -> Path | None:
    """The file to write the code to, refused before the model runs, not after the wait."""
    out = Path(output) if output is not None else None
    if out is None:
        return None
    if out.is_dir():
        raise JobError(f"{out} is a directory; give a file name to write the code to.")
    try:
        there = check_target(out, force=force)
    except FileWriteError as exc:
        raise JobError(str(exc)) from None
    if there is not None and not force:
        raise JobError(f"{out} exists; add --force to overwrite it (a backup is kept).")
    return out


def _first_answer(
    job: JobRun, description: str, *, context: bool, project: str | None
) -> tuple[str | None, Validation]:
    """Ask for the code (with the project's conventions when grounded) and check it."""
    lang = job.language or "python"
    request = generate_request(description, language=lang)
    if job.grounded(context):
        from codenook.assist.project import grounding  # numpy: loaded when a job grounds

        s = job.session
        request = job.ground(
            request,
            lambda count, room: grounding.for_generation(
                s.db, s.user, description, count_tokens=count, budget=room, project=project
            ),
        )
    answer = job.send(request)
    job.say_sources()
    code, validation = _check(job, answer, lang)
    job.result.attempts, job.result.findings = 1, list(validation.findings)
    _report(job, validation, 1)
    job.log_tools(
        answer, validation_passed=validation.passed, lint_findings=len(validation.findings)
    )
    return code, validation


def _retry(job: JobRun, code: str | None, validation: Validation) -> tuple[str | None, Validation]:
    """Ask once more with the checks' diagnostics; a second answer without code keeps the
    first code (something beats nothing)."""
    lang = job.language or "python"
    job.event("retry", "Asking the model to correct it.", validation.findings)
    job.on_text("\n\n")
    if code is None:
        request = no_code_request(language=lang)
    else:
        request = fix_request(code, validation.findings, language=lang)
    answer = job.send(request)
    again, validation_again = _check(job, answer, lang)
    job.result.attempts = 2
    _report(job, validation_again, 2)
    job.log_tools(
        answer,
        validation_passed=validation_again.passed,
        lint_findings=len(validation_again.findings),
    )
    if again is not None:
        return again, validation_again
    return code, validation


def _write(
    job: JobRun, out: Path, code: str | None, validation: Validation, *, force: bool
) -> None:
    """Write the final code to ``out``, saying whether it passes its checks."""
    r = job.result
    if code is None:
        job.note(f"No code to write; {out} was not created.")
        return
    if any(f.code == "cut" for f in validation.findings):
        proposed = keep_beside(out, code.encode("utf-8"), PROPOSED_SUFFIX)
        job.note(f"The code is incomplete, so {out} was not written; it is kept as {proposed}.")
        return
    # Parsed before it is written (refused and kept aside when it does not).
    ensure_parses(out, code, language=job.language or "python")
    # Without --force the file must still be absent now: one that appeared during
    # the answer is kept, and the code saved beside it.
    written = write_file(out, code, force=force, exclusive=not force, backup=force, propose=True)
    r.backup, r.written = written.backup, out
    state = "passes" if validation.passed else "does NOT pass"
    saved = f" (the old file is kept as {r.backup})" if r.backup else ""
    if written.replaced_link is not None:
        saved = (
            f" (it was a symbolic link to {written.replaced_link}; the link was "
            "replaced, what it pointed to is untouched)"
        )
    job.event("written", f"Wrote {out}{saved}; the code {state} the checks.", out)


def generate(
    session: ChatSession,
    description: str,
    *,
    language: str,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    retry: bool = True,
    output: str | Path | None = None,
    force: bool = False,
    context: bool = True,
    project: str | None = None,
) -> JobResult:
    """Write code for ``description``, check it, and try once more with the diagnostics.

    Python is checked with ``ast.parse`` and ruff, Bash with ``bash -n`` and ShellCheck.
    With ``output`` the final code is written there: never over a file without ``force``
    (checked again at the moment of writing), never through a symbolic link (``force``
    replaces the link itself, leaving what it points to alone).
    With the user's projects indexed, their conventions (the repository map and similar
    functions) go into the first request (``context=False``: not).
    """
    if not description.strip():
        raise UsageError("The description is empty; say what the code should do.")
    lang = normalise_language(language)
    out = _check_output(output, force=force)
    job = JobRun("generate", session, lang, on_text, on_event, prompts)
    if job.typed is None:
        job.typed = description  # shown as typed; the model gets the request around it
    code, validation = _first_answer(job, description, context=context, project=project)
    if not validation.passed and retry and not job.stop_note("it was not asked again"):
        code, validation = _retry(job, code, validation)
    job.result.code, job.result.validation = code, validation
    if out is not None and not job.stop_note(f"{out} was not written"):
        _write(job, out, code, validation, force=force)
    return job.result


#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
GENERATE_WORDS = (
    "You are codenook, writing {name} code to order. Reply with one complete, "
    "runnable program in a single fenced ```{lang} block, then at most two sentences. "
    "{common}"
)

JOB = register(
    Job(
        name="generate",
        label="Generate",
        run=generate,
        **job_words(GENERATE_WORDS),
        reads=TEXT,
        command="gen",
        help="generate Python or Bash code, check it (ast/ruff, bash -n/ShellCheck), retry once",
        needs_language=True,
    )
)
