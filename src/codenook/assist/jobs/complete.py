"""Complete: the code at a cursor, from the text around it, ending with the block."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from codenook.assist.jobs.common import JobResult, JobRun, OnEvent, OnText, load_source_to_write
from codenook.assist.jobs.common import resolve_language as _language
from codenook.assist.jobs.registry import CURSOR, Job, register
from codenook.assist.prompts import complete_record, fill_request, fill_stop, job_words
from codenook.assist.session import ChatSession
from codenook.assist.tools.check import breaks, refuse
from codenook.assist.tools.cursor import (
    CursorContext,
    cursor_context,
    cursor_offset,
    end_of_block,
)
from codenook.assist.tools.files import write_source
from codenook.config import PromptSettings
from codenook.engine.backend import Backend, GenerationOptions, Message, TokenStream
from codenook.safefile import Snapshot

#: A completion is a block, not a program: longer answers are a model rambling on.
MAX_COMPLETION_TOKENS = 256


#: Lines before the cursor that a model may write again before its completion.
ECHO_LINES = 6


def _echoes(prefix: str) -> list[str]:
    """The ends of ``prefix`` (whole last lines plus the cursor's line) a model may repeat."""
    lines = prefix.split("\n")
    tails = {"\n".join(lines[-k:]) for k in range(1, min(ECHO_LINES, len(lines)) + 1)}
    tails |= {t.lstrip(" \t") for t in tails}
    return sorted((t for t in tails if t.strip()), key=len, reverse=True)


_CLOSING_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.M)


class BlockCutter:
    """Streams a completion line by line and says where its block ends.

    Asked through a chat request, a model may open a code fence first (dropped) and
    close it at the end (the end of the answer). Small models often then write again
    the lines before the cursor; that echo is dropped. A line is passed on once it is
    whole and :func:`end_of_block` keeps it; blank lines wait until the next line shows
    they are inside the block. ``done`` turns true at the first line that ends the
    block, so generation can stop there.
    """

    def __init__(self, *, language: str, indent: str, on_text: OnText, prefix: str = "") -> None:
        self.language = language
        self.indent = indent
        self.on_text = on_text
        self.raw = ""
        self.sent = ""
        self.done = False
        self._echoes = _echoes(prefix)
        tail = prefix.split("\n")
        #: The prefix's last whole lines (stripped) and the cursor line's start, for an echo
        #: that repeats some of them only (the definition's head, then its own body).
        self._echo_lines = [ln.strip() for ln in tail[-ECHO_LINES - 1 : -1]]
        self._cursor_start = tail[-1]
        #: Where the answer starts after an opening fence line (None: not known yet).
        self._open: int | None = None
        self._skip: int | None = None if self._echoes else 0

    def _kept(self, text: str) -> str:
        return end_of_block(text, language=self.language, indent=self.indent) if text else ""

    def _opened(self) -> bool:
        """Whether it is known where the answer starts: after an opening fence, or at 0."""
        if self._open is None:
            head = self.raw.lstrip()
            if head.startswith(("```", "~~~")):
                if "\n" not in head:
                    return False  # the fence's line is not whole yet
                self._open = self.raw.index("\n", len(self.raw) - len(head)) + 1
            elif not head or "```".startswith(head) or "~~~".startswith(head):
                return False  # it may still become a fence
            else:
                self._open = 0
        return True

    def _body(self) -> tuple[str, bool] | None:
        """The answer after the fence and the echo, up to a closing fence; None: wait."""
        if not self._opened():
            return None
        text = self.raw[self._open :]
        if self._skip is None:
            self._skip = self._echo_end(text)
            if self._skip is None:
                return None  # it may still turn out to be an echo
        body = text[self._skip :]
        closing = _CLOSING_FENCE.search(body)
        return (body, False) if closing is None else (body[: closing.start()], True)

    def _echo_end(self, text: str) -> int | None:
        """Where an echo of the prefix at the start of ``text`` ends (0: none; None: wait).

        First the prefix's whole end written again; else its lines written again in
        order, some left out (a model that repeats the function's head and then writes
        the body anew), and then the cursor line's own start.
        """
        if any(e.startswith(text) and len(e) > len(text) for e in self._echoes):
            return None
        exact = next((len(e) for e in self._echoes if text.startswith(e)), 0)
        if exact:
            return exact
        pos, at = 0, 0
        while True:
            nl = text.find("\n", pos)
            line = (text[pos:] if nl < 0 else text[pos:nl]).strip()
            if nl < 0 and (
                (not line and pos == 0) or any(e.startswith(line) for e in self._echo_lines[at:])
            ):
                return None  # the line may still be one of the prefix's (or be blank)
            found = self._echo_lines.index(line, at) if line in self._echo_lines[at:] else -1
            if nl < 0 or not line or found < 0:
                break
            pos, at = nl + 1, found + 1
        if pos == 0:
            return 0
        rest, start = text[pos:], self._cursor_start
        if start.startswith(rest) and len(start) > len(rest):
            return None  # it may still be the cursor line's start
        return pos + len(start) if start and rest.startswith(start) else pos

    def feed(self, piece: str) -> None:
        """Take one streamed piece; pass on what is surely part of the block."""
        if self.done:
            return
        self.raw += piece
        found = self._body()
        if found is None:
            return
        body, closed = found
        whole = body[: body.rfind("\n") + 1]
        if not whole and not closed:
            return
        kept = self._kept(whole)
        if closed or kept.rstrip() != whole.rstrip():
            self.done = True
        self._send(kept)

    def finish(self) -> str:
        """The completion: what the block keeps of everything streamed."""
        if not self.done:
            # Ended inside what looked like an echo or a fence: then it was the answer.
            if self._open is None:
                self._open = 0
            if self._skip is None:
                # The answer is whole now: its last line counts as whole too.
                text = self.raw[self._open :]
                self._skip = min(self._echo_end(text + "\n") or 0, len(text))
            found = self._body()
            self._send(self._kept(found[0] if found else ""))
        return self.sent

    def _send(self, kept: str) -> None:
        if kept.startswith(self.sent) and len(kept) > len(self.sent):
            self.on_text(kept[len(self.sent) :])
            self.sent = kept


