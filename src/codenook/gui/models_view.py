"""The window's model library: the first-run panel and the model manager.

Both call the same core functions as ``codenook models`` (scan, pull, use, rm, login).
Every library call runs on the window's ``library`` worker (downloads take minutes, scans
read every file's header); results come back as typed events on the window's bus, which
each view subscribes to while it is open.
"""

from __future__ import annotations

import threading
import time
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from tkinter import font as tkfont
from typing import TYPE_CHECKING, Any

from codenook.engine import hardware
from codenook.engine.download import Progress
from codenook.engine.fit import Fit, speed_text
from codenook.gui.bus import Subscriptions
from codenook.gui.events import LibraryFailed
from codenook.library import hftoken, manager, registry

if TYPE_CHECKING:
    from codenook.gui.host import ModelsHost

PROGRESS_EVERY_S = 0.1  # a 4 GB download reports per MiB: the window redraws 10 times a second


@dataclass(frozen=True)
class DownloadProgress:
    """How far ``downloader``'s pull is (library worker)."""

    downloader: Downloader
    progress: Progress


@dataclass(frozen=True)
class DownloadEnded:
    """``downloader``'s pull ended with a result or an error (library worker)."""

    downloader: Downloader
    result: Any = None
    error: Exception | None = None


@dataclass(frozen=True)
class ModelResolved:
    """The model chosen under ``token`` is on disk at ``path`` (None: embedded)."""

    token: object
    path: str | None


@dataclass(frozen=True)
class Recommended:
    """The catalog model that fits this machine, for the first-run panel (library worker)."""

    view: object
    spec: str
    label: str
    fit: Any


@dataclass(frozen=True)
class FolderScanned:
    """A folder's GGUF files were registered (library worker)."""

    view: object
    folder: str
    result: Any


@dataclass(frozen=True)
class CatalogRead:
    """The catalog rows and the stored token, for the model manager (library worker)."""

    view: object
    rows: list[Any]
    token: str


@dataclass(frozen=True)
class ModelRemoved:
    """A model was removed, its file deleted or not (library worker)."""

    view: object
    model: Any
    deleted: bool


@dataclass(frozen=True)
class LibraryNote:
    """A line to show in the model manager, which then reads its list again."""

    view: object
    text: str


def size_text(size: int) -> str:
    """Bytes as the manager shows them: ``4.37 GB``, ``270 MB``."""
    if size >= 1e9:
        return f"{size / 1e9:.2f} GB"
    return f"{size / 1e6:.0f} MB"


def progress_text(p: Progress) -> str:
    """One line for a download's state."""
    if p.phase == "verify":
        return "Checking the download's checksum…"
    if p.phase == "done":
        return "Downloaded and checked."
    return f"Downloading: {size_text(p.done)} of {size_text(p.total)} ({p.fraction:.0%})"


class Downloader:
    """One pull at a time, with progress and cancel, shared by the panel and the manager."""

    def __init__(self, app: ModelsHost) -> None:
        self.app = app
        self.cancel_event: threading.Event | None = None
        self._callbacks: tuple[Callable[[Any], None], ...] = ()
        self.subscriptions = Subscriptions(app.bus)
        self.subscriptions.add(DownloadProgress, self._on_progress)
        self.subscriptions.add(DownloadEnded, self._on_ended)

    @property
    def busy(self) -> bool:
        """Whether a download is running."""
        return self.cancel_event is not None

    def start(
        self,
        spec: str,
        *,
        on_progress: Callable[[Progress], None],
        on_done: Callable[[manager.PullResult], None],
        on_error: Callable[[Exception], None],
    ) -> bool:
        """Pull ``spec`` on the library worker; False when another download runs."""
        if self.busy:
            return False
        cancel = self.cancel_event = threading.Event()
        self._callbacks = (on_progress, on_done, on_error)
        post = self.app.library.post
        last = [0.0]

        def progress(p: Progress) -> None:
            now = time.monotonic()
            if p.phase != "download" or now - last[0] >= PROGRESS_EVERY_S:
                last[0] = now
                post(DownloadProgress(self, p))

        def job() -> None:
            try:
                result = manager.pull(spec, on_progress=progress, cancel=cancel)
            except Exception as exc:  # shown in the panel; the window keeps working
                post(DownloadEnded(self, error=exc))
                return
            post(DownloadEnded(self, result))

        self.app.library.submit(job)
        return True

    def _on_progress(self, event: DownloadProgress) -> None:
        if event.downloader is self and self._callbacks:
            self._callbacks[0](event.progress)

    def _on_ended(self, event: DownloadEnded) -> None:
        if event.downloader is not self:
            return
        self.cancel_event = None
        _progress, on_done, on_error = self._callbacks
        if event.error is not None:
            on_error(event.error)
        else:
            on_done(event.result)

    def cancel(self) -> None:
        """Stop the download; the part stays for a later resume."""
        if self.cancel_event is not None:
            self.cancel_event.set()


