"""The editor pane: a Python or Bash file beside the chat, with completion and jobs on it.

Assembled the IDLE way from one-feature parts: :mod:`~codenook.gui.highlighter`
(Pygments, only the edited region), :mod:`~codenook.gui.gutter` (line numbers),
:mod:`~codenook.gui.editor_io` (open, save, recent files), :mod:`~codenook.gui.file_jobs`
(jobs on the file and their diffs) and :mod:`~codenook.gui.completion`. The pane itself
holds the text, its keys (undo/redo, auto-indent, the file's own tabs or spaces) and the
status line (line and column, a dirty marker).

Every change to the text, typed, undone or pasted, goes through the Text widget's Tcl
command, so that command is wrapped: the wrapper learns which lines changed and tells
the highlighter, which redoes them when Tk is idle (one pass for a burst of keys).
"""

from __future__ import annotations

import contextlib
import logging
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from tkinter import font as tkfont
from tkinter import messagebox, ttk
from typing import Any

from codenook.engine.backend import Backend, GenerationOptions
from codenook.gui.commands import Command
from codenook.gui.completion import LAYOUT_EVENT, Completer
from codenook.gui.editing import (
    Indent,
    detect_indent,
    file_label,
    language_for,
    line_edits,
    next_indent,
    split_newlines,
)
from codenook.gui.editor_io import FileIO
from codenook.gui.file_jobs import FileJobs, StartJob
from codenook.gui.gutter import Gutter
from codenook.gui.highlighter import Highlighter
from codenook.gui.redirector import wrap_text_command
from codenook.gui.theme import Theme, code_colours
from codenook.gui.transcript import Tooltip

log = logging.getLogger(__name__)

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


