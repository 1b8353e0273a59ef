"""The codenook window: login, conversations, streaming chat, status bar.

Threading: the Tk thread only draws. Two workers do the rest: ``model`` loads the model
and generates (with its own database connection), ``store`` handles accounts and the
conversation list. Workers post events; ``_drain`` applies them every 20 ms.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
import tkinter as tk
import webbrowser
from dataclasses import replace
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from typing import TYPE_CHECKING, Any

from codenook import applog, config, safefile
from codenook.assist import feedback, history, interactions
from codenook.assist.session import DEFAULT_SYSTEM_PROMPT, Answer, ChatSession, options_from
from codenook.assist.tools import sandbox
from codenook.assist.tools.files import read_source
from codenook.auth import Auth, User
from codenook.engine.backend import Backend
from codenook.errors import UsageError
from codenook.gui import dispatch
from codenook.gui.dispatch import JOBS, LANGUAGES, JobRequest
from codenook.gui.dnd import enable_file_drop
from codenook.gui.editor import EditorHost, EditorPane, OnJobResult
from codenook.gui.feedback_dialog import FeedbackDialog
from codenook.gui.markdown import CodeBlock, to_blocks
from codenook.gui.models_view import FirstRunPanel, ModelManager
from codenook.gui.settings_dialog import SettingsDialog
from codenook.gui.theme import THEMES
from codenook.gui.transcript import Actions, Tooltip, Transcript
from codenook.gui.worker import Event, Worker
from codenook.library.pool import BackendPool
from codenook.library.routing import open_for_job
from codenook.store import conversations as store
from codenook.store.db import open_database

if TYPE_CHECKING:
    from codenook.assist.jobs import JobEvent, JobResult
    from codenook.gui.eval_view import EvaluateView

log = logging.getLogger(__name__)
POLL_MS = 20


class App:
    """The whole window and its state."""

    def __init__(self, root: tk.Tk, *, settings: config.Settings | None = None) -> None:
        self.root = root
        self.settings = settings or config.load_settings()
        self.events: queue.Queue[Event] = queue.Queue()
        self.model = Worker("model", self.events)
        self.store = Worker("store", self.events)
        self.tools = Worker("tools", self.events)  # sandbox runs: never behind an answer
        self.library = Worker("library", self.events)  # scans and downloads take minutes
        self.first_run: FirstRunPanel | None = None
        self.models_window: ModelManager | None = None
        self.eval_window: EvaluateView | None = None
        self.user: User | None = None
        self.backend: Backend | None = None
        self.session: ChatSession | None = None
        self.conversation_id: int | None = None
        self.conversations: list[store.ConversationRow] = []
        self.state = "loading"
        self.last_figures: dict[str, Any] = {}
        self.closing = False
        self._model_db = None
        self._loaded: Backend | None = None  # the backend the model worker holds
        #: Backends of jobs routed elsewhere than the chat (route name -> backend); the
        #: model worker opens them on first use and owns them.
        # Backends of jobs routed elsewhere than the chat (the shared pool, library/pool.py).
        self.pool = BackendPool(on_note=lambda text: self.model.post("status_text", text))
        #: The backend answering now (the chat's, or a routed job's): what Stop cancels.
        self._answering: Backend | None = None
        self._store_db = None
        self._late_notes: list[str] = []

        ui = self.settings.ui
        root.title("codenook")
        root.geometry(ui.geometry)
        root.minsize(640, 420)
        self.theme = THEMES[ui.theme]
        self.font_size = ui.font_size
        self._build_styles()
        self.login_frame = self._build_login()
        self.main_frame = self._build_main()
        self.login_frame.pack(fill="both", expand=True)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._bind_keys()
        self.apply_theme()
        self._poll = root.after(POLL_MS, self._drain)
        # The model's import and load hold the GIL for a while: start them once the window
        # is on screen, so it appears at once.
        root.after_idle(lambda: root.after(1, self._start_workers))

    def _start_workers(self) -> None:
        self.model.submit(self._load_model, on_error="model_error")
        self.store.submit(self._check_accounts)
        # Compile the Markdown and code lexers now, not when the first answer is shown.
        self.tools.submit(lambda: to_blocks("# t\n```python\nx = 1\n```\n```bash\necho\n```"))

    # -- building ------------------------------------------------------------------

    def _build_styles(self) -> None:
        self.style = ttk.Style(self.root)
        with contextlib.suppress(tk.TclError):
            self.style.theme_use("clam")

    def _build_login(self) -> tk.Frame:
        f = tk.Frame(self.root)
        box = tk.Frame(f, padx=24, pady=24)
        box.place(relx=0.5, rely=0.4, anchor="center")
        self.login_title = tk.Label(box, text="codenook", font=("TkDefaultFont", 20, "bold"))
        self.login_title.grid(row=0, column=0, columnspan=2, pady=(0, 12))
        self.login_hint = tk.Label(box, text="Log in", wraplength=320)
        self.login_hint.grid(row=1, column=0, columnspan=2, pady=(0, 8))
        tk.Label(box, text="User name").grid(row=2, column=0, sticky="e", padx=4, pady=3)
        self.name_entry = ttk.Entry(box, width=28)
        self.name_entry.grid(row=2, column=1, pady=3)
        tk.Label(box, text="Password").grid(row=3, column=0, sticky="e", padx=4, pady=3)
        self.password_entry = ttk.Entry(box, width=28, show="•")
        self.password_entry.grid(row=3, column=1, pady=3)
        self.repeat_label = tk.Label(box, text="Repeat")
        self.repeat_entry = ttk.Entry(box, width=28, show="•")
        self.login_button = ttk.Button(box, text="Log in", command=self.submit_login)
        self.login_button.grid(row=5, column=1, sticky="e", pady=8)
        self.login_error = tk.Label(box, text="", foreground="#dc2626", wraplength=340)
        self.login_error.grid(row=6, column=0, columnspan=2)
        self.creating = False
        for w in (self.name_entry, self.password_entry, self.repeat_entry):
            w.bind("<Return>", lambda _e: self.submit_login())
        self.name_entry.focus_set()
        return f

    def _build_main(self) -> tk.Frame:
        f = tk.Frame(self.root)
        self._build_menu()
        self.status = tk.Label(f, anchor="w", padx=8, text="")
        self.status.pack(side="bottom", fill="x")
        self.panes = tk.PanedWindow(f, orient="horizontal", sashwidth=5, borderwidth=0)
        self.panes.pack(fill="both", expand=True)

        side = tk.Frame(self.panes)
        top = tk.Frame(side)
        top.pack(fill="x", padx=6, pady=6)
        self.new_button = ttk.Button(top, text="New", command=self.new_conversation, width=6)
        self.new_button.pack(side="left")
        Tooltip(self.new_button, "New conversation (Ctrl+N)")
        self.search_entry = ttk.Entry(top)
        self.search_entry.pack(side="left", fill="x", expand=True, padx=(6, 0))
        self.search_entry.bind("<Return>", lambda _e: self.search())
        self.search_entry.bind("<Escape>", lambda _e: self.clear_search())
        Tooltip(self.search_entry, "Search your conversations (Ctrl+F, Enter)")
        self.conv_list = tk.Listbox(
            side, activestyle="none", borderwidth=0, highlightthickness=0, exportselection=False
        )
        self.conv_list.pack(fill="both", expand=True, padx=6, pady=(0, 6))
        self.conv_list.bind("<<ListboxSelect>>", self._on_pick)
        self.conv_list.bind("<Button-3>", self._conv_menu)
        self.panes.add(side, width=self.settings.ui.sidebar_width, minsize=150)

        chat = tk.Frame(self.panes)
        self.transcript = Transcript(
            chat,
            actions=Actions(
                copy=self.copy_code,
                save=self.save_code,
                run=self.run_code,
                vote=self.vote,
                open_link=self.open_link,
                insert=self.insert_into_editor,
            ),
            theme=self.theme,
            size=self.font_size,
        )
        self.transcript.pack(fill="both", expand=True)
        bottom = tk.Frame(chat, padx=6, pady=6)
        bottom.pack(fill="x")
        row = tk.Frame(bottom)
        row.pack(fill="x")
        self.job = ttk.Combobox(row, values=JOBS, state="readonly", width=10)
        self.job.set("Ask")
        self.job.pack(side="left")
        Tooltip(self.job, "What codenook should do")
        self.language = ttk.Combobox(row, values=LANGUAGES, state="readonly", width=8)
        self.language.set("Auto")
        self.language.pack(side="left", padx=4)
        self.attach_button = ttk.Button(row, text="Attach…", command=self.attach, width=8)
        self.attach_button.pack(side="left")
        Tooltip(self.attach_button, "Attach a file for the job to work on")
        self.attached: str | None = None
        self.attached_label = ttk.Button(row, text="", command=self.detach)
        Tooltip(self.attached_label, "Attached: the job works on this file (click to remove)")
        # Packed right to left, Send first: in a narrow chat the others give way first.
        self.send_button = ttk.Button(row, text="Send", command=self.send, width=6)
        self.send_button.pack(side="right")
        Tooltip(self.send_button, "Send (Enter; Shift+Enter for a new line)")
        self.stop_button = ttk.Button(row, text="Stop", command=self.stop, width=5)
        self.stop_button.pack(side="right", padx=4)
        Tooltip(self.stop_button, "Stop the answer (Esc)")
        self.regen_button = ttk.Button(row, text="Regenerate", command=self.regenerate, width=11)
        self.regen_button.pack(side="right")
        Tooltip(self.regen_button, "Answer the last question again")
        self.input = tk.Text(bottom, height=4, wrap="word", undo=True, padx=6, pady=4)
        self.input.pack(fill="x", pady=(6, 0))
        self.input.bind("<Return>", self._on_return)
        self.input.bind("<Control-Return>", lambda _e: self.send() or "break")
        # Dropping a file on the input (or the transcript) attaches it, as Attach… does;
        # tkdnd loads once the window is up (it costs tens of ms).
        self.can_drop = False
        self.root.after(300, self._enable_drop)
        self.panes.add(chat, minsize=300)
        ui = self.settings.ui
        self.editor = EditorPane(  # added to the panes by Ctrl+E
            self.panes,
            host=self._editor_host(),
            theme=self.theme,
            size=self.font_size,
            recent=ui.recent_files,
            autocomplete=ui.autocomplete,
            delay_ms=ui.autocomplete_delay_ms,
        )
        self.menu.add_cascade(
            label="Editor", menu=self.editor.build_menu(self.menu, toggle=self.toggle_editor)
        )
        return f

    def _build_menu(self) -> None:
        bar = tk.Menu(self.root)
        file = tk.Menu(bar, tearoff=False)
        file.add_command(
            label="New conversation", accelerator="Ctrl+N", command=self.new_conversation
        )
        file.add_command(label="Export as Markdown…", command=lambda: self.export("md"))
        file.add_command(label="Export as JSON…", command=lambda: self.export("json"))
        file.add_separator()
        file.add_command(label="Log out", command=self.logout)
        file.add_command(label="Quit", accelerator="Ctrl+Q", command=self.close)
        bar.add_cascade(label="File", menu=file)
        edit = tk.Menu(bar, tearoff=False)
        edit.add_command(label="Settings…", accelerator="Ctrl+,", command=self.open_settings)
        edit.add_command(label="Models…", command=self.open_models)
        edit.add_command(label="Evaluate…", command=self.open_evaluate)
        edit.add_command(label="Feedback…", command=self.open_feedback)
        bar.add_cascade(label="Edit", menu=edit)
        view = tk.Menu(bar, tearoff=False)
        view.add_command(label="Light theme", command=lambda: self.set_theme("light"))
        view.add_command(label="Dark theme", command=lambda: self.set_theme("dark"))
        view.add_command(
            label="Larger text",
            accelerator="Ctrl++",
            command=lambda: self.set_font_size(self.font_size + 1),
        )
        view.add_command(
            label="Smaller text",
            accelerator="Ctrl+-",
            command=lambda: self.set_font_size(self.font_size - 1),
        )
        bar.add_cascade(label="View", menu=view)
        self.menu = bar

    def _bind_keys(self) -> None:
        r = self.root
        r.bind("<Control-n>", lambda _e: self.new_conversation())
        r.bind("<Control-f>", lambda _e: self.search_entry.focus_set())
        r.bind("<Control-l>", lambda _e: self.input.focus_set())
        r.bind("<Control-q>", lambda _e: self.close())
        r.bind("<Control-comma>", lambda _e: self.open_settings())
        r.bind("<Escape>", lambda _e: self.stop())
        r.bind("<Control-plus>", lambda _e: self.set_font_size(self.font_size + 1))
        r.bind("<Control-minus>", lambda _e: self.set_font_size(self.font_size - 1))
        r.bind("<Control-e>", lambda _e: self.user and self.toggle_editor())
        r.bind("<Control-o>", lambda _e: self.user and self.open_in_editor())
        r.bind("<Control-s>", lambda _e: self._editor_shown() and self.editor.save())

    # -- look ------------------------------------------------------------------------

    def apply_theme(self) -> None:
        """Colour every widget for the current theme and font size."""
        t = self.theme
        for w in (self.root, self.login_frame, self.main_frame, self.panes):
            w.configure(background=t.panel)
        self._paint(self.login_frame, t.panel)
        self._paint(self.main_frame, t.panel)
        self.status.configure(background=t.panel, foreground=t.muted)
        self.conv_list.configure(
            background=t.panel,
            foreground=t.fg,
            selectbackground=t.accent,
            font=("TkDefaultFont", self.font_size),
        )
        self.input.configure(
            background=t.input_bg,
            foreground=t.fg,
            insertbackground=t.fg,
            font=("TkDefaultFont", self.font_size),
        )
        self.transcript.apply_theme(t, self.font_size)
        self.editor.apply_theme(t, self.font_size)
        self.style.configure("TEntry", fieldbackground=t.input_bg, foreground=t.fg)

    def _paint(self, widget: tk.Misc, bg: str) -> None:
        for child in widget.winfo_children():
            if isinstance(child, tk.Frame | tk.Label):
                child.configure(background=bg)
                if isinstance(child, tk.Label) and child is not self.login_error:
                    child.configure(foreground=self.theme.fg)
            self._paint(child, bg)

    def set_theme(self, name: str) -> None:
        """Switch between the light and dark themes (remembered)."""
        self.theme = THEMES[name]
        self.apply_theme()
        self._remember(theme=name)

    def set_font_size(self, size: int) -> None:
        """Make all text larger or smaller (remembered)."""
        self.font_size = max(7, min(size, 32))
        self.apply_theme()
        self._remember(font_size=self.font_size)

    def _remember(self, **ui: Any) -> None:
        self.settings = replace(self.settings, ui=replace(self.settings.ui, **ui))
        settings = self.settings
        # Sizes and recent files go to the state file; settings.toml changes only when a
        # setting the user chose (theme, font size) does.
        window_only = set(ui) <= config.WINDOW_STATE
        save = config.save_window_state if window_only else config.save_settings
        self.store.submit(lambda: save(settings))

    # -- events from workers -------------------------------------------------------

    def _drain(self) -> None:
        """Apply queued worker events; runs on the Tk thread every 20 ms."""
        pieces: list[str] = []
        try:
            while True:
                kind, payload = self.events.get_nowait()
                if kind == "token":
                    pieces.append(payload)
                    continue
                if pieces:
                    self.transcript.append("".join(pieces))
                    pieces = []
                try:
                    getattr(self, f"_on_{kind}", self._on_unknown)(payload)
                except Exception as exc:  # a bug in one handler must not freeze the window
                    log.exception("window event %s failed", kind)
                    with contextlib.suppress(Exception):
                        self.transcript.add_error(f"Internal error ({kind}): {exc}")
        except queue.Empty:
            pass
        if pieces:
            self.transcript.append("".join(pieces))
        if not self.closing:
            self._poll = self.root.after(POLL_MS, self._drain)

    def _on_call(self, payload: tuple[Any, ...]) -> None:
        # A worker's result for a view: ``(function, *arguments)`` run here, on the Tk thread.
        fn, *args = payload
        fn(*args)

    def _on_library_error(self, exc: Exception) -> None:
        view = self.models_window or self.first_run
        if view is not None and view.winfo_exists():
            view.say(str(exc), error=True)
        else:
            self.transcript.add_error(f"Models: {exc}")

    def _on_unknown(self, payload: Any) -> None:
        log.warning("unhandled window event: %r", payload)

    def _on_error(self, exc: Exception) -> None:
        self.transcript.add_error(f"Error: {exc}")
        self._set_state("ready" if self.backend else self.state)

    def _on_model_ready(self, backend: Backend) -> None:
        self.backend = backend
        self.status_note = ""  # "loading model…" is over
        self._set_state("ready")

    def _on_model_error(self, exc: Exception) -> None:
        self._set_state("no model")
        self.status_note = str(exc)
        self.transcript.add_error(f"The model could not be loaded: {exc}")
        self._update_status()

    def _on_accounts(self, has_users: bool) -> None:
        self.creating = not has_users
        if self.creating:
            self.login_hint.configure(text="No account yet: create the first one (admin).")
            self.repeat_label.grid(row=4, column=0, sticky="e", padx=4, pady=3)
            self.repeat_entry.grid(row=4, column=1, pady=3)
            self.login_button.configure(text="Create account")

    def _on_login_error(self, exc: Exception) -> None:
        self.login_error.configure(text=str(exc))
        self.login_button.state(["!disabled"])

    def _on_logged_in(self, user: User) -> None:
        self.user = user
        self.password_entry.delete(0, "end")
        self.repeat_entry.delete(0, "end")
        self.login_error.configure(text="")
        self.login_button.state(["!disabled"])
        self.login_frame.pack_forget()
        self.root.configure(menu=self.menu)
        self.main_frame.pack(fill="both", expand=True)
        self.input.focus_set()
        self.refresh_conversations(open_latest=True)
        s = self.settings
        if not s.models.first_run_done and s.model.path is None and self.first_run is None:
            self.first_run = FirstRunPanel(self.transcript.master, self)
            self.first_run.pack(fill="x", padx=6, pady=(6, 0), before=self.transcript)

    def first_run_finished(self, what: str) -> None:
        """The first-run question is answered: the panel goes, the status says the model."""
        if self.first_run is not None:
            self.first_run.destroy()
            self.first_run = None
        self.status_note = f"Using {what}"
        self._update_status()

    def open_evaluate(self) -> EvaluateView:
        """Evaluate…: run a suite on the model, with progress, Stop and the comparison chart."""
        from codenook.gui.eval_view import EvaluateView  # matplotlib only when asked for

        if self.eval_window is not None and self.eval_window.winfo_exists():
            self.eval_window.lift()
            return self.eval_window
        self.eval_window = EvaluateView(self.root, self)
        return self.eval_window

    def open_models(self) -> ModelManager:
        """Models…: the catalog and installed models, download, use, remove, token."""
        if self.models_window is not None and self.models_window.winfo_exists():
            self.models_window.lift()
            return self.models_window
        self.models_window = ModelManager(self.root, self)
        return self.models_window

    def _on_conversations(self, rows: list[store.ConversationRow]) -> None:
        self.conversations = rows
        self.conv_list.delete(0, "end")
        for row in rows:
            self.conv_list.insert("end", row.title)
        if self.conversation_id is not None:
            for i, row in enumerate(rows):
                if row.id == self.conversation_id:
                    self.conv_list.selection_clear(0, "end")
                    self.conv_list.selection_set(i)

    def _on_open_latest(self, rows: list[store.ConversationRow]) -> None:
        self._on_conversations(rows)
        if rows:
            self.open_conversation(rows[0].id)

    def _on_conversation(self, doc: dict[str, Any]) -> None:
        self.transcript.clear()
        for m in doc["messages"]:
            if m["role"] == "user":
                self.transcript.add_user(m["content"])
            else:
                note = "" if m["complete"] else "(partial answer)"
                self.transcript.add_answer(m["content"], message_id=m["id"], note=note)

    def _on_answer_done(self, figures: dict[str, Any]) -> None:
        late, self._late_notes = self._late_notes, []
        if "message_id" not in figures:  # a job that never asked the model
            self._set_state("ready")
            self.transcript.finish_answer(figures["text"], message_id=None)
            for text in late:
                self.transcript.add_output(text)
            return
        self.last_figures = figures
        self.conversation_id = figures["conversation_id"]
        note = ""
        if figures["finish_reason"] == "cancelled":
            note = "(stopped)"
        if figures.get("turns_dropped"):
            note += f" ({figures['turns_dropped']} oldest turns left out to fit the context)"
        by = figures.get("backend")
        if by and self.backend is not None and by != self.backend.info.backend:
            self.status_note = f"answered by {by}"  # a job routed to another machine
        self._set_state("ready")
        if figures.get("reload"):
            # A regenerated answer replaced an older one: show the conversation as stored.
            self.transcript.streaming = False
            self.open_conversation(figures["conversation_id"])
        else:
            self.transcript.finish_answer(
                figures["text"], message_id=figures["message_id"], note=note.strip()
            )
        for text in late:
            self.transcript.add_output(text)
        self.refresh_conversations()

    def _on_job_event(self, event: JobEvent) -> None:
        # What the tools found before the model speaks (lint findings, the error) shows
        # above the answer at once; what they find later follows the answer.
        if not self.transcript.add_tool_note(event.text):
            self._late_notes.append(event.text)

    def _on_conversation_started(self, conv_id: int) -> None:
        self.conversation_id = conv_id

    def _on_answer_error(self, exc: Exception) -> None:
        if self.transcript.streaming:
            self.transcript.finish_answer("", message_id=None)
        self.transcript.add_error(f"Error: {exc}")
        self._set_state("ready")
        self.refresh_conversations()

    def _on_run_result(self, text: str) -> None:
        self.status_note = ""
        self._update_status()
        self.transcript.add_output(text)

    def _on_saved(self, path: str) -> None:
        self.status_note = f"Saved {path}"
        self._update_status()

    # -- state and status ---------------------------------------------------------------

    status_note = ""

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state == "generating"
        self.send_button.state(["disabled"] if busy else ["!disabled"])
        self.regen_button.state(["disabled"] if busy else ["!disabled"])
        self.stop_button.state(["!disabled"] if busy else ["disabled"])
        self._update_status()

    def _update_status(self) -> None:
        parts = []
        b = self.backend
        if b is not None:
            i = b.info
            where = i.device
            if i.layer_offload and i.gpu_layers != 0:
                where = f"GPU {i.gpu_layers if i.gpu_layers > 0 else 'all'} layers"
            parts.append(f"{i.name} · {i.backend}" + (f" · {where}" if i.local else ""))
        parts.append(self.state)
        f = self.last_figures
        if f:
            if f.get("tokens_per_second"):
                parts.append(f"{f['tokens_per_second']:.1f} tok/s")
            if f.get("time_to_first_token") is not None:
                parts.append(f"first token {f['time_to_first_token'] * 1000:.0f} ms")
            if b is not None:
                used = f["prompt_tokens"] + f["answer_tokens"]
                parts.append(f"context {used:,}/{b.info.context_length:,}")
            if f.get("turns_dropped"):
                parts.append(f"{f['turns_dropped']} old turns left out")
        if self.status_note:
            parts.append(self.status_note)
        self.status.configure(text="   ·   ".join(parts))

    # -- worker jobs (run on worker threads) ----------------------------------------

    def _load_model(self) -> None:
        """Load the configured model. Runs on the model worker."""
        self.model.post("status_text", "loading model…")
        # The window's chat follows the ask route: local, or a remote backend (with failover).
        backend = open_for_job(
            self.settings, "ask", on_note=lambda text: self.model.post("status_text", text)
        )
        # The jobs are imported here, on the thread that runs them, rather than at window
        # start (the window maps sooner) or in the first request (which would wait for it).
        import codenook.assist.jobs  # noqa: F401

        self._loaded = backend
        self.model.post("model_ready", backend)

    def _on_status_text(self, text: str) -> None:
        self.status_note = text if self.state == "loading" else ""
        self._update_status()

    def _store_conn(self) -> Any:
        """The store worker's own connection. Runs on the store worker."""
        if self._store_db is None:
            self._store_db = open_database()
        return self._store_db

    def _model_conn(self) -> Any:
        """The model worker's own connection. Runs on the model worker."""
        if self._model_db is None:
            self._model_db = open_database()
        return self._model_db

    def _check_accounts(self) -> None:
        """Runs on the store worker."""
        self.store.post("accounts", Auth(self._store_conn()).has_users())

    # -- actions (Tk thread) --------------------------------------------------------------

    def submit_login(self) -> None:
        """Log in, or create the first account."""
        name = self.name_entry.get().strip()
        password = self.password_entry.get()
        repeat = self.repeat_entry.get()
        if self.creating and password != repeat:
            self.login_error.configure(text="The two passwords differ.")
            return
        self.login_button.state(["disabled"])
        self.login_error.configure(text="Checking…")
        creating = self.creating

        def job() -> None:
            auth = Auth(self._store_conn())
            user = auth.create_user(name, password) if creating else auth.verify(name, password)
            self.store.post("logged_in", user)

        self.store.submit(job, on_error="login_error")

    def logout(self) -> None:
        """Back to the login screen."""
        self.stop()
        self.user = None
        self.session = None
        self.conversation_id = None
        self.transcript.clear()
        self.main_frame.pack_forget()
        self.root.configure(menu="")
        self.login_frame.pack(fill="both", expand=True)
        self.name_entry.focus_set()

    def refresh_conversations(self, *, open_latest: bool = False) -> None:
        """Reload the sidebar (newest first)."""
        user = self.user
        if user is None:
            return

        def job() -> None:
            rows = store.list_conversations(self._store_conn(), user.id)
            self.store.post("open_latest" if open_latest else "conversations", rows)

        self.store.submit(job)

    def open_conversation(self, conv_id: int) -> None:
        """Show a stored conversation and continue it."""
        user = self.user
        if user is None or self.state == "generating":
            return
        self.conversation_id = conv_id
        self.session = None
        self.store.submit(
            lambda: self.store.post(
                "conversation", history.load(self._store_conn(), user.id, conv_id)
            )
        )

    def _on_pick(self, _event: tk.Event) -> None:
        sel = self.conv_list.curselection()
        if sel and sel[0] < len(self.conversations):
            conv = self.conversations[sel[0]]
            if conv.id != self.conversation_id:
                self.open_conversation(conv.id)

    def new_conversation(self) -> None:
        """Start an empty conversation."""
        if self.state == "generating":
            return
        self.conversation_id = None
        self.session = None
        self.transcript.clear()
        self.conv_list.selection_clear(0, "end")
        self.input.focus_set()

    def search(self) -> None:
        """Full-text search; the sidebar shows matching conversations."""
        user, text = self.user, self.search_entry.get().strip()
        if user is None:
            return
        if not text:
            self.refresh_conversations()
            return

        def job() -> None:
            db = self._store_conn()
            ids = dict.fromkeys(h.conversation_id for h in store.search(db, user.id, text))
            rows = [r for i in ids if (r := store.get_conversation(db, user.id, i))]
            self.store.post("conversations", rows)

        self.store.submit(job)

    def clear_search(self) -> None:
        """Show all conversations again."""
        self.search_entry.delete(0, "end")
        self.refresh_conversations()

    def _conv_menu(self, event: tk.Event) -> None:
        index = self.conv_list.nearest(event.y)
        if index < 0 or index >= len(self.conversations):
            return
        conv = self.conversations[index]
        menu = tk.Menu(self.root, tearoff=False)
        menu.add_command(label="Rename…", command=lambda: self.rename(conv.id))
        menu.add_command(label="Delete…", command=lambda: self.delete(conv.id))
        menu.tk_popup(event.x_root, event.y_root)

    def rename(self, conv_id: int, title: str | None = None) -> None:
        """Give a conversation a new title (asks when none is given)."""
        from tkinter import simpledialog

        if title is None:
            title = simpledialog.askstring("Rename", "New title:", parent=self.root)
        user = self.user
        if not title or not title.strip() or user is None:
            return
        clean = " ".join(title.split())[:200]
        self.store.submit(
            lambda: store.rename_conversation(self._store_conn(), user.id, conv_id, clean)
        )
        self.refresh_conversations()

    def delete(self, conv_id: int, *, confirm: bool = True) -> None:
        """Delete a conversation after confirmation."""
        user = self.user
        if user is None:
            return
        if confirm and not messagebox.askyesno(
            "Delete conversation",
            "Delete this conversation and all its messages?",
            parent=self.root,
        ):
            return
        if conv_id == self.conversation_id:
            self.new_conversation()
        self.store.submit(lambda: store.delete_conversation(self._store_conn(), user.id, conv_id))
        self.refresh_conversations()

    def export(self, fmt: str) -> None:
        """Save the open conversation as Markdown or JSON."""
        user, conv_id = self.user, self.conversation_id
        if user is None or conv_id is None:
            return
        path = filedialog.asksaveasfilename(
            parent=self.root,
            defaultextension=f".{fmt}",
            filetypes=[("Markdown", "*.md")] if fmt == "md" else [("JSON", "*.json")],
        )
        if not path:
            return

        def job() -> None:
            doc = history.load(self._store_conn(), user.id, conv_id)
            text = history.to_markdown(doc) if fmt == "md" else history.to_json(doc)
            # The dialog asked before replacing: a link there is replaced, never followed.
            safefile.write_file(path, text, force=True)
            self.store.post("saved", path)

        self.store.submit(job)

    def _on_return(self, event: tk.Event) -> str | None:
        if event.state & 0x1:  # Shift+Enter: a new line
            return None
        self.send()
        return "break"

    def send(self, text: str | None = None) -> None:
        """Run the selected job on the input box's text (or ``text``) and stream the answer."""
        if text is None:
            text = self.input.get("1.0", "end-1c")
        if self.user is None or (not text.strip() and self.attached is None):
            return
        if self.backend is None:
            self.transcript.add_error("The model is still loading; your text stays in the box.")
            return
        if self.state == "generating":
            return
        try:
            request = dispatch.plan(self.job.get(), self.language.get(), text, self.attached)
        except UsageError as exc:
            # Nothing is taken out of the box: the user fixes the request and sends again.
            self.transcript.add_error(str(exc))
            return
        self.input.delete("1.0", "end")
        self.detach()
        self.transcript.add_user(request.shown)
        self._start_answer(self._job_call(request), job=request.name)

    def _job_call(self, request: JobRequest) -> Any:
        """The worker's side of ``request``: a call ``(session, on_text) -> JobResult``."""
        prompts = self.settings.prompts
        limits = sandbox.Limits.from_settings(self.settings.sandbox)

        def on_event(event: JobEvent) -> None:
            self.model.post("job_event", event)

        def call(session: ChatSession, on_text: Any) -> JobResult:
            # Imported on the worker: the jobs and their tools cost ~0.2 s the window's
            # first appearance does not need to wait for.
            from codenook.assist.jobs import run_job

            options = dict(request.options)
            if request.attach is not None:
                key = "question" if request.name == "ask" else "description"
                code = read_source(request.attach)
                lang = options.get("language")
                options[key] = dispatch.with_file(
                    options[key], Path(request.attach).name, code, lang
                )
            if request.name == "complete" and "line" not in options:
                options["source"] = source = read_source(options["path"])
                options.update(dispatch.end_of(source))
            if request.name == "debug":
                options["limits"] = limits
                if request.scratch is not None:
                    options["path"] = self._scratch_file(request.scratch, options["language"])
            return run_job(
                request.name,
                session,
                on_text=on_text,
                on_event=on_event,
                prompts=prompts,
                **options,
            )

        return call

    @staticmethod
    def _scratch_file(code: str, language: str | None) -> str:
        """Write pasted code for Debug to run (worker thread); returns its path."""
        folder = config.paths().cache / "scratch"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / dispatch.scratch_name(code, language)
        safefile.write_file(path, code if code.endswith("\n") else code + "\n", force=True)
        return str(path)

    def regenerate(self) -> None:
        """Redo the last answer."""
        if self.backend is None or self.state == "generating" or self.conversation_id is None:
            return
        self.transcript.clear()
        self._start_answer(
            lambda session, on_text: session.regenerate(on_text=on_text), reload=True
        )

    def _backend_for(self, job: str, chat: Backend) -> Backend:
        """The backend ``job`` is routed to (settings ``[routing]``). Runs on the model worker.

        The chat's own backend follows the ask route; a job routed elsewhere gets its own,
        opened once (with failover when allowed) and kept until the settings change.
        """
        routing = self.settings.routing
        target = routing.for_job(job)
        if target == routing.for_job("ask"):
            return chat
        if not self.pool.has(self.settings, job):
            self.model.post("status_text", f"opening the {job} backend ({target})…")
        return self.pool.get(self.settings, job)

    def _start_answer(self, call: Any, *, reload: bool = False, job: str = "ask") -> None:
        """Run ``call(session, on_text)`` on the model worker, streaming into the transcript.

        ``job`` picks the backend through the routing settings; a job answered by another
        backend than the chat's runs in a session of its own on the same conversation.
        """
        self._set_state("generating")
        self.status_note = ""
        user, backend, conv_id = self.user, self.backend, self.conversation_id
        assert user is not None and backend is not None
        options = options_from(self.settings.generation)
        self.transcript.begin_answer()

        def session_on(db: Any, answering: Backend) -> ChatSession:
            if conv_id is not None:
                return ChatSession.resume(db, user, answering, conv_id, options=options)
            system = self.settings.prompts.ask or DEFAULT_SYSTEM_PROMPT
            return ChatSession(db, user, answering, options, system_prompt=system)

        def work() -> None:
            db = self._model_conn()
            answering = self._answering = self._backend_for(job, backend)
            try:
                if answering is not backend:
                    self.session = None  # the chat resumes on its own backend afterwards
                    session = session_on(db, answering)
                else:
                    if self.session is None or self.session.conversation_id != conv_id:
                        self.session = session_on(db, backend)
                    session = self.session
                stream(session)
            finally:
                self._answering = None

        def stream(session: ChatSession) -> None:
            started = []

            def on_text(piece: str) -> None:
                if not started:  # the window learns a new conversation's id at once
                    started.append(True)
                    self.model.post("conversation_started", session.conversation_id)
                streamed.append(piece)
                self.model.post("token", piece)

            streamed: list[str] = []
            outcome = call(session, on_text)
            if not isinstance(outcome, Answer):
                answer = outcome.answer
                # A job may ask more than once (a retry, one docstring each): the
                # transcript keeps all that streamed, and the tools' verdicts follow.
                done = {"text": "".join(streamed), "reload": reload, "job": outcome.summary()}
                if answer is not None:
                    done.update(answer.figures())
                self.model.post("answer_done", done)
                return
            self.model.post(
                "answer_done", {"text": outcome.text, "reload": reload, **outcome.figures()}
            )

        self.model.submit(work, on_error="answer_error")

    def stop(self) -> None:
        """Stop the answer being generated (Esc). Safe at any time."""
        answering = self._answering or self.backend
        if answering is not None and self.state == "generating":
            answering.cancel()

    def attach(self) -> None:
        """Pick a file for the job to work on (Review, Debug, Document ... run on it)."""
        path = filedialog.askopenfilename(parent=self.root)
        if path:
            self.attach_file(path)

    def attach_file(self, path: str) -> None:
        """Attach ``path`` once a worker has checked it is UTF-8 text under 5 MB."""

        def job() -> None:
            read_source(path)  # a binary, non-UTF-8, huge or missing file is said now
            self.store.post("attached", path)

        self.store.submit(job, on_error="attach_error")

    def _enable_drop(self) -> None:
        self.can_drop = enable_file_drop(self.input, self.drop_files)
        if self.can_drop:
            enable_file_drop(self.transcript.text, self.drop_files)

    def drop_files(self, paths: list[str]) -> None:
        """Files dropped on the window: the first is attached; more are said to be left."""
        self.attach_file(paths[0])
        if len(paths) > 1:
            left = ", ".join(Path(p).name for p in paths[1:])
            self.transcript.add_error(
                f"One file at a time: attached {Path(paths[0]).name}, not {left}."
            )

    def _on_attached(self, path: str) -> None:
        self.attached = path
        self.attached_label.configure(text=f"{Path(path).name} ✕")
        self.attached_label.pack(side="left", padx=4)

    def _on_attach_error(self, exc: Exception) -> None:
        self.transcript.add_error(f"Not attached: {exc}")

    def detach(self) -> None:
        """Forget the attached file."""
        self.attached = None
        self.attached_label.pack_forget()

    # -- code block actions ------------------------------------------------------------

    def copy_code(self, block: CodeBlock) -> None:
        """Put a code block's text on the clipboard."""
        self.root.clipboard_clear()
        self.root.clipboard_append(block.code)
        self.status_note = "Code copied"
        self._update_status()

    def save_code(self, block: CodeBlock) -> None:
        """Save a code block to a file the user picks."""
        ext = ".py" if (block.language or "").startswith("py") else ".sh"
        path = filedialog.asksaveasfilename(parent=self.root, defaultextension=ext)
        if path:
            code = block.code

            def job() -> None:
                safefile.write_file(path, code, force=True)
                self.store.post("saved", path)

            self.store.submit(job)

    def run_code(self, block: CodeBlock) -> None:
        """Run a code block in the sandbox (the user clicked Run); output shows below."""
        lang = (block.language or "").lower()
        language = "python" if lang.startswith("py") else "bash"
        code = block.code
        limits = sandbox.Limits.from_settings(self.settings.sandbox)
        allow = self.settings.sandbox.allow_unisolated
        self.status_note = f"Running {language} in the sandbox…"
        self._update_status()

        def job() -> None:
            result = sandbox.run_code(
                code, language=language, limits=limits, allow_unisolated=allow
            )
            lines = []
            if not result.isolated:
                lines.append(
                    "WARNING: no sandbox isolation on this machine; the code ran "
                    "as a plain process with limits only."
                )
            lines += [
                result.stdout.rstrip("\n"),
                result.stderr.rstrip("\n"),
                f"[{result.summary()}]",
            ]
            self.tools.post("run_result", "\n".join(x for x in lines if x))

        self.tools.submit(job)

    def vote(self, message_id: int, value: int) -> None:
        """Thumbs up (1) or down (-1) on an answer; stored, and a thumbs-down asks why."""
        user = self.user
        if user is None:
            return
        choice = "up" if value > 0 else "down"
        self.store.submit(
            lambda: self.store.post(
                "voted", interactions.vote(self._store_conn(), user, message_id, choice)
            )
        )
        if value < 0:
            self.open_feedback(message_id)

    def _on_voted(self, value: int) -> None:
        self.status_note = "Thanks for the feedback" if value > 0 else "Noted"
        self._update_status()

    def open_feedback(self, message_id: int | None = None) -> FeedbackDialog | None:
        """The Feedback… form for an answer (the last one when none is named)."""
        message_id = message_id or self.last_figures.get("message_id")
        if message_id is None or self.user is None:
            self.transcript.add_error("Feedback is about an answer: ask something first.")
            return None
        return FeedbackDialog(self.root, message_id=message_id, on_submit=self.submit_feedback)

    def submit_feedback(self, message_id: int, **fields: Any) -> None:
        """Store the form's feedback (on the store worker)."""
        user = self.user
        if user is None:
            return
        self.store.submit(
            lambda: self.store.post(
                "feedback_saved",
                feedback.submit_feedback(self._store_conn(), user, message_id, **fields),
            )
        )

    def _on_feedback_saved(self, _feedback_id: int) -> None:
        self.status_note = "Feedback saved"
        self._update_status()

    def _on_crash(self, summary: str) -> None:
        self.transcript.add_error(f"Something went wrong: {summary} (details in the log)")

    def open_link(self, href: str) -> None:
        """Open a link in the browser, only after a click and only for web addresses."""
        if href.startswith(("http://", "https://")):
            webbrowser.open(href)

    # -- the editor pane -------------------------------------------------------------------

    def _editor_host(self) -> EditorHost:
        return EditorHost(
            call_soon=lambda fn: self.events.put(("call", (fn,))),
            run_tools=self.tools.submit,
            run_model=self.model.submit,
            model_context=self._editor_model_context,
            start_job=self.run_file_job,
            remember=self._remember,
        )

    def _editor_shown(self) -> bool:
        return str(self.editor) in (str(p) for p in self.panes.panes())

    def toggle_editor(self, show: bool | None = None) -> None:
        """Show or hide the editor beside the chat (Ctrl+E); its width is remembered."""
        shown = self._editor_shown()
        show = not shown if show is None else show
        if show and not shown:
            width = self.settings.ui.editor_width
            self.panes.add(self.editor, width=width, minsize=260)
            # A paned window gives a new last pane only what is left: move the sash so
            # the editor gets its remembered width (the chat keeps at least 300 px).
            self.panes.update_idletasks()
            total = self.panes.winfo_width()
            left = self.panes.sash_coord(0)[0] + 300
            with contextlib.suppress(tk.TclError):
                self.panes.sash_place(1, max(left, total - width), 0)
            self.editor.text.focus_set()
        elif shown and not show:
            self._remember(editor_width=self.editor.winfo_width())
            self.panes.forget(self.editor)
            self.input.focus_set()

    def open_in_editor(self, path: str | None = None) -> None:
        """Show the editor and open a file in it (Ctrl+O asks which)."""
        self.toggle_editor(show=True)
        if path is None:
            self.editor.open_dialog()
        elif self.editor.confirm_discard():
            self.editor.open_file(path)

    def insert_into_editor(self, block: CodeBlock) -> None:
        """A chat code block into the editor: at the cursor, or over the selection."""
        self.toggle_editor(show=True)
        self.editor.insert_code(block.code)

    def _editor_model_context(self) -> Any:
        """What a completion needs. Runs on the model worker."""
        user, backend = self.user, self.backend
        if user is None or backend is None:
            return None
        backend = self._backend_for("complete", backend)
        return self._model_conn(), user, backend, options_from(self.settings.generation)

    def run_file_job(
        self, name: str, label: str, options: dict[str, Any], on_result: OnJobResult
    ) -> bool:
        """Run a job on the editor's file; the answer streams into the chat."""
        if self.user is None:
            return False
        if self.backend is None or self.state == "generating":
            busy = "The model is still loading" if self.backend is None else "An answer is running"
            self.transcript.add_error(f"{busy}; try {label} again in a moment.")
            return False
        options = dict(options)
        args = options.pop("args", ())
        if name == "debug":
            options.setdefault("limits", sandbox.Limits.from_settings(self.settings.sandbox))
        prompts = self.settings.prompts
        self.transcript.add_user(label)

        def call(session: ChatSession, on_text: Any) -> Any:
            from codenook.assist.jobs import JobError, run_job  # see _job_call

            events: list = []
            result = run_job(
                name,
                session,
                *args,
                on_text=on_text,
                on_event=events.append,
                prompts=prompts,
                **options,
            )
            self.events.put(("call", (on_result, result, events)))
            if result.answer is None:  # the tools found nothing to ask the model
                raise JobError(" ".join(result.notes) or f"{label}: nothing to do.")
            return result.answer

        self._start_answer(call, job=name)
        return True

    # -- settings ------------------------------------------------------------------------------

    def open_settings(self) -> SettingsDialog:
        """Show the Settings dialog (Ctrl+,)."""
        return SettingsDialog(self.root, self.settings, on_apply=self.apply_settings)

    def apply_settings(self, new: config.Settings) -> None:
        """Use and save new settings; a changed model is reloaded in the background."""
        old = self.settings
        self.settings = new
        self.store.submit(lambda: config.save_settings(new))
        if (new.ui.theme, new.ui.font_size) != (old.ui.theme, old.ui.font_size):
            self.theme = THEMES[new.ui.theme]
            self.font_size = new.ui.font_size
            self.apply_theme()
        self.session = None  # the next answer uses the new prompts and sampling
        if (new.routing, new.backends) != (old.routing, old.backends):
            self.model.submit(self.pool.close_all)  # reopened on first use, as now routed
        if new.model != old.model:
            self.stop()
            self.backend = None
            self._set_state("loading")
            old_backend = self._loaded

            def reload() -> None:
                if old_backend is not None:
                    old_backend.close()
                self._load_model()

            self.model.submit(reload, on_error="model_error")

    # -- closing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop any answer (its partial text is saved), remember the layout, and exit."""
        if self.closing or not self.editor.confirm_discard():
            return
        self.closing = True
        with contextlib.suppress(tk.TclError):
            self.root.after_cancel(self._poll)
        start = time.monotonic()
        if self.eval_window is not None:
            with contextlib.suppress(tk.TclError):
                self.eval_window.stop()  # the finished tasks are stored already
        for b in (self._answering, self.backend):
            if b is not None:
                b.cancel()
        ui = {"geometry": self.root.winfo_geometry()}
        with contextlib.suppress(tk.TclError):
            ui["sidebar_width"] = self.panes.sash_coord(0)[0]
            if self._editor_shown():
                ui["editor_width"] = self.editor.winfo_width()
        self.settings = replace(self.settings, ui=replace(self.settings.ui, **ui))
        with contextlib.suppress(Exception):
            config.save_window_state(self.settings)  # the user's settings.toml stays as it is
        # The model worker finishes the cancelled answer (saving it) and then stops.
        self.model.stop(timeout=max(0.1, 1.5 - (time.monotonic() - start)))
        self.store.stop(timeout=0.3)
        self.tools.stop(timeout=0.2)
        for view in (self.first_run, self.models_window):
            with contextlib.suppress(Exception):
                view.downloader.cancel()  # the part stays; the next pull resumes it
        self.library.stop(timeout=0.2)
        loaded = self._loaded or self.backend
        if loaded is not None and self.model.idle:
            with contextlib.suppress(Exception):
                loaded.close()
            self.pool.close_all()
        self.root.destroy()


def main() -> int:
    """Open the window and run until it is closed."""
    applog.setup_logging(debug=applog.debug_enabled())
    root = tk.Tk(className="codenook")
    app = App(root)

    def report(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        # A bug in a Tk callback: log it with its traceback, tell the user, keep going.
        log.error("error in the window", exc_info=(exc_type, exc, tb))
        app.events.put(("crash", f"{exc_type.__name__}: {exc}"))

    root.report_callback_exception = report
    applog.add_crash_listener(lambda summary: app.events.put(("crash", summary)))
    root.mainloop()
    return 0
