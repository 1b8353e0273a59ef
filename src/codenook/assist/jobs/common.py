"""What every job shares: its result, the events it reports, and the session it talks in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codenook.assist import interactions
from codenook.assist.jobs.registry import JobError, drafts
from codenook.assist.prompts import code_budget, system_prompt
from codenook.assist.session import Answer, ChatSession, drafting
from codenook.assist.tools.check import ParseProblem
from codenook.assist.tools.files import SourceFileError, read_source, read_source_snapshot
from codenook.assist.tools.language import (
    Language,
    LanguageError,
    content_signs,
    detect_language,
    from_extension,
)
from codenook.assist.tools.lint import Finding, Validation
from codenook.assist.tools.sandbox import RunResult
from codenook.config import PromptSettings
from codenook.engine.backend import GenerationOptions, TokenStream
from codenook.errors import GenerationError
from codenook.safefile import Snapshot, snapshot
from codenook.store import conversations as store

if TYPE_CHECKING:
    from codenook.assist.project import grounding


@dataclass(frozen=True)
class JobEvent:
    """Something a tool found while a job runs, for the face to show as it happens.

    ``kind`` says what (``findings``, ``error``, ``diff``, ``applied``, ``not_applied``,
    ``validation``, ``retry``, ``run``, ``verify``, ``target``, ``written``, ``note``);
    ``text`` is ready to print; ``data`` carries the objects behind it.
    """

    kind: str
    text: str
    data: Any = None


@dataclass(frozen=True)
class ErrorReport:
    """A failure read from a traceback or a Bash error: what, and where in the user's file."""

    exception: str
    message: str
    file: str | None = None
    line: int | None = None
    function: str | None = None

    @property
    def headline(self) -> str:
        """``Type: message`` (or just the type)."""
        return f"{self.exception}: {self.message}" if self.message else self.exception

    @property
    def where(self) -> str:
        """``file:line``, or what is known of it."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or "an unknown place"


@dataclass
class JobResult:
    """A job's answer(s) and what the tools found, said honestly."""

    job: str
    language: str | None
    #: Every answer of the job, in order (generate's retry, one per docstring ...).
    answers: list[Answer] = field(default_factory=list)
    #: generate: the final code; complete: the inserted text only.
    code: str | None = None
    #: generate: the final code's checks.
    validation: Validation | None = None
    #: The linters' findings on the file (review), or the first code's (generate).
    findings: list[Finding] = field(default_factory=list)
    #: review --apply: the findings on the changed file.
    findings_after: list[Finding] | None = None
    diff: str | None = None
    applied: bool = False
    #: The whole new text of the file (complete/review applied, document).
    text: str | None = None
    written: Path | None = None
    backup: Path | None = None
    attempts: int = 0
    #: ask: the documentation sources that went into the prompt.
    sources: list[str] = field(default_factory=list)
    #: Sandbox runs: debug's run of the file, then --verify's run of the fixed copy.
    runs: list[RunResult] = field(default_factory=list)
    error: ErrorReport | None = None
    #: debug --verify: whether the original error is gone (None when not verified).
    error_gone: bool | None = None
    #: document: qualified name (or Bash function, ``<usage>``) -> the text inserted.
    docs: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: complete: why the file with the completion would not parse (None: it parses).
    parse_problem: ParseProblem | None = None

    @property
    def answer(self) -> Answer | None:
        """The last answer, if the model was asked at all."""
        return self.answers[-1] if self.answers else None

    @property
    def passed(self) -> bool | None:
        """generate: whether the final code passed its checks."""
        return None if self.validation is None else self.validation.passed

    def summary(self) -> dict[str, Any]:
        """Plain data for the window and --json: the figures, not the objects."""
        return {
            "job": self.job,
            "language": self.language,
            "conversation_id": self.answer.conversation_id if self.answer else None,
            "attempts": self.attempts,
            "passed": self.passed,
            "findings": len(self.findings),
            "findings_after": None if self.findings_after is None else len(self.findings_after),
            "diff": self.diff is not None,
            "applied": self.applied,
            "written": str(self.written) if self.written else None,
            "backup": str(self.backup) if self.backup else None,
            "sources": list(self.sources),
            "error": self.error.headline if self.error else None,
            "error_gone": self.error_gone,
            "notes": list(self.notes),
        }


OnText = Callable[[str], None]
OnEvent = Callable[[JobEvent], None]