@dataclass
class EditorHost:
    """What the editor needs from the window: its bus, workers, the model, the chat."""

    #: Put a typed event on the window's bus (from any thread).
    post: Callable[[object], None]
    #: Subscribe to a class of events (delivered on the Tk thread).
    subscribe: Callable[..., Any]
    #: Run a function on the tools worker (file reads and writes, patch).
    run_tools: Callable[[Callable[[], None]], None]
    #: Run a function on the model worker (completion requests).
    run_model: Callable[[Callable[[], None]], None]
    #: On the model worker: (database, user, backend, options), or None before login/load.
    model_context: Callable[[], tuple[Any, Any, Backend, GenerationOptions] | None]
    #: Run job ``name`` in the chat with a label and options; the callback gets its result.
    start_job: StartJob
    #: Remember UI settings (editor width, recent files, auto-complete).
    remember: Callable[..., None]


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
        self.notice = ""
        self.buttons: dict[str, ttk.Button] = {}
        self._chrome_after: str | None = None
        #: How the save prompt asks (a test answers it without a dialog).
        self.ask: Callable[..., bool | None] = messagebox.askyesnocancel
        self.files = FileIO(
            self,
            run_tools=host.run_tools,
            post=host.post,
            subscribe=host.subscribe,
            remember=host.remember,
            recent=recent,
        )
        _build_toolbar(self)
        self.status = tk.Label(self, anchor="w", padx=6)
        self.status.pack(side="bottom", fill="x")
        self.jobs = FileJobs(
            self,
            self,
            start_job=host.start_job,
            run_tools=host.run_tools,
            post=host.post,
            subscribe=host.subscribe,
            theme=theme,
            size=size,
        )
        self.message = tk.Label(self, anchor="w", padx=6, foreground="#dc2626", wraplength=480)
        self._build_body()
        self.completer = Completer(
            self,
            run_model=host.run_model,
            post=host.post,
            subscribe=host.subscribe,
            model_context=host.model_context,
            auto=autocomplete,
            delay_ms=delay_ms,
        )
        self._bind_keys()
        self.apply_theme(theme, size)
        self.update_status()

    def destroy(self) -> None:
        """Cancel the idle work queued for this pane, then go."""
        if self._chrome_after is not None:
            with contextlib.suppress(tk.TclError):
                self.after_cancel(self._chrome_after)
        self._chrome_after = None
        self.highlighter.stop()
        self.completer.dismiss()
        super().destroy()

    # -- building ------------------------------------------------------------------

    def _build_body(self) -> None:
        body = tk.Frame(self)
        body.pack(side="top", fill="both", expand=True)
        self.body = body
        self.gutter = Gutter(body)
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
        self._call = wrap_text_command(self.text, self._edited)
        self.highlighter = Highlighter(self.text, call=self._call, language=lambda: self.language)

    def _edited(self, first: int, last: int) -> None:
        self._schedule_chrome()
        self.highlighter.edited(first, last)

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
        m, ctrl = "Editor", "Ctrl+"
        return [
            Command("Show / hide editor", toggle, m, "<Control-e>", ctrl + "E", can_open),
            Command("Open…", open_file, m, "<Control-o>", ctrl + "O", can_open),
            Command("Open recent", lambda: None, m, submenu=self.files.fill_recent),
            Command("Save", lambda: self.save(), m, "<Control-s>", ctrl + "S", shown),
            Command("Save as…", lambda: self.save_as(), m),
            Command(
                "Complete at cursor",
                self.completer.request,
                m,
                accelerator="Ctrl+Space",
                separator=True,
            ),
            Command("Complete as I type", self._toggle_auto, m, check=self.auto_var),
            Command("Review this file", self.jobs.review, m, separator=True),
            Command("Debug (run) this file", self.jobs.debug, m),
            Command("Document this file", self.jobs.document, m),
            Command("Explain the selection", self.jobs.explain_selection, m),
            Command("Ask about the selection…", lambda: self.jobs.ask_selection(parent=self), m),
        ]

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
        # A suggestion of several lines pushes the lines after it down: renumber them.
        t.bind(LAYOUT_EVENT, lambda _e: self._schedule_chrome())

    def _on_yscroll(self, bar: tk.Scrollbar) -> Callable[[str, str], None]:
        def moved(first: str, last: str) -> None:
            bar.set(first, last)
            self._schedule_chrome()

        return moved

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

    def selection(self) -> str:
        """The selected text ("" when nothing is selected)."""
        if not self.text.tag_ranges("sel"):
            return ""
        return self.text.get("sel.first", "sel.last")

    def set_text(self, text: str, *, path: str | None = None) -> None:
        """Show ``text`` as a fresh buffer (no undo history, not dirty)."""
        self.completer.dismiss()
        self.highlighter.stop()
        body, self.newline = split_newlines(text)
        self.path = path
        self.language = language_for(path, body)
        self.indent = detect_indent(body)
        self.highlighter.enabled = False  # one full pass below instead of one per edit
        self.text.delete("1.0", "end")
        self.text.insert("1.0", body)
        self.highlighter.enabled = True
        self.highlighter.reset()
        self.text.edit_reset()
        self.text.edit_modified(False)
        self.text.mark_set("insert", "1.0")
        self.text.see("1.0")
        self.jobs.hide_diff()
        self.highlighter.highlight_all()
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

    # -- the parts' actions, as the window and the buttons call them ---------------------

    def open_dialog(self) -> None:
        """Ask for a file and open it (Ctrl+O)."""
        self.files.open_dialog(self)

    def open_file(self, path: str) -> None:
        """Read ``path`` on a worker and show it."""
        self.files.open_file(path)

    def save(self, *, wait: bool = False) -> bool:
        """Write the buffer to its file (Ctrl+S); asks for a name when it has none."""
        return self.files.save(self, wait=wait)

    def save_as(self, path: str | None = None, *, wait: bool = False) -> bool:
        """Write the buffer to a new file (asks for the name when none is given)."""
        return self.files.save_as(self, path, wait=wait)

    def confirm_discard(self, ask: Callable[..., bool | None] | None = None) -> bool:
        """If the buffer is dirty, offer to save it; False when the user cancels."""
        return self.files.confirm_discard(self, ask)

    @property
    def diff_view(self) -> Any:
        """The diff view under the editor."""
        return self.jobs.diff_view

    @property
    def highlight_busy(self) -> bool:
        """Whether highlighting work is still queued (for tests and the benchmark)."""
        return self.highlighter.busy

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

    # -- chrome: line numbers, status ----------------------------------------------------

    def _schedule_chrome(self) -> None:
        if self._chrome_after is None:
            self._chrome_after = self.after_idle(self._redraw_chrome)

    def _redraw_chrome(self) -> None:
        self._chrome_after = None
        self.gutter.redraw(self.text, self._call, self.highlighter.last_line())
        self.update_status()
        if self.completer.ghost.visible:
            self.completer.ghost.place()

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
        font = (mono, size)
        digit = tkfont.Font(family=mono, size=size).measure("0")
        for w in (self, self.toolbar, self.job_bar, self.body, self.title_label):
            w.configure(background=theme.panel)
        for w in (self.status, self.message):
            w.configure(background=theme.panel)
        self.title_label.configure(foreground=theme.fg)
        self.status.configure(foreground=theme.muted)
        self.gutter.style(font=font, digit_width=digit, colour=theme.muted, background=theme.panel)
        self.text.configure(
            background=theme.bg,
            foreground=theme.fg,
            insertbackground=theme.fg,
            selectbackground=theme.accent,
            font=font,
            tabs=(digit * 8,),
        )
        for tag, opts in code_colours(theme).items():
            self.text.tag_configure(tag, **opts)
        self.text.tag_raise("sel")
        self.completer.ghost.style(font=font, fg=theme.muted, bg=theme.bg)
        self.jobs.diff_view.apply_theme(theme, size)
        self._schedule_chrome()


