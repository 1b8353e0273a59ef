"""Models: the status bar, the first-run panel, and the Models…, Evaluate… and Tune windows."""

from __future__ import annotations

import contextlib
import gc
import tkinter as tk
from typing import TYPE_CHECKING, Any

from codenook.gui.commands import Command
from codenook.gui.events import LibraryFailed, LoggedIn, Note, StateChanged, StatusText
from codenook.gui.host import Host

if TYPE_CHECKING:
    from codenook.engine.backend import Backend
    from codenook.gui.eval_view import EvaluateView
    from codenook.gui.models_view import FirstRunPanel, ModelManager
    from codenook.gui.tune_view import TuneView


def _free_closed_windows() -> None:
    # A closed window's widgets refer to each other (child.master, parent.children), so
    # only the collector frees them, on whichever thread it runs: a worker's, where Tcl
    # raises "main thread is not in main loop" (a chart image). Free them here instead.
    gc.collect()


class ModelsController:
    """Which model answers and how fast (the status bar), and the windows that change it."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.first_run: FirstRunPanel | None = None
        self.models_window: ModelManager | None = None
        self.eval_window: EvaluateView | None = None
        self.tune_window: TuneView | None = None
        #: Where the first-run panel goes (above this widget, the transcript).
        self.panel_before: tk.Widget | None = None
        self.backend: Backend | None = None
        self.state = "loading"
        self.figures: dict[str, Any] = {}
        self.note = ""
        bus = host.bus
        bus.subscribe(StateChanged, self._on_state)
        bus.subscribe(Note, self._on_note)
        bus.subscribe(StatusText, self._on_status_text)
        bus.subscribe(LibraryFailed, self._on_library_failed)
        bus.subscribe(LoggedIn, lambda _e: self._offer_first_run())

    def commands(self) -> list[Command]:
        """Models… and Evaluate…, in the Edit menu; Tune on my code…, in Tools."""
        return [
            Command("Models…", self.open_models, menu="Edit"),
            Command("Evaluate…", self.open_evaluate, menu="Edit"),
            Command("Tune on my code…", self.open_tune, menu="Tools"),
        ]

    def build_status(self, master: tk.Misc) -> tk.Label:
        """The status bar (not packed)."""
        self.status = tk.Label(master, anchor="w", padx=8, text="")
        return self.status

    # -- the windows -----------------------------------------------------------------

    def open_evaluate(self) -> EvaluateView:
        """Evaluate…: run a suite on the model, with progress, Stop and the comparison chart."""
        from codenook.gui.eval_view import EvaluateView  # matplotlib only when asked for

        if self.eval_window is not None and self.eval_window.winfo_exists():
            self.eval_window.lift()
            return self.eval_window
        if self.eval_window is not None:
            self.eval_window = None
            _free_closed_windows()
        self.eval_window = EvaluateView(self.host.root, self.host)
        return self.eval_window

    def open_tune(self) -> TuneView:
        """Tune on my code…: train a LoRA adapter on a repository, with a live loss curve."""
        from codenook.gui.tune_view import TuneView

        if self.tune_window is not None and self.tune_window.winfo_exists():
            self.tune_window.lift()
            return self.tune_window
        if self.tune_window is not None:
            self.tune_window = None
            _free_closed_windows()
        self.tune_window = TuneView(self.host.root, self.host)
        return self.tune_window

    def open_models(self) -> ModelManager:
        """Models…: the catalog and installed models, download, use, remove, token."""
        from codenook.gui.models_view import ModelManager

        if self.models_window is not None and self.models_window.winfo_exists():
            self.models_window.lift()
            return self.models_window
        if self.models_window is not None:
            self.models_window = None
            _free_closed_windows()
        self.models_window = ModelManager(self.host.root, self.host)
        return self.models_window

    def _offer_first_run(self) -> None:
        from codenook.gui.models_view import FirstRunPanel

        s = self.host.settings
        if not s.models.first_run_done and s.model.path is None and self.first_run is None:
            before = self.panel_before
            assert before is not None
            self.first_run = FirstRunPanel(before.master, self.host)
            self.first_run.pack(fill="x", padx=6, pady=(6, 0), before=before)

    def first_run_finished(self, what: str) -> None:
        """The first-run question is answered: the panel goes, the status says the model."""
        if self.first_run is not None:
            self.first_run.destroy()
            self.first_run = None
        self._on_note(Note(f"Using {what}"))

    def close(self) -> None:
        """Stop an evaluation and the downloads (closing; what is done stays stored)."""
        if self.eval_window is not None:
            with contextlib.suppress(tk.TclError):
                self.eval_window.stop()  # the finished tasks are stored already
        if self.tune_window is not None:
            with contextlib.suppress(tk.TclError):
                self.tune_window.stop()  # the run keeps a checkpoint to continue from
        for view in (self.first_run, self.models_window):
            with contextlib.suppress(Exception):
                view.downloader.cancel()  # type: ignore[union-attr]  # the part resumes later

    # -- the status bar --------------------------------------------------------------

    def _on_state(self, event: StateChanged) -> None:
        self.state, self.backend, self.figures = event.state, event.backend, event.figures
        self.update_status()

    def _on_note(self, event: Note) -> None:
        self.note = event.text
        self.update_status()

    def _on_status_text(self, event: StatusText) -> None:
        self._on_note(Note(event.text if self.state == "loading" else ""))

    def _on_library_failed(self, event: LibraryFailed) -> None:
        view = self.models_window or self.first_run
        if view is not None and view.winfo_exists():
            view.say(str(event.error), error=True)
        else:
            self.host.transcript.add_error(f"Models: {event.error}")

    def update_status(self) -> None:
        """Model, where it runs, state, speed, context used, and the last note."""
        parts = []
        b = self.backend
        if b is not None:
            i = b.info
            where = i.device
            if i.layer_offload and i.gpu_layers != 0:
                where = f"GPU {i.gpu_layers if i.gpu_layers > 0 else 'all'} layers"
            parts.append(f"{i.name} · {i.backend}" + (f" · {where}" if i.local else ""))
            if i.adapter:  # the name the settings gave it, else its file's
                parts.append(f"adapter {self.host.settings.model.adapter or i.adapter}")
        parts.append(self.state)
        f = self.figures
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
        if self.note:
            parts.append(self.note)
        self.status.configure(text="   ·   ".join(parts))
