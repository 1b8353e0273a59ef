"""Completion at the editor's cursor: debounce, ghost text, accept, dismiss, cancel.

Each request gets a number from a generation counter; every keystroke (and Esc) moves
the counter on, so an answer that arrives for an older number is dropped, never shown.
The keystroke also cancels the request's own token stream (not the chat's: completions
run through a :class:`TrackingBackend` that knows which stream is theirs).
"""

from __future__ import annotations

import logging
import time
import tkinter as tk
import tkinter.font as tkfont
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from codenook.assist.session import ChatSession
from codenook.engine.backend import Backend, GenerationOptions, TokenStream
from codenook.errors import CodenookError
from codenook.gui.editing import fit_suggestion, leading_ws


@dataclass(frozen=True)
class Suggested:
    """A piece of the suggestion for request ``gen`` (model worker)."""

    completer: Completer
    gen: int
    piece: str


@dataclass(frozen=True)
class SuggestionDone:
    """Request ``gen`` finished with ``code``, or with an ``error`` to show (model worker)."""

    completer: Completer
    gen: int
    code: str
    error: str = ""


class Pane(Protocol):
    """What completion needs of the editor pane (IDLE's autocomplete sees its editor so)."""

    text: tk.Text
    language: str
    path: str | None

    def get_text(self) -> str:
        """The buffer's text."""
        ...

    def cursor(self) -> tuple[int, int]:
        """The cursor's 1-based line and column."""
        ...

    def insert_as_one_step(self, text: str, *, index: str | None = None) -> None:
        """Insert ``text`` as one undo step."""

    def update_status(self, *, note: str = "") -> None:
        """Redraw the status bar."""

    def after(self, ms: int, func: Callable[[], None]) -> str:
        """Tk's after."""
        ...

    def after_cancel(self, job: str) -> None:
        """Tk's after_cancel."""


log = logging.getLogger(__name__)


class TrackingBackend:
    """A backend seen through a window that remembers the stream it last opened.

    Cancelling that stream stops only the completion; ``Backend.cancel()`` would stop
    whatever the model is doing, a chat answer included.
    """

    def __init__(self, backend: Backend) -> None:
        self.inner = backend
        self.stream: TokenStream | None = None
        #: Whether the request this stream is for is stale already (set per request).
        self.stale: Callable[[], bool] = lambda: False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _track(self, stream: TokenStream) -> TokenStream:
        self.stream = stream
        if self.stale():  # a key was pressed while the prompt was being built
            stream.cancel()
        return stream

    def fill(self, prefix: str, suffix: str, **kw: Any) -> TokenStream:
        """Fill-in-the-middle, tracked."""
        return self._track(self.inner.fill(prefix, suffix, **kw))

    def stream_chat(self, messages: Any, **kw: Any) -> TokenStream:
        """A chat stream, tracked."""
        return self._track(self.inner.stream_chat(messages, **kw))

    def stream_completion(self, prompt: str, **kw: Any) -> TokenStream:
        """A raw completion, tracked."""
        return self._track(self.inner.stream_completion(prompt, **kw))

    def cancel(self) -> None:
        """Stop this completion's stream only."""
        if self.stream is not None:
            self.stream.cancel()


@dataclass
class Timings:
    """When the last request's steps happened (``time.perf_counter``), for the benchmark."""

    key: float = 0.0
    sent: float = 0.0
    first_ghost: float = 0.0
    requests: int = 0
    dropped: int = 0
    #: Requests that finished (or were cancelled) on the worker, numbered.
    finished: list[int] = field(default_factory=list)


#: What the status bar says while a suggestion shows.
HINT = "Tab accepts · Esc dismisses"
#: The tag that makes room under the cursor's line for a suggestion's further lines.
ROOM_TAG = "ghost-room"
#: Sent by the editor's text widget when the ghost moved lines (the gutter redraws).
LAYOUT_EVENT = "<<GhostLayout>>"