def choose_model(app: ModelsHost, name_or_path: str, *, then: Callable[[str], None]) -> None:
    """Make ``name_or_path`` the model the window answers with (reloaded in the background)."""

    def job() -> None:
        found = manager.resolve(name_or_path)
        if found.path is None:
            raise manager.NotInstalledError(
                f"{name_or_path} is not downloaded yet: choose Download first."
            )
        if not found.embedded and found.installed is None:
            registry.register_file(found.path, source="use")
        app.library.post(ModelResolved(token, None if found.embedded else str(found.path)))

    token = object()

    def resolved(event: ModelResolved) -> None:
        if event.token is token:
            drop()
            _use(app, event.path, then)

    drop = app.bus.subscribe(ModelResolved, resolved)
    app.library.submit(job, on_error=LibraryFailed)


def _use(app: ModelsHost, path: str | None, then: Callable[[str], None]) -> None:
    s = app.settings
    recent = s.ui.recent_models
    if path and path not in recent:
        recent = (path, *recent)[:8]
    app.apply_settings(
        replace(
            s,
            model=replace(s.model, path=path),
            ui=replace(s.ui, recent_models=recent),
            models=replace(s.models, first_run_done=True),
        )
    )
    then(Path(path).name if path else "the embedded model")


def plain_fit(fit: Fit) -> str:
    """Where a model would run and how fast, in words for a newcomer (no probe details)."""
    speed = speed_text(fit.tokens_per_second)
    if fit.mode == "gpu":
        return f"It fits on this computer's graphics card: expect about {speed}."
    if fit.mode == "partial":
        return (
            f"Part of it fits on the graphics card, the rest runs on the processor: about {speed}."
        )
    return f"It runs on this computer's processor: expect about {speed}."


def wrap_to_width(label: tk.Label | ttk.Label, *, margin: int = 8) -> None:
    """Keep ``label``'s lines as wide as the label is: a long line wraps, never gets cut."""

    def rewrap(event: tk.Event) -> None:
        if event.width > margin * 2:
            label.configure(wraplength=event.width - margin)

    label.bind("<Configure>", rewrap, add="+")


def table_last(body: tk.Misc, table: tk.Misc) -> None:
    """Lay ``body`` out so that ``table`` gets only the height its siblings leave.

    pack gives space in packing order: the table packed first kept its twelve rows and the
    lines packed after it (the offline instructions among them) lost theirs at the bottom
    of the window. The siblings go to the bottom, in their order, and the table last.
    """
    below = [w for w in body.pack_slaves() if w is not table]
    infos = [(w, w.pack_info()) for w in below]
    for w in (*below, table):
        w.pack_forget()
    for w, info in reversed(infos):
        info.pop("in", None)
        w.pack(**{**info, "side": "bottom"})
    table.pack(fill="both", expand=True)