def _ignore(_: object) -> None:
    pass


@dataclass
class JobRun:
    """One job's run: the session it talks in, its callbacks, and the result it fills."""

    name: str
    session: ChatSession
    language: str | None
    on_text: OnText
    on_event: OnEvent | None = None
    prompts: PromptSettings | None = None
    result: JobResult = field(init=False)
    #: The job's system prompt (what one-off requests send; new conversations start with).
    system: str = field(init=False, default="")
    _preface: str = field(init=False, default="")
    #: The project context added to the request (None: not grounded, or no projects).
    context: grounding.Context | None = field(init=False, default=None)
    #: What the user typed for this job (the window's box, a question): the history shows
    #: it as their first turn; later turns show their request's first line.
    typed: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.result = JobResult(self.name, self.language)
        # Handed in by run_job(shown=...) for this job only.
        self.typed, self.session.typed = self.session.typed, None
        wanted = self.system = system_prompt(self.name, self.language, self.prompts)
        s = self.session
        if s.conversation_id is None:
            s.system_prompt = wanted
        elif s.system_prompt != wanted and self.name != "ask":
            # A conversation keeps the system prompt it started with (changing it would
            # also throw away the model's cached prefix), so the job's instructions ride
            # along in the request, where the history shows them.
            self._preface = f"Instructions for this request: {wanted}\n\n"

    @property
    def stopped(self) -> bool:
        """Whether the user stopped an answer: then the job goes no further."""
        return any(a.result.finish_reason == "cancelled" for a in self.result.answers)

    def stop_note(self, what: str) -> bool:
        """If the user stopped an answer, say that ``what`` was not done; returns stopped."""
        if self.stopped:
            self.note(f"The answer was stopped, so {what}.")
        return self.stopped

    def log_tools(self, answer: Answer | None, **results: Any) -> None:
        """Put what the tools found beside ``answer`` in the interaction log (codenook log)."""
        if answer is not None and results:
            s = self.session
            interactions.record_tool_results(s.db, s.user, answer.message_id, results)

    def event(self, kind: str, text: str, data: Any = None) -> None:
        """Report what a tool found, as it happens."""
        (self.on_event or _ignore)(JobEvent(kind, text, data))

    def note(self, text: str) -> None:
        """Keep a remark in the result and report it."""
        self.result.notes.append(text)
        self.event("note", text)

    def shown_for(self, request: str) -> str:
        """What the history shows for ``request``: what the user typed, on the job's first
        turn; else the request's first line ("Review tool.py (Python, 9 lines).")."""
        if self.typed is not None and not self.result.answers:
            return self.typed
        return request.split("\n", 1)[0]

    def send(self, text: str, *, grammar: str | None = None) -> Answer:
        """A chat turn in the session, stored with this job's task and language
        (``grammar``: the GBNF grammar the answer must follow, see :meth:`edit_grammar`)."""
        new = self.session.conversation_id is None
        answer = self.session.send(
            self._preface + text,
            on_text=self.on_text,
            task=self.name,
            language=self.language,
            shown=self.shown_for(text),
            drafts=drafts(self.name),
            grammar=grammar,
        )
        self._title(new, text)
        self.result.answers.append(answer)
        return answer

    def edit_grammar(self, text: str, name: str) -> str | None:
        """The grammar for an answer that explains and ends in a diff of ``text`` (called
        ``name``): every hunk reads the file's own lines. None, with a note saying why,
        where the runtime takes no grammar or the file is too long for one; None where the
        ``edit_grammar`` setting is off."""
        if not self.session.options.edit_grammar:
            return None
        if not self.session.backend.info.grammars:
            runtime = self.session.backend.info.runtime
            self.note(f"The {runtime} runtime takes no grammar, so the diff is not held to one.")
            return None
        from codenook.engine.grammars import unified_diff_grammar  # llama_cpp: when used

        try:
            return unified_diff_grammar(text, name=name, prose=True)
        except GenerationError as exc:
            self.note(str(exc))
            return None

    @property
    def options(self) -> GenerationOptions:
        """The session's options for this job's one-off requests, drafting resolved."""
        return drafting(self.session.options, drafts(self.name))

    def _title(self, new: bool, text: str) -> None:
        """A job's conversation is named by its request's first line ("Review tool.py ...")."""
        s = self.session
        if new and s.conversation_id is not None:
            store.rename_conversation(
                s.db, s.user.id, s.conversation_id, store.make_title(text.split("\n", 1)[0])
            )

    def record(
        self,
        text: str,
        start: Callable[[], TokenStream],
        *,
        on_text: OnText | None = None,
        ended: Callable[[], bool] | None = None,
    ) -> Answer:
        """A one-off exchange (no history sent) that the conversation still keeps.

        ``start`` opens the stream with its own prompt, so no preface is added to ``text``.
        """
        new = self.session.conversation_id is None
        answer = self.session.record(
            text,
            start=start,
            on_text=on_text or self.on_text,
            task=self.name,
            language=self.language,
            ended=ended,
            shown=self.shown_for(text),
        )
        self._title(new, text)
        self.result.answers.append(answer)
        return answer

    def budget(self, *, reserve_tokens: int = 400) -> int:
        """Characters of code that fit this session's context next to the answer."""
        b = self.session.backend
        return code_budget(
            b.info.context_length, self.session.options.max_tokens, reserve_tokens=reserve_tokens
        )

    def grounded(self, enabled: bool) -> bool:
        """Whether this job adds project context: asked for, and the user has projects."""
        s = self.session
        from codenook.assist.project import grounding  # numpy: loaded when a job grounds

        return enabled and grounding.has_projects(s.db, s.user)

    def context_reserve(self, enabled: bool) -> int:
        """Tokens a job holds back from its code for project context (0 when not grounded)."""
        if not self.grounded(enabled):
            return 0
        from codenook.assist.project import grounding

        return grounding.share(self.session)

    def ground(
        self, request: str, select: Callable[[grounding.CountTokens, int], grounding.Context]
    ) -> str:
        """``request`` with the project context ``select(count_tokens, budget)`` picks.

        The budget is what the context has left after the system prompt, kept history,
        this request and the answer's room, counted before anything is added; what did
        not fit is said in a note.
        """
        from codenook.assist.project import grounding

        s = self.session
        budget = grounding.room(s, self._preface + request)
        ctx = self.context = select(s.backend.count_tokens, budget)
        self.result.sources += ctx.sources
        if ctx.note():
            self.note(ctx.note())
        return grounding.with_context(request, ctx)

    def say_sources(self) -> None:
        """End the answer with its sources (``Sources: path:line, ...``) when it had any."""
        if self.result.sources:
            self.event("sources", f"Sources: {', '.join(self.result.sources)}", self.result.sources)