def start_fill(
    backend: Backend,
    prefix: str,
    suffix: str,
    *,
    options: GenerationOptions,
    system: str,
) -> TokenStream:
    """Start the code between ``prefix`` and ``suffix``: the model's own fill-in-the-middle
    where it has one, else this job's chat request with ``system`` as its system prompt.

    Through the chat the answer may hold a code fence and an echo of the prefix: cut it
    with a :class:`BlockCutter` given the prefix.
    """
    if backend.info.can_fill:
        return backend.fill(prefix, suffix, options=options)
    stop = (*options.stop, *fill_stop(suffix))
    messages = fill_messages(prefix, suffix, system=system)
    return backend.stream_chat(messages, options=dataclasses.replace(options, stop=stop))


def fill_messages(prefix: str, suffix: str, *, system: str) -> list[Message]:
    """The chat request for the gap between ``prefix`` and ``suffix`` (no FIM): ``system``
    (the job's system prompt), then the file with the gap marked."""
    return [Message("system", system), Message("user", fill_request(prefix, suffix))]


def indent_at(text: str, line: int, column: int) -> str:
    """The block's indentation: the cursor line's, or as much of it as is before the cursor."""
    cursor_line = re.findall(r"[^\n]*\n?", text)[line - 1]
    before = cursor_line[: column - 1] or cursor_line
    return before[: len(before) - len(before.lstrip(" \t"))]


def _with_project_context(
    job: JobRun, ctx: CursorContext, *, path: str | Path | None, project: str | None, held: int
) -> CursorContext:
    """``ctx`` with the heads of the definitions named near the cursor, as comments, first."""
    from codenook.assist.project import grounding  # numpy: loaded when a job grounds

    s = job.session
    where = str(path) if path is not None else None
    found = grounding.for_completion(
        s.db, s.user, ctx.prefix, ctx.suffix, language=job.language, path=where,
        count_tokens=s.backend.count_tokens, budget=held, project=project,
    )  # fmt: skip
    if found.empty:
        return ctx
    job.context = found
    job.result.sources += found.sources
    if found.note():
        job.note(found.note())
    # Comments, so the model reads them as the file's own context, not as code.
    notes = "\n".join("# " + ln for ln in found.block().split("\n"))
    return dataclasses.replace(ctx, prefix=notes + "\n\n" + ctx.prefix)