def _only_for(view: object, handler: Callable[[Any], None]) -> Callable[[Any], None]:
    """``handler`` for the events addressed to ``view`` (another panel's are not ours)."""
    return lambda event: handler(event) if event.view is view else None


class FirstRunPanel(tk.Frame):
    """Shown above the chat on the first start: which model should answer?

    A panel in the window rather than a separate dialog: it cannot hide behind the
    window or take the keyboard from the login, and the chat works while it is open.
    """

    def __init__(self, master: tk.Misc, app: ModelsHost) -> None:
        super().__init__(master, padx=10, pady=8, borderwidth=1, relief="solid")
        self.app = app
        self.downloader = Downloader(app)
        self.subscriptions = Subscriptions(app.bus)
        mine = lambda handler: _only_for(self, handler)  # noqa: E731
        self.subscriptions.add(Recommended, mine(self._show_recommendation))
        self.subscriptions.add(FolderScanned, mine(self._on_scanned))
        self.recommended: str | None = None
        self.found: list[registry.InstalledModel] = []
        welcome = tk.Label(
            self,
            text=(
                "Welcome to codenook. Which model should answer? The embedded model "
                "(SmolLM2-135M) works right now but is small; a 7B coding model answers "
                "far better. You can change this later in Models…"
            ),
            justify="left",
            anchor="w",
            wraplength=640,
        )
        welcome.pack(fill="x")
        wrap_to_width(welcome)
        row = tk.Frame(self)
        row.pack(fill="x", pady=(6, 0))
        self.embedded_button = ttk.Button(
            row, text="Use the embedded model", command=self.use_embedded
        )
        self.embedded_button.pack(side="left")
        self.folder_button = ttk.Button(
            row, text="Choose a folder with GGUF files…", command=self.pick_folder
        )
        self.folder_button.pack(side="left", padx=6)
        # On a row of its own: its label names the model and its size, and beside the two
        # other buttons it was cut at the default window size.
        download_row = tk.Frame(self)
        download_row.pack(fill="x", pady=(6, 0))
        self.download_button = ttk.Button(
            download_row, text="Download a model for this machine", command=self.download
        )
        self.download_button.pack(side="left")
        self.cancel_button = ttk.Button(download_row, text="Cancel", command=self.downloader.cancel)
        self.pick_row = tk.Frame(self)
        self.picked = ttk.Combobox(self.pick_row, state="readonly", width=50)
        self.picked.pack(side="left")
        ttk.Button(self.pick_row, text="Use this model", command=self.use_picked).pack(
            side="left", padx=6
        )
        self.progress = ttk.Progressbar(self, mode="determinate", maximum=1.0)
        self.message = tk.Label(self, text="", anchor="w", justify="left", wraplength=640)
        self.message.pack(fill="x", pady=(4, 0))
        wrap_to_width(self.message)
        self._fg = self.message.cget("foreground")
        # The hardware probe's own words (NVML, nvidia-smi, assumed bandwidth) are for the
        # curious: behind a toggle, not in the newcomer's first sentence.
        self.details_button = ttk.Button(self, text="Details ▸", command=self.toggle_details)
        self.details = tk.Label(self, text="", anchor="w", justify="left", wraplength=640)
        wrap_to_width(self.details)
        app.library.submit(self._recommend, on_error=LibraryFailed)

    def _recommend(self) -> None:
        """Worker: the strongest catalog model that runs well on this machine."""
        hw = hardware.detect()
        choice = manager.recommend(hw, context=self.app.settings.model.context_length)
        if choice.quant.embedded:
            return  # nothing better runs here: the embedded button says it all
        fit = manager.fit_for_choice(choice, hw, context=self.app.settings.model.context_length)
        label = f"Download {choice.spec} ({size_text(choice.quant.size)})"
        self.app.library.post(Recommended(self, choice.spec, label, fit))

    def _show_recommendation(self, event: Recommended) -> None:
        self.recommended = event.spec
        if self.winfo_exists():
            self.download_button.configure(text=event.label)
            self.say(f"{event.spec}: {plain_fit(event.fit)}")
            self.details.configure(text=event.fit.sentence)
            self.details_button.pack(anchor="w", pady=(4, 0))

    def toggle_details(self) -> None:
        """Show or hide how the recommendation was worked out (the hardware probe's words)."""
        if self.details.winfo_ismapped():
            self.details.pack_forget()
            self.details_button.configure(text="Details ▸")
        else:
            self.details.pack(fill="x", pady=(2, 0), after=self.details_button)
            self.details_button.configure(text="Details ▾")

    def destroy(self) -> None:
        """Stop listening on the bus, then go."""
        self.subscriptions.close()
        self.downloader.subscriptions.close()
        super().destroy()

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a line under the buttons."""
        self.message.configure(text=text, foreground="#dc2626" if error else self._fg)

    def done(self, what: str) -> None:
        """The question is answered: remember that and step aside."""
        self.app.first_run_finished(what)

    def use_embedded(self) -> None:
        """Keep the embedded model (nothing to load again)."""
        s = self.app.settings
        self.app.apply_settings(replace(s, models=replace(s.models, first_run_done=True)))
        self.done("the embedded model")

    def pick_folder(self) -> None:
        """Ask for the folder that holds the weights and register what it has."""
        folder = filedialog.askdirectory(parent=self, title="Folder with .gguf model files")
        if folder:
            self.scan(folder)

    def scan(self, folder: str) -> None:
        """Register the GGUF files under ``folder`` and make it the weights folder."""
        self.say(f"Looking for .gguf files in {folder}…")

        def job() -> None:
            self.app.library.post(FolderScanned(self, folder, registry.register_folder(folder)))

        self.app.library.submit(job, on_error=LibraryFailed)

    def _on_scanned(self, event: FolderScanned) -> None:
        self._scanned(event.folder, event.result)

    def _scanned(self, folder: str, result: registry.ScanResult) -> None:
        s = self.app.settings
        self.app.apply_settings(replace(s, models=replace(s.models, folder=folder)))
        self.found = [*result.added, *result.known]
        if not self.found:
            why = "; ".join(f"{p.name}: {r}" for p, r in result.skipped[:3])
            self.say(f"No usable .gguf model in {folder}." + (f" ({why})" if why else ""))
            return
        names = [f"{m.name} ({size_text(m.file_size)})" for m in self.found]
        self.picked.configure(values=names)
        self.picked.current(0)
        self.pick_row.pack(fill="x", pady=(6, 0), before=self.message)
        skipped = f"; {len(result.skipped)} skipped" if result.skipped else ""
        self.say(f"Found {len(self.found)} model(s) in {folder}{skipped}. Pick one to use.")

    def use_picked(self) -> None:
        """Load the model chosen from the scanned folder."""
        i = self.picked.current()
        if 0 <= i < len(self.found):
            choose_model(self.app, self.found[i].path, then=self.done)

    def download(self) -> None:
        """Pull the recommended model with progress; use it when it is in."""
        if self.recommended is None:
            self.say("Still checking this machine's hardware; try again in a moment.")
            return
        started = self.downloader.start(
            self.recommended,
            on_progress=self._progress,
            on_done=self._downloaded,
            on_error=self._failed,
        )
        if started:
            self.progress.pack(fill="x", pady=(6, 0), before=self.message)
            self.cancel_button.pack(side="left", padx=6)
            self.download_button.state(["disabled"])

    def _progress(self, p: Progress) -> None:
        if self.winfo_exists():
            self.progress.configure(value=p.fraction)
            self.say(progress_text(p))

    def _downloaded(self, result: manager.PullResult) -> None:
        choose_model(self.app, str(result.path), then=self.done)

    def _failed(self, exc: Exception) -> None:
        if self.winfo_exists():
            self.cancel_button.pack_forget()
            self.download_button.state(["!disabled"])
            self.say(str(exc), error=True)


class ModelManager(tk.Toplevel):
    """Models…: the catalog and installed files with their fit, and what to do with them."""

    COLUMNS = ("quant", "size", "where", "fit", "good")

    def __init__(self, master: tk.Misc, app: ModelsHost) -> None:
        super().__init__(master)
        self.app = app
        self.title("Models — codenook")
        self.transient(master)
        self.geometry("980x460")
        self.downloader = Downloader(app)
        self.subscriptions = Subscriptions(app.bus)
        mine = lambda handler: _only_for(self, handler)  # noqa: E731
        self.subscriptions.add(CatalogRead, mine(lambda e: self._show(e.rows, e.token)))
        self.subscriptions.add(ModelRemoved, mine(lambda e: self._removed(e.model, e.deleted)))
        self.subscriptions.add(LibraryNote, mine(self._noted))
        self.rows: dict[str, manager.ModelRow] = {}
        body = ttk.Frame(self, padding=10)
        body.pack(fill="both", expand=True)
        self.table = self._build_table(body)
        self.fit_line = ttk.Label(body, text="Select a model to see how it would run here.")
        self.fit_line.pack(fill="x", pady=(6, 0))
        wrap_to_width(self.fit_line)
        buttons = ttk.Frame(body)
        buttons.pack(fill="x", pady=(8, 0))
        for text, command in (
            ("Use", self.use_selected),
            ("Download", self.download_selected),
            ("Remove", self.remove_selected),
            ("Scan folder…", self.pick_folder),
            ("Refresh", self.refresh),
        ):
            ttk.Button(buttons, text=text, command=command).pack(side="left", padx=(0, 6))
        self.cancel_button = ttk.Button(buttons, text="Cancel download", command=self.cancel)
        ttk.Button(buttons, text="Close", command=self.destroy).pack(side="right")
        self.progress = ttk.Progressbar(body, mode="determinate", maximum=1.0)
        self.progress.pack(fill="x", pady=(8, 0))
        token_row = ttk.Frame(body)
        token_row.pack(fill="x", pady=(8, 0))
        ttk.Label(token_row, text="Hugging Face token (for gated models):").pack(side="left")
        self.token_state = ttk.Label(token_row, text="…")
        self.token_state.pack(side="left", padx=6)
        self.token_entry = ttk.Entry(token_row, width=30, show="•")
        self.token_entry.pack(side="left")
        ttk.Button(token_row, text="Save token", command=self.save_token).pack(side="left", padx=6)
        ttk.Button(token_row, text="Remove token", command=self.remove_token).pack(side="left")
        from codenook.gui.adapter_row import AdapterRow

        self.adapters = AdapterRow(body, app, say=self.say)
        self.adapters.pack(fill="x", pady=(8, 0))
        self.message = ttk.Label(body, text="", anchor="w", wraplength=940)
        self.message.pack(fill="x", pady=(6, 0))
        wrap_to_width(self.message)
        folder = app.settings.models.folder_path()
        where = ttk.Label(body, text=f"Downloads go to {folder} (Settings: [models] folder).")
        where.pack(fill="x")
        wrap_to_width(where)
        self.bind("<Escape>", lambda _e: self.destroy())
        table_last(body, self.table.master)
        self.refresh()

    # -- the list -------------------------------------------------------------------

    def _build_table(self, body: tk.Misc) -> ttk.Treeview:
        """The table with both scrollbars; its columns are sized to their text in _show."""
        frame = ttk.Frame(body)
        frame.pack(fill="both", expand=True)
        table = ttk.Treeview(frame, columns=self.COLUMNS, height=12, selectmode="browse")
        for col, title in (
            ("#0", "Model"),
            ("quant", "Quant"),
            ("size", "Size"),
            ("where", "Installed"),
            ("fit", "On this machine"),
            ("good", "Good for"),
        ):
            table.heading(col, text=title, anchor="w")
            table.column(col, width=80, minwidth=40, anchor="w", stretch=False)
        across = ttk.Scrollbar(frame, orient="horizontal", command=table.xview)
        down = ttk.Scrollbar(frame, orient="vertical", command=table.yview)
        table.configure(xscrollcommand=across.set, yscrollcommand=down.set)
        table.grid(row=0, column=0, sticky="nsew")
        down.grid(row=0, column=1, sticky="ns")
        across.grid(row=1, column=0, sticky="ew")
        frame.rowconfigure(0, weight=1)
        frame.columnconfigure(0, weight=1)
        self.xscroll = across
        table.bind("<<TreeviewSelect>>", lambda _e: self._explain_selected())
        return table

    def _fit_columns(self) -> None:
        """Make each column as wide as its widest cell or heading: nothing is cut, the
        table scrolls sideways instead."""
        font = tkfont.nametofont("TkDefaultFont")
        heading_font = tkfont.nametofont("TkHeadingFont")
        rows = self.table.get_children()
        pad = 24  # the cell's padding, and the tree's indent and indicator in column #0
        for col in ("#0", *self.COLUMNS):
            cells = [
                self.table.item(i, "text") if col == "#0" else self.table.set(i, col) for i in rows
            ]
            title = self.table.heading(col, "text")
            widest = max([heading_font.measure(title), *(font.measure(c) for c in cells)])
            self.table.column(col, width=widest + pad + (20 if col == "#0" else 0))

    def _explain_selected(self) -> None:
        """The selected row's whole fit estimate, in the line below (the table shows its gist)."""
        sel = self.table.selection()
        row = self.rows.get(sel[0]) if sel else None
        if row is not None and self.winfo_exists():
            why = f"{plain_fit(row.fit)} ({row.fit.sentence})" if row.fit else "no estimate"
            self.fit_line.configure(text=f"{row.name}: {why}")

    def refresh(self) -> None:
        """Read the catalog, the installed files, the hardware and the token again."""
        context = self.app.settings.model.context_length

        def job() -> None:
            rows = manager.catalog_rows(hardware.detect(), context=context)
            token = hftoken.load_token()
            shown = f"{token.masked} ({token.source})" if token else "none stored"
            self.app.library.post(CatalogRead(self, rows, shown))

        self.app.library.submit(job, on_error=LibraryFailed)

    def _show(self, rows: list[manager.ModelRow], token: str) -> None:
        if not self.winfo_exists():
            return
        keep = self.selected()
        self.table.delete(*self.table.get_children())
        self.rows = {}
        in_use = self.app.settings.model.path
        for row in rows:
            where = row.installed or "not downloaded"
            if (in_use and row.installed == in_use) or (not in_use and where == "embedded"):
                where += "  ← in use"
            fit = row.fit.short if row.fit else "no estimate"
            iid = self.table.insert(
                "",
                "end",
                text=row.name,
                values=(row.quant or "", size_text(row.size), where, fit, row.good_for),
            )
            self.rows[iid] = row
            if row.name == keep:
                self.table.selection_set(iid)
        self.token_state.configure(text=token)
        self._fit_columns()

    def selected(self) -> str | None:
        """The selected row's model name."""
        sel = self.table.selection()
        return self.rows[sel[0]].name if sel and sel[0] in self.rows else None

    def select(self, name: str) -> None:
        """Select the row called ``name`` (tests and keyboard users)."""
        for iid, row in self.rows.items():
            if row.name == name:
                self.table.selection_set(iid)
                self.table.see(iid)

    def say(self, text: str, *, error: bool = False) -> None:
        """Show a line at the bottom."""
        if self.winfo_exists():
            self.message.configure(text=text, foreground="#dc2626" if error else "")

    # -- actions --------------------------------------------------------------------

    def use_selected(self) -> None:
        """Answer with the selected model (reloaded in the background)."""
        name = self.selected()
        if name:
            choose_model(self.app, name, then=lambda what: self._used(what))

    def _used(self, what: str) -> None:
        self.say(f"Loading {what}…")
        self.refresh()

    def download_selected(self) -> None:
        """Pull the selected catalog model into the weights folder, with progress."""
        name = self.selected()
        if not name:
            return
        row = next(r for r in self.rows.values() if r.name == name)
        if row.installed:
            self.say(f"{name} is already installed.")
            return
        if self.downloader.start(
            name, on_progress=self._progress, on_done=self._downloaded, on_error=self._failed
        ):
            self.cancel_button.pack(side="left", padx=(0, 6))
            self.say(f"Starting the download of {name}…")
        else:
            self.say("Another download is running; wait for it or cancel it.")

    def _progress(self, p: Progress) -> None:
        if self.winfo_exists():
            self.progress.configure(value=p.fraction)
            self.say(progress_text(p))

    def _downloaded(self, result: manager.PullResult) -> None:
        if self.winfo_exists():
            self.cancel_button.pack_forget()
            self.progress.configure(value=1.0)
            self.say(f"{result.choice.spec} is in {result.path}. Select it and press Use.")
            self.refresh()

    def _failed(self, exc: Exception) -> None:
        if self.winfo_exists():
            self.cancel_button.pack_forget()
            self.say(str(exc), error=True)

    def cancel(self) -> None:
        """Stop the download (the part is kept; Download again resumes it)."""
        self.downloader.cancel()

    def remove_selected(self, *, confirm: bool = True) -> None:
        """Forget the selected model, deleting its file when it is in the weights folder."""
        name = self.selected()
        if not name:
            return
        if confirm and not messagebox.askyesno(
            "Remove model", f"Remove {name}? A file codenook downloaded is deleted.", parent=self
        ):
            return

        def job() -> None:
            model, deleted = manager.remove(name)
            self.app.library.post(ModelRemoved(self, model, deleted))

        self.app.library.submit(job, on_error=LibraryFailed)

    def _noted(self, event: LibraryNote) -> None:
        self.say(event.text)
        self.refresh()

    def destroy(self) -> None:
        """Stop listening on the bus, then go."""
        self.subscriptions.close()
        self.downloader.subscriptions.close()
        super().destroy()

    def _removed(self, model: registry.InstalledModel, deleted: bool) -> None:
        s = self.app.settings
        if s.model.path and Path(s.model.path) == Path(model.path):
            # The model in use is gone: back to the embedded one.
            self.app.apply_settings(replace(s, model=replace(s.model, path=None)))
        self.say(f"Removed {model.name}" + (" and deleted its file." if deleted else "."))
        self.refresh()

    def pick_folder(self) -> None:
        """Register the GGUF files of a folder the user picks."""
        folder = filedialog.askdirectory(parent=self, title="Folder with .gguf model files")
        if folder:
            self.scan(folder)

    def scan(self, folder: str) -> None:
        """Register the GGUF files under ``folder`` (a worker reads their headers)."""

        def job() -> None:
            result = registry.register_folder(folder)
            text = f"{folder}: {len(result.added)} added, {len(result.known)} already known"
            if result.skipped:
                text += f", {len(result.skipped)} skipped ({result.skipped[0][1]})"
            self.app.library.post(LibraryNote(self, text))

        self.app.library.submit(job, on_error=LibraryFailed)

    def save_token(self) -> None:
        """Store the token typed in (keyring or a private file); it is never shown again."""
        token = self.token_entry.get()
        self.token_entry.delete(0, "end")

        def job() -> None:
            where = hftoken.save_token(token)
            self.app.library.post(LibraryNote(self, f"Token saved ({where})."))

        self.app.library.submit(job, on_error=LibraryFailed)

    def remove_token(self) -> None:
        """Forget the stored token."""

        def job() -> None:
            removed = hftoken.delete_token()
            text = f"Token removed from {', '.join(removed)}." if removed else "No token stored."
            self.app.library.post(LibraryNote(self, text))

        self.app.library.submit(job, on_error=LibraryFailed)