class Ghost:
    """Grey text laid over the editor at a position; the buffer never holds it."""

    def __init__(self, text: tk.Text) -> None:
        self.widget = text
        self.first = tk.Label(text, borderwidth=0, padx=0, pady=0, justify="left", anchor="nw")
        self.rest = tk.Label(text, borderwidth=0, padx=0, pady=0, justify="left", anchor="nw")
        self.index: str | None = None
        self.text = ""
        #: The line given room for the suggestion's further lines, and how many.
        self._room: tuple[str, int] = ("", 0)

    def style(self, *, font: Any, fg: str, bg: str) -> None:
        """Match the editor's font, in a muted colour."""
        for label in (self.first, self.rest):
            label.configure(font=font, foreground=fg, background=bg)

    def show(self, index: str, text: str) -> None:
        """Show ``text`` at ``index`` (a Tk index in the editor)."""
        self.index, self.text = self.widget.index(index), text
        self.place()

    def place(self) -> None:
        """Put the labels where the text is now (after an edit elsewhere or a scroll)."""
        if self.index is None or not self.text:
            self.hide_labels()
            return
        line = self.index.split(".")[0]
        head, _, tail = self.text.partition("\n")
        # Room under the cursor's line for the suggestion's further lines: the lines after
        # it move down (as in an IDE) instead of being drawn over, and the gutter, which
        # numbers lines where the text widget lays them out, stays in step.
        self._make_room(line, tail.count("\n") + 1 if tail else 0)
        box = self.widget.bbox(self.index)
        start = self.widget.dlineinfo(f"{line}.0")
        if box is None or start is None:  # scrolled out of view
            self.first.place_forget()
            self.rest.place_forget()
            return
        x, y, _, _ = box
        self.first.configure(text=head.expandtabs(8))
        self.first.place(x=x, y=y, bordermode="outside")
        if tail:
            self.rest.configure(text=tail.expandtabs(8))
            # bbox and dlineinfo count from the widget's outer edge; "outside" places there too.
            self.rest.place(x=start[0], y=start[1] + self._line_height(), bordermode="outside")
        else:
            self.rest.place_forget()

    def _make_room(self, line: str, lines: int) -> None:
        """Leave ``lines`` empty lines' height under ``line`` (0: none), once per change."""
        room = (line, lines)
        if room == self._room:
            return
        self._room = room
        self.widget.tag_remove(ROOM_TAG, "1.0", "end")
        if lines:
            self.widget.tag_configure(ROOM_TAG, spacing3=lines * self._line_height())
            self.widget.tag_add(ROOM_TAG, f"{line}.0", f"{line}.0 +1 lines")
        self.widget.event_generate(LAYOUT_EVENT)

    def _line_height(self) -> int:
        """The height of one line of the editor's font, in pixels."""
        return int(tkfont.Font(font=self.widget.cget("font")).metrics("linespace"))

    def hide_labels(self) -> None:
        """Take the labels off the screen and give the room they had back."""
        self.first.place_forget()
        self.rest.place_forget()
        self._make_room("", 0)

    def clear(self) -> None:
        """No ghost text any more."""
        self.index, self.text = None, ""
        self.hide_labels()

    @property
    def visible(self) -> bool:
        """Whether a suggestion is showing."""
        return bool(self.text) and self.index is not None