def load_source(path: str | Path | None, source: str | None, *, what: str) -> tuple[str, str]:
    """The text to work on and its display name; an empty text is refused."""
    if source is None:
        if path is None:
            raise JobError(f"Nothing to {what}: give a file.")
        source = read_source(path)
    name = Path(path).name if path is not None else "the code"
    if not source.strip():
        where = str(path) if path is not None else "The code"
        raise SourceFileError(f"{where} is empty; there is nothing to {what}.")
    return source, name


def load_source_to_write(
    path: str | Path | None,
    source: str | None,
    read: Snapshot | None,
    *,
    what: str,
    write: bool = True,
) -> tuple[str, str, Snapshot | None]:
    """Like :func:`load_source`, plus what was read of ``path`` for the write's conflict check.

    ``read`` is the caller's snapshot when it read the file itself; a ``source`` given
    without one is checked against the file as it is now (when the job will ``write``),
    before the model runs.
    """
    if source is None and path is not None:
        source, read = read_source_snapshot(path)
    elif path is not None and read is None and write:
        read = snapshot(path)
    text, name = load_source(path, source, what=what)
    return text, name, read


def resolve_language(
    text: str, *, path: str | Path | None, override: str | None
) -> tuple[Language, str | None]:
    """The file's language, and a note when its content overrules its extension."""
    p = str(path) if path is not None else None
    try:
        lang = detect_language(text, path=p, override=override)
    except LanguageError:
        # Code being written often does not parse yet: then the signs alone decide.
        _, py, sh = content_signs(text)
        if override or py == sh:
            raise
        lang = Language.PYTHON if py > sh else Language.BASH
    by_ext = from_extension(p)
    if override is None and by_ext is not None and by_ext != lang:
        other = "Python" if by_ext == "python" else "Bash"
        note = (
            f"{Path(p or '').name} reads as {lang.capitalize()} (its shebang or content), "
            f"not {other} as its extension says; give --lang {by_ext} if it is {other}."
        )
        return lang, note
    return lang, None
