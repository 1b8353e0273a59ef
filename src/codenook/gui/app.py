"""The codenook window's shell: root, panes, menus built from declared commands, close.

What the window does lives in the controllers (``gui/controllers``): login,
conversations, answering, code actions and models. Each builds its own widgets, declares
its commands, and listens on the :class:`~codenook.gui.bus.Bus`. Threading: the Tk thread
only draws. Workers (``model``, ``store``, ``tools``, ``library``) put typed events on
the bus; :meth:`App._drain` delivers them every 20 ms.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import time
import tkinter as tk
from dataclasses import replace
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from codenook import applog, config
from codenook.auth import User
from codenook.engine.backend import Backend
from codenook.gui import entries
from codenook.gui.bus import Bus
from codenook.gui.commands import Command, bind_keys, build_menu_bar
from codenook.gui.controllers.answering import AnsweringController
from codenook.gui.controllers.code_actions import CodeActionsController
from codenook.gui.controllers.conversations import ConversationsController
from codenook.gui.controllers.login import LoginController
from codenook.gui.controllers.models import ModelsController
from codenook.gui.editor import EditorHost, EditorPane
from codenook.gui.events import (
    Crash,
    LoggedIn,
    LoggedOut,
    SettingsApplied,
    WorkerFailed,
)
from codenook.gui.host import WorkerDb
from codenook.gui.markdown import to_blocks
from codenook.gui.settings_dialog import SettingsDialog
from codenook.gui.theme import THEMES, style_widgets
from codenook.gui.transcript import Transcript
from codenook.gui.worker import Worker

if TYPE_CHECKING:
    from codenook.gui.models_view import FirstRunPanel

log = logging.getLogger(__name__)
POLL_MS = 20
MENUS = ("File", "Edit", "View", "Tools", "Editor")
#: The narrowest each pane may become: the chat's controls wrap to more lines down to
#: CHAT_MIN, so none is ever cut; the sidebar and the editor keep a usable width.
SIDEBAR_MIN, CHAT_MIN, EDITOR_MIN = 150, 290, 260


class App:
    """The window: its panes and menus, and the controllers that do the work."""

    def __init__(self, root: tk.Tk, *, settings: config.Settings | None = None) -> None:
        self.root = root
        self.settings = settings or config.load_settings()
        self.bus = Bus(on_failure=self._subscriber_failed)
        self.model = Worker("model", self.bus)
        self.store = Worker("store", self.bus)
        self.tools = Worker("tools", self.bus)  # sandbox runs: never behind an answer
        self.library = Worker("library", self.bus)  # scans and downloads take minutes
        self.store_db, self.model_db = WorkerDb(), WorkerDb()
        self.user: User | None = None
        self.conversation_id: int | None = None
        self.closing = False
        self.bus.subscribe(LoggedIn, self._on_logged_in)  # first: the others read the user
        self.bus.subscribe(LoggedOut, self._on_logged_out)
        self.bus.subscribe(WorkerFailed, lambda e: self.transcript.add_error(f"Error: {e.error}"))
        self.bus.subscribe(Crash, self._on_crash)
        # Subscribers run in the order they subscribed: answering hears an AnswerDone
        # (and sets the state back to ready) before conversations reloads the list.
        self.login = LoginController(self)
        self.answering = AnsweringController(self)
        self.conversations = ConversationsController(self)
        self.code_actions = CodeActionsController(self)
        self.models = ModelsController(self)

        ui = self.settings.ui
        root.title("codenook")
        root.geometry(ui.geometry)
        root.minsize(640, 420)
        self.theme = THEMES[ui.theme]
        self.font_size = ui.font_size
        self.style = ttk.Style(self.root)
        with contextlib.suppress(tk.TclError):
            self.style.theme_use("clam")
        entries.install(root)  # Ctrl+A selects all in every field; typing replaces it
        self.login_frame = self.login.build(root)
        self.main_frame = self._build_main()
        commands = self.commands()
        self.menu = build_menu_bar(root, commands, MENUS)
        bind_keys(root, commands)
        self.login_frame.pack(fill="both", expand=True)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.apply_theme()
        self._poll = root.after(POLL_MS, self._drain)
        # The model's import and load hold the GIL for a while: start them once the window
        # is on screen, so it appears at once.
        root.after_idle(lambda: root.after(1, self._start_workers))

    def _start_workers(self) -> None:
        self.answering.start()
        self.login.check_accounts()
        # Compile the Markdown and code lexers now, not when the first answer is shown.
        self.tools.submit(lambda: to_blocks("# t\n```python\nx = 1\n```\n```bash\necho\n```"))
        # Import the jobs (~0.2 s) here too, not on the Tk thread at the first Send or when
        # the job list first opens (both read the registry).
        self.tools.submit(lambda: importlib.import_module("codenook.assist.jobs"))

    # -- what the controllers share ---------------------------------------------------

    @property
    def backend(self) -> Backend | None:
        """The chat's loaded backend (None while loading)."""
        return self.answering.backend

    @property
    def busy(self) -> bool:
        """Whether an answer is being generated."""
        return self.answering.state == "generating"

    @property
    def first_run(self) -> FirstRunPanel | None:
        """The first-run panel while it is shown."""
        return self.models.first_run

    def first_run_finished(self, what: str) -> None:
        """The first-run question is answered (see the models controller)."""
        self.models.first_run_finished(what)

    def focus_input(self) -> None:
        """Put the keyboard focus in the chat's input box."""
        self.answering.input.focus_set()

    # -- building ------------------------------------------------------------------

    def _build_main(self) -> tk.Frame:
        f = tk.Frame(self.root)
        self.status = self.models.build_status(f)
        self.status.pack(side="bottom", fill="x")
        self.panes = tk.PanedWindow(f, orient="horizontal", sashwidth=5, borderwidth=0)
        self.panes.pack(fill="both", expand=True)
        # What the user chose by dragging a sash: restored when the editor opens or closes
        # and saved at close; a width the panes were squeezed to is never saved.
        self.sidebar_width = max(SIDEBAR_MIN, self.settings.ui.sidebar_width)
        self.editor_width = max(EDITOR_MIN, self.settings.ui.editor_width)
        self._dragging: int | None = None
        self.panes.bind("<ButtonPress-1>", self._sash_pressed, add="+")
        self.panes.bind("<ButtonRelease-1>", self._sash_released, add="+")
        side = self.conversations.build(self.panes)
        self.panes.add(side, width=self.sidebar_width, minsize=SIDEBAR_MIN, stretch="never")
        chat = tk.Frame(self.panes)
        self.transcript = Transcript(
            chat, actions=self.code_actions.actions(), theme=self.theme, size=self.font_size
        )
        # The input row is packed first: in a short window the transcript gives way, not
        # the buttons.
        self.answering.build(chat).pack(side="bottom", fill="x")
        self.transcript.pack(fill="both", expand=True)
        self.models.panel_before = self.transcript
        self.panes.add(chat, minsize=CHAT_MIN, stretch="always")
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
        return f

    def commands(self) -> list[Command]:
        """Every command of the window, in menu order: the controllers', the shell's, the
        editor's."""
        logged_in = lambda: self.user is not None  # noqa: E731
        bigger = lambda: self.set_font_size(self.font_size + 1)  # noqa: E731
        smaller = lambda: self.set_font_size(self.font_size - 1)  # noqa: E731
        return [
            *self.conversations.commands(),
            *self.login.commands(),
            Command("Quit", self.close, menu="File", key="<Control-q>", accelerator="Ctrl+Q"),
            Command(
                "Settings…",
                self.open_settings,
                menu="Edit",
                key="<Control-comma>",
                accelerator="Ctrl+,",
            ),
            *self.models.commands(),
            *self.code_actions.commands(),
            *self.answering.commands(),
            Command("Light theme", lambda: self.set_theme("light"), menu="View"),
            Command("Dark theme", lambda: self.set_theme("dark"), menu="View"),
            Command("Larger text", bigger, menu="View", key="<Control-plus>", accelerator="Ctrl++"),
            Command(
                "Smaller text", smaller, menu="View", key="<Control-minus>", accelerator="Ctrl+-"
            ),
            *self.editor.commands(
                toggle=self.toggle_editor,
                open_file=self.open_in_editor,
                can_open=logged_in,
                shown=self._editor_shown,
            ),
        ]

    # -- look ------------------------------------------------------------------------

    def apply_theme(self) -> None:
        """Colour every widget for the current theme and font size."""
        t = self.theme
        for w in (self.root, self.login_frame, self.main_frame, self.panes):
            w.configure(background=t.panel)
        self._paint(self.login_frame, t.panel)
        self._paint(self.main_frame, t.panel)
        self.status.configure(background=t.panel, foreground=t.muted)
        font = ("TkDefaultFont", self.font_size)
        self.conversations.conv_list.configure(
            background=t.panel, foreground=t.fg, selectbackground=t.accent, font=font
        )
        self.answering.input.configure(
            background=t.input_bg, foreground=t.fg, insertbackground=t.fg, font=font
        )
        self.transcript.apply_theme(t, self.font_size)
        self.editor.apply_theme(t, self.font_size)
        style_widgets(self.root, self.style, t)

    def _paint(self, widget: tk.Misc, bg: str) -> None:
        for child in widget.winfo_children():
            if isinstance(child, tk.Frame | tk.Label):
                child.configure(background=bg)
                if isinstance(child, tk.Label) and child is not self.login.error:
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

    # -- events ------------------------------------------------------------------------

    def _drain(self) -> None:
        """Deliver the workers' events; runs on the Tk thread every 20 ms."""
        self.bus.drain()
        if not self.closing:
            self._poll = self.root.after(POLL_MS, self._drain)

    def _subscriber_failed(self, event: object, exc: Exception) -> None:
        # Logged by the bus already; the user sees that something went wrong.
        self.transcript.add_error(f"Internal error ({type(event).__name__}): {exc}")

    def _on_crash(self, event: Crash) -> None:
        self.transcript.add_error(f"Something went wrong: {event.summary} (details in the log)")

    def _on_logged_in(self, event: LoggedIn) -> None:
        self.user = event.user
        self.login_frame.pack_forget()
        self.root.configure(menu=self.menu)
        self.main_frame.pack(fill="both", expand=True)
        self.focus_input()

    def _on_logged_out(self, _event: LoggedOut) -> None:
        self.user = None
        self.main_frame.pack_forget()
        self.root.configure(menu="")
        self.login_frame.pack(fill="both", expand=True)

    # -- the editor pane -------------------------------------------------------------------

    def _editor_host(self) -> EditorHost:
        return EditorHost(
            post=self.bus.put,
            subscribe=self.bus.subscribe,
            run_tools=self.tools.submit,
            run_model=self.model.submit,
            model_context=self.answering.model_context,
            start_job=self.answering.run_file_job,
            remember=self._remember,
        )

    def _editor_shown(self) -> bool:
        return str(self.editor) in (str(p) for p in self.panes.panes())

    def toggle_editor(self, show: bool | None = None) -> None:
        """Show or hide the editor beside the chat (Ctrl+E); its width is remembered."""
        shown = self._editor_shown()
        show = not shown if show is None else show
        if show and not shown:
            self.panes.add(
                self.editor, width=self.editor_width, minsize=EDITOR_MIN, stretch="always"
            )
            self._place_sashes()
            self.editor.text.focus_set()
        elif shown and not show:
            self.panes.forget(self.editor)
            self._place_sashes()
            self.focus_input()

    def _place_sashes(self) -> None:
        """Lay the panes out from the widths the user chose, the chat never under CHAT_MIN.

        A paned window gives a new last pane only what is left, and takes a lost width
        from whichever pane it likes: the sashes are placed here instead. When the window
        is too narrow for all, the editor gives way first, then the sidebar; the chosen
        widths stay as they were and come back when there is room.
        """
        self.panes.update_idletasks()
        total, sash = self.panes.winfo_width(), self._sash_size()
        editor = self._editor_shown()
        room = total - CHAT_MIN - sash * (2 if editor else 1)
        if editor:
            room -= EDITOR_MIN
        side = max(SIDEBAR_MIN, min(self.sidebar_width, room))
        with contextlib.suppress(tk.TclError):
            self.panes.sash_place(0, side, 0)
            if editor:
                width = min(self.editor_width, total - side - 2 * sash - CHAT_MIN)
                self.panes.sash_place(1, total - max(width, EDITOR_MIN) - sash, 0)

    def _sash_size(self) -> int:
        return int(self.panes.cget("sashwidth")) + 2 * int(self.panes.cget("sashpad"))

    def _sash_pressed(self, event: tk.Event) -> None:
        found = self.panes.tk.splitlist(self.panes.identify(event.x, event.y))
        self._dragging = int(found[0]) if found and found[-1] == "sash" else None

    def _sash_released(self, _event: tk.Event) -> None:
        """A sash was dragged: the widths it leaves are what the user chose (remembered)."""
        index, self._dragging = self._dragging, None
        if index is None:
            return
        self.panes.update_idletasks()
        if index == 0:
            self.sidebar_width = self.panes.sash_coord(0)[0]
            self._remember(sidebar_width=self.sidebar_width)
        elif self._editor_shown():
            self.editor_width = self.editor.winfo_width()
            self._remember(editor_width=self.editor_width)

    def open_in_editor(self, path: str | None = None) -> None:
        """Show the editor and open a file in it (Ctrl+O asks which)."""
        self.toggle_editor(show=True)
        if path is None:
            self.editor.open_dialog()
        elif self.editor.confirm_discard():
            self.editor.open_file(path)

    def insert_into_editor(self, code: str) -> None:
        """A chat code block into the editor: at the cursor, or over the selection."""
        self.toggle_editor(show=True)
        self.editor.insert_code(code)

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
        self.bus.publish(SettingsApplied(old, new))

    # -- closing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop any answer (its partial text is saved), remember the layout, and exit."""
        if self.closing or not self.editor.confirm_discard():
            return
        self.closing = True
        with contextlib.suppress(tk.TclError):
            self.root.after_cancel(self._poll)
        start = time.monotonic()
        self.models.close()
        self.answering.cancel_all()
        # The pane widths saved are the ones the user chose, never a squeezed one.
        ui = {
            "geometry": self.root.winfo_geometry(),
            "sidebar_width": self.sidebar_width,
            "editor_width": self.editor_width,
        }
        self.settings = replace(self.settings, ui=replace(self.settings.ui, **ui))
        with contextlib.suppress(Exception):
            config.save_window_state(self.settings)  # the user's settings.toml stays as it is
        # The model worker finishes the cancelled answer (saving it) and then stops.
        self.model.stop(timeout=max(0.1, 1.5 - (time.monotonic() - start)))
        self.store.stop(timeout=0.3)
        self.tools.stop(timeout=0.2)
        self.library.stop(timeout=0.2)
        self.answering.release()
        self.root.destroy()


def main() -> int:
    """Open the window and run until it is closed."""
    applog.setup_logging(debug=applog.debug_enabled())
    root = tk.Tk(className="codenook")
    app = App(root)

    def report(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        # A bug in a Tk callback: log it with its traceback, tell the user, keep going.
        log.error("error in the window", exc_info=(exc_type, exc, tb))
        app.bus.put(Crash(f"{exc_type.__name__}: {exc}"))

    root.report_callback_exception = report
    applog.add_crash_listener(lambda summary: app.bus.put(Crash(summary)))
    root.mainloop()
    return 0
