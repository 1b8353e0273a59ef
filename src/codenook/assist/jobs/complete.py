"""Complete: the code at a cursor, from the text around it, ending with the block."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from codenook.assist.jobs.common import Job, JobResult, OnEvent, OnText, load_source_to_write
from codenook.assist.jobs.common import resolve_language as _language
from codenook.assist.project import grounding
from codenook.assist.prompts import complete_record
from codenook.assist.session import ChatSession
from codenook.assist.tools.cursor import cursor_context, cursor_offset, end_of_block
from codenook.assist.tools.files import write_source
from codenook.config import PromptSettings
from codenook.engine.backend import TokenStream
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


class BlockCutter:
    """Streams a non-FIM model's completion line by line and says where its block ends.

    Asked for the gap, small models often first write again the lines before the
    cursor; that echo is dropped. A line is then passed on once it is whole and
    :func:`end_of_block` keeps it; blank lines wait until the next line shows they are
    inside the block. ``done`` turns true at the first line that ends the block, so
    generation can stop there.
    """

    def __init__(self, *, language: str, indent: str, on_text: OnText, prefix: str = "") -> None:
        self.language = language
        self.indent = indent
        self.on_text = on_text
        self.raw = ""
        self.sent = ""
        self.done = False
        self._echoes = _echoes(prefix)
        self._skip: int | None = None if self._echoes else 0

    def _kept(self, text: str) -> str:
        return end_of_block(text, language=self.language, indent=self.indent) if text else ""

    def feed(self, piece: str) -> None:
        """Take one streamed piece; pass on what is surely part of the block."""
        if self.done:
            return
        self.raw += piece
        if self._skip is None:
            if any(e.startswith(self.raw) and len(e) > len(self.raw) for e in self._echoes):
                return  # it may still turn out to be an echo
            self._skip = next((len(e) for e in self._echoes if self.raw.startswith(e)), 0)
        body = self.raw[self._skip :]
        whole = body[: body.rfind("\n") + 1]
        if not whole:
            return
        kept = self._kept(whole)
        if kept.rstrip() != whole.rstrip():
            self.done = True
        self._send(kept)

    def finish(self) -> str:
        """The completion: what the block keeps of everything streamed."""
        if not self.done:
            # Ended inside what looked like an echo: then it was the answer.
            self._send(self._kept(self.raw[self._skip or 0 :]))
        return self.sent

    def _send(self, kept: str) -> None:
        if kept.startswith(self.sent) and len(kept) > len(self.sent):
            self.on_text(kept[len(self.sent) :])
            self.sent = kept


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

    Uses the model's fill-in-the-middle where it has it, else an instruction prompt cut
    at the end of the block. With ``apply`` (and a ``path``) the text is written in,
    unless the file changed since it was read (``read``, or at the start).
    """
    text, name, read = load_source_to_write(path, source, read, what="complete", write=apply)
    lang, note = _language(text, path=path, override=language)
    offset = cursor_offset(text, line, column)  # a position outside the file fails here
    job = Job("complete", session, lang, on_text, on_event, prompts)
    if note:
        job.note(note)
    r = job.result
    held = job.context_reserve(context)
    budget = budget_chars or job.budget(reserve_tokens=200 + held)
    ctx = cursor_context(text, line, column, budget_chars=budget)
    if held:
        s, where = session, str(path) if path is not None else None
        found = grounding.for_completion(
            s.db, s.user, ctx.prefix, ctx.suffix, language=lang, path=where,
            count_tokens=session.backend.count_tokens, budget=held, project=project,
        )  # fmt: skip
        if not found.empty:
            job.context = found
            r.sources += found.sources
            if found.note():
                job.note(found.note())
            # Comments, so the model reads them as the file's own context, not as code.
            notes = "\n".join("# " + ln for ln in found.block().split("\n"))
            ctx = dataclasses.replace(ctx, prefix=notes + "\n\n" + ctx.prefix)
    if ctx.trimmed:
        used = len(ctx.prefix) + len(ctx.suffix)
        job.note(
            f"The file is larger than the context: {used:,} of its {len(text):,} characters, "
            "those nearest the cursor, were used."
        )
    backend = session.backend
    fim = backend.info.can_fill
    cursor_line = re.findall(r"[^\n]*\n?", text)[line - 1]
    # The block's indentation is the cursor line's, or as much of it as is before the cursor.
    before = cursor_line[: column - 1] or cursor_line
    indent = before[: len(before) - len(before.lstrip(" \t"))]
    # A FIM model does not echo the prefix, but an instruct one may write on past the block.
    echo = "" if fim else ctx.prefix
    cutter = BlockCutter(language=lang, indent=indent, on_text=on_text, prefix=echo)
    options = dataclasses.replace(
        session.options, max_tokens=min(session.options.max_tokens, MAX_COMPLETION_TOKENS)
    )

    def start() -> TokenStream:
        return backend.fill(ctx.prefix, ctx.suffix, options=options)

    request = complete_record(name, line, column, ctx.prefix, ctx.suffix)
    job.record(request, start, on_text=cutter.feed, ended=lambda: cutter.done)
    inserted = cutter.finish()
    if inserted.endswith("\n") and not text[offset:].split("\n", 1)[0].strip():
        # The cursor's line already ends here: its own newline ends the insertion.
        inserted = inserted[:-1]
    r.code = inserted
    job.say_sources()
    if not inserted.strip():
        job.note("The model suggested nothing here.")
    if apply and not job.stop_note("nothing was inserted"):
        r.text = text[:offset] + inserted + text[offset:]
        if path is not None and inserted:
            r.backup = write_source(path, r.text, backup=True, expect=read, exclusive=read is None)
            r.written, r.applied = Path(path), True
            job.event("written", f"Inserted into {path} (backup: {r.backup}).", path)
    return r