class Completer:
    """Asks the completion job for the text at the cursor and shows it as ghost text."""

    def __init__(
        self,
        pane: Pane,
        *,
        run_model: Callable[[Callable[[], None]], None],
        post: Callable[[object], None],
        subscribe: Callable[..., Any],
        model_context: Callable[[], tuple[Any, Any, Backend, GenerationOptions] | None],
        auto: bool = True,
        delay_ms: int = 400,
    ) -> None:
        self.pane = pane
        self.run_model = run_model
        self.post = post
        subscribe(Suggested, lambda e: e.completer is self and self._piece(e.gen, e.piece))
        subscribe(
            SuggestionDone,
            lambda e: e.completer is self and self._done(e.gen, e.code, e.error),
        )
        self.model_context = model_context
        self.auto = auto
        self.delay_ms = delay_ms
        self.generation = 0
        self.ghost = Ghost(pane.text)
        self.timings = Timings()
        self.status = ""
        self._after: str | None = None
        self._streamed = ""
        self._block_indent = ""
        self._session: ChatSession | None = None
        self._tracking: TrackingBackend | None = None

    # -- Tk thread -------------------------------------------------------------------

    def keystroke(self, *, typing: bool) -> None:
        """A key was pressed: drop the suggestion, cancel the request, maybe wait for a pause."""
        self.timings.key = time.perf_counter()
        self.dismiss()
        if typing and self.auto:
            self._after = self.pane.after(self.delay_ms, self._auto_fire)

    def _auto_fire(self) -> None:
        self._after = None
        self.request()

    def dismiss(self) -> bool:
        """Hide the suggestion and make any request in flight stale; True if one showed."""
        shown = self.ghost.visible
        self.generation += 1
        if self._after is not None:
            self.pane.after_cancel(self._after)
            self._after = None
        tracking = self._tracking
        if tracking is not None and tracking.stream is not None:
            tracking.stream.cancel()  # the request in flight is stale now: stop it
        self.ghost.clear()
        if shown and self.status == HINT:  # the hint goes with the suggestion it was for
            self.status = ""
            self.pane.update_status()
        return shown

    def request(self) -> None:
        """Ask for a completion at the cursor (Ctrl+Space, or the pause after typing)."""
        self.dismiss()
        pane = self.pane
        source = pane.get_text()
        line, column = pane.cursor()
        before = pane.text.get("insert linestart", "insert")
        self._block_indent = leading_ws(before)
        self._streamed = ""
        self.generation += 1
        gen = self.generation
        self.ghost.show("insert", "")
        self.timings.requests += 1
        language = pane.language
        path = pane.path
        self.status = "Completing…"
        pane.update_status()
        self.run_model(
            lambda: self._run(
                gen, source=source, line=line, column=column, language=language, path=path
            )
        )

    def accept(self) -> bool:
        """Insert the suggestion as one undo step (Tab); False when there is none."""
        if not self.ghost.visible:
            return False
        text, index = self.ghost.text, self.ghost.index
        self.dismiss()
        self.pane.insert_as_one_step(text, index=index)
        return True

    def _piece(self, gen: int, piece: str) -> None:
        if gen != self.generation:
            self.timings.dropped += 1
            return
        if not self._streamed and piece:
            self.timings.first_ghost = time.perf_counter()
        self._streamed += piece
        if self.ghost.index is not None:
            self.ghost.show(
                self.ghost.index, fit_suggestion(self._streamed, block_indent=self._block_indent)
            )

    def _done(self, gen: int, code: str, error: str = "") -> None:
        self.timings.finished.append(gen)
        if gen != self.generation:
            self.timings.dropped += 1
            return
        index = self.ghost.index
        text = fit_suggestion(code, block_indent=self._block_indent)
        if error or not text or index is None:
            self.ghost.clear()
            self.status = error or "No suggestion here."
        else:
            if not self._streamed:
                self.timings.first_ghost = time.perf_counter()
            self.ghost.show(index, text)
            self.status = HINT
        self.pane.update_status()

    # -- model worker ----------------------------------------------------------------

    def _session_for(self, ctx: tuple[Any, Any, Backend, GenerationOptions]) -> ChatSession:
        """The completions' own conversation (not the chat's). Runs on the model worker."""
        db, user, backend, options = ctx
        s = self._session
        if (
            s is None
            or self._tracking is None
            or self._tracking.inner is not backend
            or s.user.id != user.id
        ):
            self._tracking = TrackingBackend(backend)
            s = self._session = ChatSession(db, user, self._tracking, options)  # type: ignore[arg-type]
        return s

    def _run(
        self, gen: int, *, source: str, line: int, column: int, language: str, path: str | None
    ) -> None:
        """One request. Runs on the model worker."""
        if gen != self.generation:  # typed again while it waited behind other work
            self.post(SuggestionDone(self, gen, ""))
            return
        ctx = self.model_context()
        if ctx is None:
            self.post(SuggestionDone(self, gen, "", "The model is not ready yet."))
            return
        session = self._session_for(ctx)
        tracking = self._tracking
        assert tracking is not None
        tracking.stale = lambda: gen != self.generation

        def on_text(piece: str) -> None:
            if gen != self.generation:
                tracking.cancel()
                return
            self.post(Suggested(self, gen, piece))

        self.timings.sent = time.perf_counter()
        try:
            from codenook.assist.jobs.complete import complete  # on first use: see editor.py

            result = complete(
                session,
                line=line,
                column=column,
                source=source,
                language=language,
                path=path,
                on_text=on_text,
            )
        except CodenookError as exc:
            self.post(SuggestionDone(self, gen, "", str(exc)))
            return
        finally:
            tracking.stream = None
        code = result.code or ""
        if result.parse_problem is not None:  # the one check of code codenook writes
            why = f"The suggestion was dropped: the code would not parse ({result.parse_problem})."
            self.post(SuggestionDone(self, gen, "", why))
            return
        self.post(SuggestionDone(self, gen, code))