def _cursor_context(
    job: JobRun,
    text: str,
    line: int,
    column: int,
    *,
    budget_chars: int | None,
    path: str | Path | None,
    context: bool,
    project: str | None,
) -> CursorContext:
    """The text around the cursor that fits, with the project's context when asked for."""
    held = job.context_reserve(context)
    budget = budget_chars or job.budget(reserve_tokens=200 + held)
    ctx = cursor_context(text, line, column, budget_chars=budget)
    if held:
        ctx = _with_project_context(job, ctx, path=path, project=project, held=held)
    if ctx.trimmed:
        used = len(ctx.prefix) + len(ctx.suffix)
        job.note(
            f"The file is larger than the context: {used:,} of its {len(text):,} characters, "
            "those nearest the cursor, were used."
        )
    return ctx


def _ask(job: JobRun, name: str, text: str, line: int, column: int, ctx: CursorContext) -> str:
    """Ask the model for the gap; returns the block it wrote, as streamed to ``on_text``."""
    backend = job.session.backend
    # A FIM model does not echo the prefix, but an instruct one may write on past the block.
    echo = "" if backend.info.can_fill else ctx.prefix
    cutter = BlockCutter(
        language=job.language or "python",
        indent=indent_at(text, line, column),
        on_text=job.on_text,
        prefix=echo,
    )
    options = dataclasses.replace(
        job.session.options,
        max_tokens=min(job.session.options.max_tokens, MAX_COMPLETION_TOKENS),
    )

    def start() -> TokenStream:
        return start_fill(backend, ctx.prefix, ctx.suffix, options=options, system=job.system)

    request = complete_record(name, line, column, ctx.prefix, ctx.suffix)
    job.record(request, start, on_text=cutter.feed, ended=lambda: cutter.done)
    return cutter.finish()


def complete(
    session: ChatSession,
    *,
    line: int,
    column: int,
    path: str | Path | None = None,
    source: str | None = None,
    language: str | None = None,
    apply: bool = False,
    read: Snapshot | None = None,
    budget_chars: int | None = None,
    on_text: OnText,
    on_event: OnEvent | None = None,
    prompts: PromptSettings | None = None,
    context: bool = True,
    project: str | None = None,
) -> JobResult:
    """Write the code at 1-based ``line``/``column``; returns only the inserted text.

    With the user's projects indexed, the heads of the definitions named near the cursor
    go before the code as comments (``context=False``: not).

    Uses the model's fill-in-the-middle where it has it, else a chat request with the
    job's system prompt (``[prompts].complete``, or the built-in words), cut at the end of
    the block. With ``apply`` (and a ``path``) the text is written in, unless the file
    changed since it was read (``read``, or at the start).
    """
    text, name, read = load_source_to_write(path, source, read, what="complete", write=apply)
    lang, note = _language(text, path=path, override=language)
    offset = cursor_offset(text, line, column)  # a position outside the file fails here
    job = JobRun("complete", session, lang, on_text, on_event, prompts)
    if note:
        job.note(note)
    r = job.result
    ctx = _cursor_context(
        job, text, line, column,
        budget_chars=budget_chars, path=path, context=context, project=project,
    )  # fmt: skip
    inserted = _ask(job, name, text, line, column, ctx)
    if inserted.endswith("\n") and not text[offset:].split("\n", 1)[0].strip():
        # The cursor's line already ends here: its own newline ends the insertion.
        inserted = inserted[:-1]
    r.code = inserted
    job.say_sources()
    if not inserted.strip():
        job.note("The model suggested nothing here.")
    new_text = text[:offset] + inserted + text[offset:]
    if inserted.strip():
        # Said whether or not it is applied: the window drops such a suggestion.
        r.parse_problem = breaks(new_text, language=lang, old=text)
        if r.parse_problem is not None and not apply:
            job.note(f"With this completion the code would not parse ({r.parse_problem}).")
    if apply and not job.stop_note("nothing was inserted"):
        r.text = new_text
        if path is not None and inserted:
            if r.parse_problem is not None:
                raise refuse(path, new_text, r.parse_problem)
            r.backup = write_source(path, r.text, backup=True, expect=read, exclusive=read is None)
            r.written, r.applied = Path(path), True
            job.event("written", f"Inserted into {path} (backup: {r.backup}).", path)
    return r


#: The job's system prompt, for Python, Bash and either ({name} etc.: prompts.job_words).
COMPLETE_WORDS = (
    "You are a {name} code completion engine. Reply with only the code that "
    "belongs at the cursor, never with an explanation."
)

JOB = register(
    Job(
        name="complete",
        label="Complete",
        run=complete,
        **job_words(COMPLETE_WORDS),
        reads=CURSOR,
        command="complete",
        help="complete the code at a line and column of a file (prints only the inserted text)",
    )
)