def _build_toolbar(pane: EditorPane) -> None:
    """The file row (name, Open, Save) and the jobs row, as the pane's attributes."""
    # Two rows: the file's name with Open and Save, then the jobs. The name is packed
    # last so that in a narrow pane it is what gets cut, never a button.
    bar = tk.Frame(pane)
    bar.pack(side="top", fill="x", padx=4, pady=(4, 0))
    jobs = tk.Frame(pane)
    jobs.pack(side="top", fill="x", padx=4, pady=(2, 2))
    pane.toolbar, pane.job_bar = bar, jobs
    pane.buttons = {}
    for row, side, entries in (
        (
            bar,
            "right",
            (
                ("save", "Save", lambda: pane.save(), "Save (Ctrl+S)"),
                ("open", "Open…", pane.open_dialog, "Open a file (Ctrl+O)"),
            ),
        ),
        (
            jobs,
            "left",
            (
                (
                    "review",
                    "Review",
                    lambda: pane.jobs.review(),
                    "Review this file (linters + model)",
                ),
                (
                    "debug",
                    "Debug",
                    lambda: pane.jobs.debug(),
                    "Debug (run) this file in the sandbox",
                ),
                (
                    "document",
                    "Document",
                    lambda: pane.jobs.document(),
                    "Document this file (docstrings)",
                ),
                (
                    "explain",
                    "Explain",
                    lambda: pane.jobs.explain_selection(),
                    "Explain the selection",
                ),
                (
                    "ask",
                    "Ask…",
                    lambda: pane.jobs.ask_selection(parent=pane),
                    "Ask about the selection",
                ),
            ),
        ),
    ):
        for key, label, command, tip in entries:
            b = ttk.Button(row, text=label, command=command, width=len(label) + 1)
            b.pack(side=side, padx=1)
            Tooltip(b, tip)
            pane.buttons[key] = b
    pane.title_label = tk.Label(bar, anchor="w", text="untitled")
    pane.title_label.pack(side="left", fill="x", expand=True)
