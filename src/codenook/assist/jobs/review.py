"""Review: the linters first, then the model on top of them, and a diff applied all or nothing."""

from __future__ import annotations

import re
from pathlib import Path

from codenook.assist.jobs.common import JobResult, JobRun, OnEvent, OnText, load_source_to_write
from codenook.assist.jobs.common import resolve_language as _language
from codenook.assist.jobs.registry import CODE, Job, register
from codenook.assist.prompts import job_words, review_request
from codenook.assist.session import ChatSession
from codenook.assist.tools.diffs import DiffError, apply_diff, extract_diff, parse_hunks
from codenook.assist.tools.files import write_source
from codenook.assist.tools.lint import BROAD_RULES, Finding, ruff_findings, shellcheck_findings
from codenook.config import PromptSettings
from codenook.safefile import Snapshot

_NUMBERED = re.compile(r"^([ +-])\s*\d+ \| ?")


def lint(text: str, *, language: str, name: str = "snippet.py") -> list[Finding]:
    """The review's findings: ruff with the broad rule set, or ShellCheck at every level."""
    if language == "python":
        return ruff_findings(text, rules=BROAD_RULES, filename=name)
    return shellcheck_findings(text)


def findings_block(findings: list[Finding], *, tool: str, name: str) -> str:
    """The findings as printed before the review: ``line:col CODE message``, one a line."""
    if not findings:
        return f"{tool}: no findings in {name}."
    rows = [f"{tool}: {len(findings)} finding(s) in {name}:"]
    rows += [f"  {f.line}:{f.column} {f.code} {f.message}" for f in findings]
    return "\n".join(rows)


def strip_line_numbers(diff: str) -> str:
    """A diff without the ``12 | `` prefixes a model copied from the numbered listing."""
    body = [
        ln
        for ln in diff.splitlines()
        if ln[:1] in (" ", "+", "-") and not ln.startswith(("+++", "---"))
    ]
    if not body or sum(1 for ln in body if _NUMBERED.match(ln)) * 2 < len(body):
        return diff
    out = []
    for ln in diff.splitlines(keepends=True):
        if ln.startswith(("+++", "---")):
            out.append(ln)
        else:
            out.append(_NUMBERED.sub(r"\1", ln, count=1))
    return "".join(out)


def apply_proposed(
    job: JobRun,
    text: str,
    diff: str,
    *,
    path: str | Path | None,
    name: str,
    read: Snapshot | None = None,
) -> str | None:
    """Apply ``diff`` to ``text`` (and ``path``), all or nothing; the new text, or None.

    ``read`` is what was read of ``path``: a file changed since is not written over.
    """
    r = job.result
    try:
        applied = apply_diff(text, diff, name=name)
    except DiffError as exc:
        r.notes.append(str(exc))
        job.event("not_applied", str(exc), exc)
        return None
    if applied.text == text:
        job.note("The diff changes nothing; the file is unchanged.")
        return None
    r.text, r.applied = applied.text, True
    for h in applied.inexact:
        how = f"moved {h.offset:+d} lines" if h.offset else ""
        fuzz = f"with fuzz {h.fuzz}" if h.fuzz else ""
        said = ", ".join(filter(None, [how, fuzz]))
        job.note(f"Hunk {h.number} applied at line {h.line} ({said}).")
    if path is not None:
        r.backup = write_source(
            path, applied.text, backup=True, expect=read, exclusive=read is None,
            language=job.language, old=text,
        )  # fmt: skip
        r.written = Path(path)
    return applied.text


def _prompt(
    job: JobRun, name: str, text: str, *, ask: str, path: str | None, context: bool,
    project: str | None,
) -> str:  # fmt: skip
    """The review request: the findings, the listing, the user's words, the project context."""
    lang = job.language or "python"
    held = job.context_reserve(context)
    budget = job.budget(reserve_tokens=400 + held)
    findings = job.result.findings
    request = review_request(name, text, findings, language=lang, budget_chars=budget, ask=ask)
    if not held:
        return request
    from codenook.assist.project import grounding  # numpy: loaded when a job grounds

    s = job.session
    return job.ground(
        request,
        lambda count, room: grounding.for_code(
            s.db, s.user, text, language=lang, path=path, count_tokens=count,
            budget=room, project=project,
        ),
    )  # fmt: skip


def review(
    session: ChatSession,
    *,
    path: str | Path | None = None,
    source: str | None = None,
    language: str | None = None,
    apply: bool = False,
    read: Snapshot | None = None,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    context: bool = True,
    project: str | None = None,
    request: str | None = None,
) -> JobResult:
    """Lint the file, have the model review it and propose a diff; ``apply`` applies it.

    ``request`` is what the user wrote beside the code ("Please review this:"): it goes to
    the model as their request and is never linted.

    With the user's projects indexed, the definitions the code calls and the places that
    call it go into the prompt too (``context=False``: not).

    Applying keeps a backup (``FILE.orig``), writes atomically and lints again; a diff
    that does not apply leaves the file as it was and says which hunk failed. A file
    changed since it was read (``read``, or at the start) is left alone and the change
    saved beside it (:class:`~codenook.safefile.FileChangedError`).
    """
    text, name, read = load_source_to_write(path, source, read, what="review", write=apply)
    lang, note = _language(text, path=path, override=language)
    job = JobRun("review", session, lang, on_text, on_event, prompts)
    if note:
        job.note(note)
    r = job.result
    tool = "ruff" if lang == "python" else "ShellCheck"
    lint_name = name if name.endswith((".py", ".pyi")) else "snippet.py"
    r.findings = lint(text, language=lang, name=lint_name)
    job.event("findings", findings_block(r.findings, tool=tool, name=name), r.findings)

    at = str(path) if path is not None else None
    prompt = _prompt(job, name, text, ask=request or "", path=at, context=context, project=project)
    answer = job.send(prompt, grammar=job.edit_grammar(text, name))
    job.say_sources()
    job.log_tools(answer, lint_findings=len(r.findings))
    diff = extract_diff(answer.text)
    if diff is None:
        if apply:
            job.note("The review has no diff; nothing was changed.")
        return r
    diff = strip_line_numbers(diff)
    r.diff = diff
    try:
        hunks = len(parse_hunks(diff, text=text))
    except DiffError as exc:
        hunks = 0
        job.note(str(exc))
    job.event("diff", diff, hunks)
    if not apply or job.stop_note("its diff was not applied"):
        return r
    new = apply_proposed(job, text, diff, path=path, name=name, read=read)
    if new is None:
        job.log_tools(answer, diff_applied=False)
        return r
    r.findings_after = lint(new, language=lang, name=lint_name)
    job.log_tools(answer, diff_applied=True, lint_findings_after=len(r.findings_after))
    where = f"{r.written} (backup: {r.backup})" if r.written else "the code"
    job.event(
        "applied",
        f"Applied to {where}. {tool} findings: {len(r.findings)} -> {len(r.findings_after)}.",
        r.findings_after,
    )
    return r


#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
REVIEW_WORDS = (
    "You are codenook, a careful {name} code reviewer. Explain the linter findings "
    "you are given, add the problems a linter cannot see (logic, naming, error handling, "
    "performance, security), and propose one change as a unified diff against the file in "
    "a ```diff block. {common}"
)

JOB = register(
    Job(
        name="review",
        label="Review",
        run=review,
        **job_words(REVIEW_WORDS),
        reads=CODE,
        command="review",
        help="review a file: ruff or ShellCheck findings first, then the model's review and a diff",
        drafts=True,
    )
)
