"""The editor pane: a Python or Bash file beside the chat, with completion and jobs on it.

Line numbers, Pygments highlighting of only the edited region, undo/redo, auto-indent,
the file's own tabs or spaces, line and column in the status bar, a dirty marker and a
save prompt. Files are read and written on a worker; the Tk thread only draws.

Every change to the text, typed, undone or pasted, goes through the Text widget's Tcl
command, so that command is wrapped: the wrapper learns which lines changed and
schedules their highlighting for when Tk is idle (one pass for a burst of keys).
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import tempfile
import tkinter as tk
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from tkinter import filedialog, messagebox, simpledialog, ttk
from tkinter import font as tkfont
from typing import TYPE_CHECKING, Any

from codenook.assist.tools.files import SourceFileError, read_source, write_source
from codenook.engine.backend import Backend, GenerationOptions
from codenook.gui.commands import Command
from codenook.gui.completion import Completer
from codenook.gui.diff_view import DiffView
from codenook.gui.editing import (
    Indent,
    detect_indent,
    file_label,
    language_for,
    line_edits,
    next_indent,
    restart_line,
    split_newlines,
)
from codenook.gui.markdown import _lexer, token_tag
from codenook.gui.theme import Theme, code_colours
from codenook.gui.transcript import Tooltip

if TYPE_CHECKING:  # the jobs and the diff tools load on first use: the window maps sooner
    from codenook.assist.jobs import JobEvent, JobResult

log = logging.getLogger(__name__)

#: Lines highlighted per step when a whole file (or its tail) is re-highlighted.
CHUNK_LINES = 300
#: Tags for tokens drawn in the plain text colour: not worth a Tcl call each.
_PLAIN = {"pyg.Text", "pyg.Text.Whitespace", "pyg"}
_STRING = "pyg.Literal.String"
_MODIFIER_KEYS = {
    "Shift_L",
    "Shift_R",
    "Control_L",
    "Control_R",
    "Alt_L",
    "Alt_R",
    "Meta_L",
    "Meta_R",
    "Super_L",
    "Super_R",
    "Caps_Lock",
    "ISO_Level3_Shift",
}
#: The recent-files menu shows this many.
RECENT = 8

OnJobResult = Callable[["JobResult", list["JobEvent"]], None]


@dataclass
class EditorHost:
    """What the editor needs from the window: its workers, the model, the chat."""

    #: Run a function on the Tk thread soon (from any thread).
    call_soon: Callable[[Callable[[], None]], None]
    #: Run a function on the tools worker (file reads and writes, patch).
    run_tools: Callable[[Callable[[], None]], None]
    #: Run a function on the model worker (completion requests).
    run_model: Callable[[Callable[[], None]], None]
    #: On the model worker: (database, user, backend, options), or None before login/load.
    model_context: Callable[[], tuple[Any, Any, Backend, GenerationOptions] | None]
    #: Run job ``name`` in the chat with a label and options; the callback gets its result.
    start_job: Callable[[str, str, dict[str, Any], OnJobResult], bool]
    #: Remember UI settings (editor width, recent files, auto-complete).
    remember: Callable[..., None]


class _Pass:
    """Lexing a stretch of the text and tagging it, in steps that each end on a token."""

    def __init__(self, pane: EditorPane, first_line: int, text: str) -> None:
        self.pane = pane
        self.first_line = first_line
        self.text = text
        self.starts = [0]
        pos = text.find("\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)
        lexer = _lexer(pane.language)
        self.tokens: Iterator[tuple[int, Any, str]] = (
            lexer.get_tokens_unprocessed(text) if lexer is not None else iter(())
        )
        self.pending: tuple[int, Any, str] | None = None
        self.done_to = 0
        self.last_tag = ""

    def index(self, offset: int) -> str:
        """The Tk index of a character offset in the lexed text."""
        line = bisect.bisect_right(self.starts, offset) - 1
        return f"{self.first_line + line}.{offset - self.starts[line]}"

    def line_of(self, offset: int) -> int:
        """The 0-based line of ``offset`` in the lexed text."""
        return bisect.bisect_right(self.starts, offset) - 1

    def step(self, max_lines: int | None = None) -> bool:
        """Tag the next ``max_lines`` lines (all when None); True once the text is done."""
        ranges: dict[str, list[str]] = defaultdict(list)
        begin = self.done_to
        stop_line = None if max_lines is None else self.line_of(begin) + max_lines
        finished = True
        while True:
            token = self.pending
            self.pending = None
            if token is None:
                token = next(self.tokens, None)
                if token is None:
                    break
            pos, ttype, value = token
            if stop_line is not None and pos > begin and self.line_of(pos) >= stop_line:
                self.pending = token
                finished = False
                break
            tag = token_tag(ttype)
            if value and tag not in _PLAIN:
                ranges[tag] += [self.index(pos), self.index(pos + len(value))]
            self.done_to = pos + len(value)
            self.last_tag = tag
        self.pane.retag(self.index(begin), self.index(self.done_to), ranges)
        return finished


class EditorPane(tk.Frame):
    """One open file (or an untitled buffer), its status, and the jobs that work on it."""

    def __init__(
        self,
        master: tk.Misc,
        *,
        host: EditorHost,
        theme: Theme,
        size: int,
        recent: tuple[str, ...] = (),
        autocomplete: bool = True,
        delay_ms: int = 400,
    ) -> None:
        super().__init__(master)
        self.host = host
        self.path: str | None = None
        self.newline = "\n"
        self.language = "python"
        self.indent = Indent()
        self.recent = list(recent)
        self.notice = ""
        self.highlighting = True
        self._used_tags: set[str] = set()
        self._dirty_lines: list[int] | None = None
        self._tail: _Pass | None = None
        self._tail_after: str | None = None
        self._tail_resume: int | None = None
        self._chrome_after: str | None = None
        self._diff_base = ""
        #: How the save prompt asks (a test answers it without a dialog).
        self.ask: Callable[..., bool | None] = messagebox.askyesnocancel

        self._build_toolbar()
        self.status = tk.Label(self, anchor="w", padx=6)
        self.status.pack(side="bottom", fill="x")
        self.diff_view = DiffView(
            self, theme=theme, size=size, on_apply=self.apply_diff, on_reject=self.reject_diff
        )
        self.message = tk.Label(self, anchor="w", padx=6, foreground="#dc2626", wraplength=480)
        body = tk.Frame(self)
        body.pack(side="top", fill="both", expand=True)
        self.body = body
        self.gutter = tk.Canvas(body, width=40, highlightthickness=0, borderwidth=0)
        self.gutter.pack(side="left", fill="y")
        self.text = tk.Text(
            body,
            wrap="none",
            undo=True,
            autoseparators=True,
            maxundo=-1,
            padx=4,
            pady=2,
            borderwidth=0,
            highlightthickness=0,
        )
        yscroll = tk.Scrollbar(body, command=self.text.yview)
        xscroll = tk.Scrollbar(self, orient="horizontal", command=self.text.xview)
        self.text.configure(yscrollcommand=self._on_yscroll(yscroll), xscrollcommand=xscroll.set)
        yscroll.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        xscroll.pack(side="bottom", fill="x", before=body)
        self._wrap_text_command()
        self.completer = Completer(
            self,
            run_model=host.run_model,
            call_soon=host.call_soon,
            model_context=host.model_context,
            auto=autocomplete,
            delay_ms=delay_ms,
        )
        self._bind_keys()
        self.apply_theme(theme, size)
        self.update_status()

    def destroy(self) -> None:
        """Cancel the idle work queued for this pane, then go."""
        for job in (self._chrome_after, self._tail_after):
            if job is not None:
                with contextlib.suppress(tk.TclError):
                    self.after_cancel(job)
        self._chrome_after = self._tail_after = None
        self.completer.dismiss()
        super().destroy()

    # -- building ------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        # Two rows: the file's name with Open and Save, then the jobs. The name is packed
        # last so that in a narrow pane it is what gets cut, never a button.
        bar = tk.Frame(self)
        bar.pack(side="top", fill="x", padx=4, pady=(4, 0))
        jobs = tk.Frame(self)
        jobs.pack(side="top", fill="x", padx=4, pady=(2, 2))
        self.toolbar, self.job_bar = bar, jobs
        self.buttons: dict[str, ttk.Button] = {}
        for row, side, entries in (
            (
                bar,
                "right",
                (
                    ("save", "Save", lambda: self.save(), "Save (Ctrl+S)"),
                    ("open", "Open…", self.open_dialog, "Open a file (Ctrl+O)"),
                ),
            ),
            (
                jobs,
                "left",
                (
                    ("review", "Review", self.review, "Review this file (linters + model)"),
                    ("debug", "Debug", self.debug, "Debug (run) this file in the sandbox"),
                    ("document", "Document", self.document, "Document this file (docstrings)"),
                    ("explain", "Explain", self.explain_selection, "Explain the selection"),
                    ("ask", "Ask…", lambda: self.ask_selection(), "Ask about the selection"),
                ),
            ),
        ):
            for key, label, command, tip in entries:
                b = ttk.Button(row, text=label, command=command, width=len(label) + 1)
                b.pack(side=side, padx=1)
                Tooltip(b, tip)
                self.buttons[key] = b
        self.title_label = tk.Label(bar, anchor="w", text="untitled")
        self.title_label.pack(side="left", fill="x", expand=True)

    def commands(
        self,
        *,
        toggle: Callable[[], None],
        open_file: Callable[[], None],
        can_open: Callable[[], bool],
        shown: Callable[[], bool],
    ) -> list[Command]:
        """The Editor menu and keys: files, completion and the jobs on the file."""
        # In the editor, Ctrl+E is Tk's end-of-line: the window's meaning wins.
        self.text.bind("<Control-e>", lambda _e: toggle() or "break")
        self.auto_var = tk.BooleanVar(value=self.completer.auto)
        m = "Editor"
        return [
            Command(
                "Show / hide editor",
                toggle,
                menu=m,
                key="<Control-e>",
                accelerator="Ctrl+E",
                enabled=can_open,
            ),
            Command(
                "Open…",
                open_file,
                menu=m,
                key="<Control-o>",
                accelerator="Ctrl+O",
                enabled=can_open,
            ),
            Command("Open recent", lambda: None, menu=m, submenu=self._fill_recent),
            Command(
                "Save",
                lambda: self.save(),
                menu=m,
                key="<Control-s>",
                accelerator="Ctrl+S",
                enabled=shown,
            ),
            Command("Save as…", lambda: self.save_as(), menu=m),
            Command(
                "Complete at cursor",
                self.completer.request,
                menu=m,
                accelerator="Ctrl+Space",
                separator=True,
            ),
            Command("Complete as I type", self._toggle_auto, menu=m, check=self.auto_var),
            Command("Review this file", self.review, menu=m, separator=True),
            Command("Debug (run) this file", self.debug, menu=m),
            Command("Document this file", self.document, menu=m),
            Command("Explain the selection", self.explain_selection, menu=m),
            Command("Ask about the selection…", lambda: self.ask_selection(), menu=m),
        ]

    def _fill_recent(self, menu: tk.Menu) -> None:
        menu.delete(0, "end")
        for p in self.recent:
            menu.add_command(label=p, command=lambda p=p: self.open_file(p))
        if not self.recent:
            menu.add_command(label="(none yet)", state="disabled")

    def _toggle_auto(self) -> None:
        self.completer.auto = bool(self.auto_var.get())
        self.host.remember(autocomplete=self.completer.auto)

    def _bind_keys(self) -> None:
        t = self.text
        t.bind("<Key>", self._on_key)
        t.bind("<Tab>", self._on_tab)
        t.bind("<Escape>", self._on_escape)
        t.bind("<Return>", self._on_return)
        t.bind("<KP_Enter>", self._on_return)
        t.bind("<Control-space>", lambda _e: self.completer.request() or "break")
        t.bind("<Control-s>", lambda _e: self.save() or "break")
        t.bind("<Control-o>", lambda _e: self.open_dialog() or "break")
        t.bind("<Control-y>", lambda _e: self.redo() or "break")
        t.bind("<Control-Z>", lambda _e: self.redo() or "break")
        t.bind("<Control-z>", lambda _e: self.undo() or "break")
        for seq in ("<ButtonRelease-1>", "<KeyRelease>"):
            t.bind(seq, lambda _e: self._schedule_chrome(), add="+")
        t.bind("<<Modified>>", lambda _e: self.update_status())
        t.bind("<Configure>", lambda _e: self._schedule_chrome())

    def _on_yscroll(self, bar: tk.Scrollbar) -> Callable[[str, str], None]:
        def moved(first: str, last: str) -> None:
            bar.set(first, last)
            self._schedule_chrome()

        return moved

    # -- the wrapped Tcl command -----------------------------------------------------

    def _wrap_text_command(self) -> None:
        t = self.text
        self._orig = t._w + "_orig"
        self.tk.call("rename", t._w, self._orig)
        self.tk.createcommand(t._w, self._dispatch)
        if t._tclCommands is None:
            t._tclCommands = []
        t._tclCommands.append(t._w)  # deleted with the widget

    def _dispatch(self, *args: str) -> Any:
        op = args[0] if args else ""
        if op not in ("insert", "delete", "replace"):
            return self.tk.call(self._orig, *args)
        first = int(str(self.tk.call(self._orig, "index", args[1])).split(".")[0])
        result = self.tk.call(self._orig, *args)
        if op == "insert":
            added = "".join(args[2::2])
        elif op == "replace":
            added = "".join(args[3::2])
        else:
            added = ""
        self._edited(first, first + added.count("\n"))
        return result

    def _call(self, *args: Any) -> Any:
        """The Text command itself, skipping the wrapper (for tags and queries)."""
        return self.tk.call(self._orig, *args)

    # -- content -------------------------------------------------------------------------

    def get_text(self) -> str:
        """The buffer's text, exactly as it will be saved (with LF line ends)."""
        return self.text.get("1.0", "end-1c")

    def cursor(self) -> tuple[int, int]:
        """The cursor's 1-based line and column."""
        line, col = self.text.index("insert").split(".")
        return int(line), int(col) + 1

    @property
    def dirty(self) -> bool:
        """Whether the buffer has changes not saved."""
        return bool(self.text.edit_modified())

    def set_text(self, text: str, *, path: str | None = None) -> None:
        """Show ``text`` as a fresh buffer (no undo history, not dirty)."""
        self.completer.dismiss()
        self._stop_tail()
        body, self.newline = split_newlines(text)
        self.path = path
        self.language = language_for(path, body)
        self.indent = detect_indent(body)
        self.highlighting = False  # one full pass below instead of one per edit
        self.text.delete("1.0", "end")
        self.text.insert("1.0", body)
        self.highlighting = True
        self._dirty_lines = None
        self.text.edit_reset()
        self.text.edit_modified(False)
        self.text.mark_set("insert", "1.0")
        self.text.see("1.0")
        self.hide_diff()
        self.highlight_all()
        self.update_status()

    def insert_as_one_step(self, text: str, *, index: str | None = None) -> None:
        """Insert ``text`` at ``index`` (the cursor), or over the selection: one undo step."""
        t = self.text
        t.edit_separator()
        t.configure(autoseparators=False)
        try:
            if index is None and t.tag_ranges("sel"):
                start = t.index("sel.first")
                t.delete("sel.first", "sel.last")
                index = start
            at = t.index(index or "insert")
            t.insert(at, text)
            t.mark_set("insert", f"{at}+{len(text)}c")
        finally:
            t.edit_separator()
            t.configure(autoseparators=True)
        t.see("insert")

    def insert_code(self, code: str) -> None:
        """Insert a code block from the chat at the cursor, or replace the selection."""
        self.completer.dismiss()
        self.insert_as_one_step(code)
        self.text.focus_set()

    def replace_text(self, new: str) -> None:
        """Make the buffer ``new``, changing only the lines that differ, as one undo step."""
        t = self.text
        edits = line_edits(self.get_text(), new)
        if not edits:
            return
        t.edit_separator()
        t.configure(autoseparators=False)
        try:
            for e in edits:  # last first: earlier line numbers stay valid
                t.delete(f"{e.first}.0", f"{e.last}.0")
                if e.text:
                    t.insert(f"{e.first}.0", e.text)
        finally:
            t.edit_separator()
            t.configure(autoseparators=True)
        t.mark_set("insert", f"{edits[-1].first}.0")
        t.see("insert")

    def undo(self) -> None:
        """Undo the last change (Ctrl+Z)."""
        self.completer.dismiss()
        with contextlib.suppress(tk.TclError):  # nothing to undo
            self.text.edit_undo()

    def redo(self) -> None:
        """Redo (Ctrl+Y, Ctrl+Shift+Z)."""
        self.completer.dismiss()
        with contextlib.suppress(tk.TclError):
            self.text.edit_redo()

    # -- files ---------------------------------------------------------------------------

    def open_dialog(self) -> None:
        """Ask for a file and open it (Ctrl+O)."""
        if not self.confirm_discard():
            return
        path = filedialog.askopenfilename(
            parent=self,
            filetypes=[("Python and Bash", "*.py *.sh *.bash"), ("All files", "*")],
        )
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Read ``path`` on a worker and show it; binary, non-UTF-8 or >5 MB is refused."""
        self.show_message("")

        def read() -> None:
            try:
                text = read_source(path)
            except SourceFileError as exc:
                message = f"Not opened: {exc}"
                self.host.call_soon(lambda: self.show_message(message))
                return
            self.host.call_soon(lambda: self._opened(path, text))

        self.host.run_tools(read)

    def _opened(self, path: str, text: str) -> None:
        self.set_text(text, path=path)
        self.recent = [path, *(p for p in self.recent if p != path)][:RECENT]
        self.host.remember(recent_files=tuple(self.recent))

    def save(self, *, wait: bool = False) -> bool:
        """Write the buffer to its file (Ctrl+S); asks for a name when it has none."""
        if self.path is None:
            return self.save_as(wait=wait)
        return self._write(self.path, wait=wait)

    def save_as(self, path: str | None = None, *, wait: bool = False) -> bool:
        """Write the buffer to a new file (asks for the name when none is given)."""
        if path is None:
            ext = ".sh" if self.language == "bash" else ".py"
            path = filedialog.asksaveasfilename(parent=self, defaultextension=ext) or None
        if not path:
            return False
        self.path = path
        return self._write(path, wait=wait)

    def _write(self, path: str, *, wait: bool) -> bool:
        data = self.get_text()
        if self.newline != "\n":
            data = data.replace("\n", self.newline)
        self.text.edit_modified(False)  # what is on screen now is what gets written

        def write() -> None:
            try:
                write_source(path, data, backup=False)
            except SourceFileError as exc:
                message = f"Not saved: {exc}"

                def failed() -> None:
                    self.text.edit_modified(True)
                    self.show_message(message)

                self.host.call_soon(failed)
                return
            self.host.call_soon(lambda: self._saved(path))

        if wait:  # closing: the worker may not get to it
            write()
            return not self.dirty
        self.host.run_tools(write)
        return True

    def _saved(self, path: str) -> None:
        self.show_message("")
        if path not in self.recent[:1]:
            self.recent = [path, *(p for p in self.recent if p != path)][:RECENT]
            self.host.remember(recent_files=tuple(self.recent))
        self.update_status(note=f"Saved {Path(path).name}")

    def confirm_discard(self, ask: Callable[..., bool | None] | None = None) -> bool:
        """If the buffer is dirty, offer to save it; False when the user cancels."""
        if not self.dirty:
            return True
        ask = ask or self.ask
        name = Path(self.path).name if self.path else "the untitled file"
        answer = ask("Unsaved changes", f"Save the changes to {name}?", parent=self)
        if answer is None:
            return False
        if answer:
            return self.save(wait=True)
        return True

    # -- keys -----------------------------------------------------------------------------

    def _on_key(self, event: tk.Event) -> None:
        if event.keysym in _MODIFIER_KEYS:
            return
        typing = bool(event.char and event.char.isprintable()) or event.keysym == "BackSpace"
        self.completer.keystroke(typing=typing and not event.state & 0x4)

    def _on_tab(self, _event: tk.Event) -> str:
        if self.completer.accept():
            return "break"
        self.completer.keystroke(typing=False)
        t = self.text
        if t.tag_ranges("sel"):
            t.delete("sel.first", "sel.last")
        t.insert("insert", self.indent.unit)
        return "break"

    def _on_escape(self, _event: tk.Event) -> str | None:
        # Without a suggestion, Esc goes on to the window (which stops a chat answer).
        return "break" if self.completer.dismiss() else None

    def _on_return(self, _event: tk.Event) -> str:
        before = self.text.get("insert linestart", "insert")
        self.completer.keystroke(typing=True)
        t = self.text
        if t.tag_ranges("sel"):
            t.delete("sel.first", "sel.last")
        t.insert("insert", "\n" + next_indent(before, language=self.language, indent=self.indent))
        t.see("insert")
        return "break"

    # -- highlighting --------------------------------------------------------------------

    def _edited(self, first: int, last: int) -> None:
        self._schedule_chrome()
        if not self.highlighting:
            return
        if self._tail is not None:  # the text moved under a running pass: redo from here
            reached = self._tail.first_line + self._tail.line_of(self._tail.done_to)
            self._tail_resume = min(reached, first)
            self._stop_tail()
        if self._dirty_lines is None:
            self._dirty_lines = [first, last]
            self.after_idle(self._rehighlight)
        else:
            self._dirty_lines[0] = min(self._dirty_lines[0], first)
            self._dirty_lines[1] = max(self._dirty_lines[1], last)

    def _last_line(self) -> int:
        return int(str(self._call("index", "end-1c")).split(".")[0])

    def _in_string(self, line: int) -> bool:
        return any(str(t).startswith(_STRING) for t in self._call("tag", "names", f"{line}.end"))

    def _rehighlight(self) -> None:
        """Re-highlight the lines edited since the last pass. Runs when Tk is idle."""
        if self._dirty_lines is None:
            return
        first, last = self._dirty_lines
        self._dirty_lines = None
        end = self._last_line()
        last = min(max(first, last), end)
        first = min(first, end)
        start = restart_line(first, self._in_string)
        was_string = self._in_string(last)
        lex = _Pass(self, start, self.text.get(f"{start}.0", f"{last + 1}.0"))
        lex.step()
        now_string = lex.last_tag.startswith(_STRING)
        if now_string != was_string or self._tail_resume is not None:
            # A string opened or closed: every line after may change colour.
            resume = min(start, self._tail_resume or start)
            self._tail_resume = None
            self._start_tail(restart_line(resume, self._in_string))

    def highlight_all(self) -> None:
        """Highlight the whole buffer, a chunk per idle moment."""
        self._start_tail(1)

    def _start_tail(self, line: int) -> None:
        self._stop_tail()
        self._tail = _Pass(self, line, self.text.get(f"{line}.0", "end-1c"))
        self._tail_step()

    def _tail_step(self) -> None:
        self._tail_after = None
        if self._tail is None:
            return
        if self._tail.step(CHUNK_LINES):
            self._tail = None
        else:
            self._tail_after = self.after(1, self._tail_step)

    def _stop_tail(self) -> None:
        if self._tail_after is not None:
            self.after_cancel(self._tail_after)
            self._tail_after = None
        self._tail = None

    @property
    def highlight_busy(self) -> bool:
        """Whether highlighting work is still queued (for tests and the benchmark)."""
        return self._tail is not None or self._dirty_lines is not None

    def retag(self, start: str, end: str, ranges: dict[str, list[str]]) -> None:
        """Replace the highlighting between ``start`` and ``end`` with ``ranges``."""
        for tag in self._used_tags:
            self._call("tag", "remove", tag, start, end)
        for tag, indices in ranges.items():
            if tag not in self._used_tags:
                self._used_tags.add(tag)
                self._call("tag", "lower", tag, "sel")
            self._call("tag", "add", tag, *indices)

    # -- chrome: line numbers, status ----------------------------------------------------

    def _schedule_chrome(self) -> None:
        if self._chrome_after is None:
            self._chrome_after = self.after_idle(self._redraw_chrome)

    def _redraw_chrome(self) -> None:
        self._chrome_after = None
        self._redraw_gutter()
        self.update_status()
        if self.completer.ghost.visible:
            self.completer.ghost.place()

    def _redraw_gutter(self) -> None:
        c = self.gutter
        c.delete("all")
        last = self._last_line()
        digits = max(3, len(str(last)))
        width = self._digit_width * (digits + 1) + 6
        if int(c.cget("width")) != width:
            c.configure(width=width)
        index = str(self._call("index", "@0,0"))
        line = int(index.split(".")[0])
        height = self.text.winfo_height()
        while line <= last:
            info = self._call("dlineinfo", f"{line}.0")
            if not info:
                break
            y = int(str(info).split()[1]) if isinstance(info, str) else int(info[1])
            if y > height:
                break
            c.create_text(
                width - 4, y, anchor="ne", text=str(line), fill=self._muted, font=self._font
            )
            line += 1

    def update_status(self, *, note: str = "") -> None:
        """Line and column, indentation, language, line ends, and what completion says."""
        line, col = self.cursor()
        parts = [
            f"Ln {line}, Col {col}",
            self.indent.describe(),
            "Bash" if self.language == "bash" else "Python",
            "CRLF" if self.newline == "\r\n" else "LF",
        ]
        if note or self.completer.status:
            parts.append(note or self.completer.status)
        self.status.configure(text="   ·   ".join(parts))
        label = file_label(self.path, dirty=self.dirty)
        if self.title_label.cget("text") != label:
            self.title_label.configure(text=label)

    def show_message(self, text: str) -> None:
        """A line above the status bar (why a file was not opened or saved ...)."""
        self.notice = text
        self.message.configure(text=text)
        if text:
            self.message.pack(side="bottom", fill="x", before=self.status)
        else:
            self.message.pack_forget()

    def apply_theme(self, theme: Theme, size: int) -> None:
        """Colours and the monospace font for every part."""
        self.theme = theme
        mono = tkfont.nametofont("TkFixedFont").actual("family")
        self._font = (mono, size)
        self._digit_width = tkfont.Font(family=mono, size=size).measure("0")
        self._muted = theme.muted
        for w in (
            self,
            self.toolbar,
            self.job_bar,
            self.body,
            self.title_label,
            self.status,
            self.message,
        ):
            w.configure(background=theme.panel)
        self.title_label.configure(foreground=theme.fg)
        self.status.configure(foreground=theme.muted)
        self.gutter.configure(background=theme.panel)
        self.text.configure(
            background=theme.bg,
            foreground=theme.fg,
            insertbackground=theme.fg,
            selectbackground=theme.accent,
            font=self._font,
            tabs=(self._digit_width * 8,),
        )
        for tag, opts in code_colours(theme).items():
            self.text.tag_configure(tag, **opts)
        self.text.tag_raise("sel")
        self.completer.ghost.style(font=self._font, fg=theme.muted, bg=theme.bg)
        self.diff_view.apply_theme(theme, size)
        self._schedule_chrome()

    # -- jobs on the file ---------------------------------------------------------------

    def _file_name(self) -> str:
        return Path(self.path).name if self.path else "untitled"

    def selection(self) -> str:
        """The selected text ("" when nothing is selected)."""
        if not self.text.tag_ranges("sel"):
            return ""
        return self.text.get("sel.first", "sel.last")

    def _file_options(self) -> dict[str, Any]:
        return {"source": self.get_text(), "path": self.path, "language": self.language}

    def _job(self, name: str, label: str, options: dict[str, Any]) -> bool:
        base = self.get_text()
        if not base.strip() and name != "ask":
            self.show_message(f"The file is empty: there is nothing to {name}.")
            return False
        self.show_message("")
        return self.host.start_job(
            name, label, options, lambda result, events: self.job_done(base, result, events)
        )

    def review(self) -> bool:
        """Review this file: linters, then the model; its diff is offered here."""
        return self._job("review", f"Review {self._file_name()}", self._file_options())

    def document(self) -> bool:
        """Document this file; the docstrings are offered here as a diff."""
        return self._job("document", f"Document {self._file_name()}", self._file_options())

    def debug(self) -> bool:
        """Run this file in the sandbox and debug what fails; the fix is offered as a diff."""
        path = self.path
        if path is None or self.dirty:
            # The sandbox runs a file: the buffer as it is now, under the file's name.
            folder = Path(tempfile.mkdtemp(prefix="codenook-editor-"))
            copy = folder / self._file_name() if self.path else folder / f"untitled.{self._ext()}"
            copy.write_text(self.get_text(), encoding="utf-8")
            path = str(copy)
        return self._job(
            "debug", f"Debug {self._file_name()}", {"path": path, "language": self.language}
        )

    def _ext(self) -> str:
        return "sh" if self.language == "bash" else "py"

    def explain_selection(self) -> bool:
        """Explain the selected code (or the whole file) in the chat."""
        code = self.selection() or self.get_text()
        what = "this selection from" if self.selection() else "the file"
        fence = f"```{self.language}\n{code.rstrip()}\n```"
        question = f"Explain what {what} {self._file_name()} does:\n\n{fence}"
        return self._job(
            "ask",
            f"Explain the selection in {self._file_name()}",
            {"question": question, "language": self.language},
        )

    def ask_selection(self, question: str | None = None) -> bool:
        """Ask a question about the selected code (or the whole file) in the chat."""
        if question is None:
            question = simpledialog.askstring(
                "Ask about the selection", "Your question:", parent=self
            )
        if not question or not question.strip():
            return False
        code = self.selection() or self.get_text()
        full = f"{question.strip()}\n\n```{self.language}\n{code.rstrip()}\n```"
        return self._job("ask", question.strip(), {"question": full, "language": self.language})

    def job_done(self, base: str, result: JobResult, events: list[JobEvent]) -> None:
        """A job on the file finished: offer its change as a diff. Tk thread."""
        said = [e.text for e in events if e.kind in ("findings", "error", "note", "run", "verify")]
        notes = "\n".join(said)
        diff = result.diff
        if diff is None and result.text is not None and result.text != base:
            from codenook.assist.tools.diffs import make_diff

            diff = make_diff(base, result.text, self._file_name())  # document: the whole new text
        if diff:
            title = f"{result.job.capitalize()}: proposed change to {self._file_name()}"
            self.propose_diff(diff, title=title, notes=notes)
        elif notes and result.job != "ask":
            self.show_message(notes.splitlines()[0])

    def propose_diff(self, diff: str, *, title: str, notes: str = "") -> None:
        """Show ``diff`` under the editor with Apply and Reject."""
        self._diff_base = self.get_text()
        self.diff_view.show(diff, title=title, notes=notes)
        self.diff_view.pack(side="bottom", fill="both", before=self.status)

    def hide_diff(self) -> None:
        """Take the diff view away."""
        self.diff_view.pack_forget()

    def reject_diff(self) -> None:
        """Reject: the buffer is not touched."""
        self.hide_diff()

    def apply_diff(self, diff: str) -> None:
        """Apply the proposed diff to the buffer (patch runs on a worker): one undo step."""
        base = self.get_text()
        name = self._file_name()

        def patch() -> None:
            from codenook.assist.tools.diffs import DiffError, apply_diff

            try:
                new = apply_diff(base, diff, name=name).text
            except DiffError as exc:
                message = str(exc)
                self.host.call_soon(lambda: self.show_message(message))
                return
            self.host.call_soon(lambda: self._patched(base, new))

        self.host.run_tools(patch)

    def _patched(self, base: str, new: str) -> None:
        if self.get_text() != base:
            self.show_message("The file changed while the diff was applied; apply it again.")
            return
        self.replace_text(new)
        self.hide_diff()
        self.update_status(note="Change applied (Ctrl+Z undoes it)")
