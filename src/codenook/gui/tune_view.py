"""Tune on my code…: pick repositories, docs, Q&A datasets and liked answers; train; use it.

The run goes through the same steps as ``codenook tune`` (:mod:`codenook.tuning.session`)
on a thread of its own: training takes minutes and must not hold the chat's model worker.
Its progress comes back as typed events on the window's bus (:class:`TuneSummary`,
:class:`TuneNote`, :class:`TuneProgress`, :class:`TuneEnded`, :class:`TuneFailed`), so the
Tk thread never waits. Stop ends the run after the current step and keeps its checkpoint;
Start with "Continue the stopped run" ticked resumes it, like ``tune run --resume``. A
finished run shows perplexity and the ``fim`` suite on the held-out files, before and after.
"""

from __future__ import annotations

import threading
import tkinter as tk
from dataclasses import dataclass, replace
from pathlib import Path
from tkinter import ttk
from typing import TYPE_CHECKING, Any

from codenook.gui.tune_sources import Material, TuneSources
from codenook.tuning.measure import DEFAULT_FIM_TASKS, MAX_FIM_TASKS, FimFigures

if TYPE_CHECKING:
    from codenook.gui.host import ModelsHost

#: The options' defaults: TrainOptions' own (read without importing PyTorch).
DEFAULTS = {"steps": 200, "rank": 8, "lr": 1e-3, "seq_len": 256}
CURVE_HEIGHT = 140


@dataclass(frozen=True)
class TuneSummary:
    """The dataset is built: its summary lines (tune thread)."""

    view: TuneView
    lines: list[str]
    #: Only the summary was asked for: no training follows.
    dry_run: bool = False


@dataclass(frozen=True)
class TuneNote:
    """One line on what is happening: preparing the base, the memory plan (tune thread)."""

    view: TuneView
    text: str


@dataclass(frozen=True)
class TuneProgress:
    """One training step done: step, loss, tokens/s, time left (tune thread)."""

    view: TuneView
    step: int
    steps: int
    loss: float
    tokens_per_second: float
    seconds_left: float


@dataclass(frozen=True)
class TuneEnded:
    """The run finished or stopped (tune thread)."""

    view: TuneView
    finished: bool
    step: int
    ppl_before: float | None
    ppl_after: float | None
    adapter: str | None
    path: str | None
    fim_before: FimFigures | None = None
    fim_after: FimFigures | None = None


@dataclass(frozen=True)
class TuneFailed:
    """The run failed, and why (tune thread)."""

    view: TuneView
    message: str


def _defaults() -> dict[str, Any]:
    import sys

    train = sys.modules.get("codenook.tuning.train")  # the real defaults once it is loaded
    if train is None:
        return dict(DEFAULTS)
    o = train.TrainOptions()
    return {"steps": o.steps, "rank": o.rank, "lr": o.lr, "seq_len": o.seq_len}


class TuneView(tk.Toplevel):
    """Pick the material and options; Start trains, the curve and figures follow; Stop."""

    def __init__(self, master: tk.Misc, app: ModelsHost) -> None:
        super().__init__(master)
        self.app = app
        self.title("Tune on my code — codenook")
        self.transient(master)
        self.geometry("780x800")
        self.stop_event: threading.Event | None = None
        self.thread: threading.Thread | None = None
        self.losses: list[float] = []
        self.adapter: str | None = None
        #: CPU threads for training (None: the tuning module's default).
        self.threads: int | None = None
        body = ttk.Frame(self, padding=10)
        body.pack(fill="both", expand=True)
        self.sources = TuneSources(body)
        self.sources.pack(fill="x")
        self._build_options(body)
        self.summary = ttk.Label(body, text="", justify="left", anchor="w")
        self.summary.pack(fill="x", pady=(8, 0))
        self.curve = tk.Canvas(body, height=CURVE_HEIGHT, background="white")
        self.curve.pack(fill="x", pady=(8, 4))
        self.bar = ttk.Progressbar(body, mode="determinate", maximum=1)
        self.bar.pack(fill="x")
        self.status = ttk.Label(body, text="Pick repository folders or datasets; press Start.")
        self.status.pack(fill="x", pady=(4, 0))
        self.result = ttk.Label(body, text="", justify="left", anchor="w", font="TkFixedFont")
        self.result.pack(fill="x", pady=(8, 0))
        self.use_button = ttk.Button(
            body, text="Use this adapter", command=self.use_adapter, state="disabled"
        )
        self.use_button.pack(anchor="w", pady=(4, 0))
        self.protocol("WM_DELETE_WINDOW", self.close)
        self._subscribe()

    def _build_options(self, body: ttk.Frame) -> None:
        d = _defaults()
        row = ttk.Frame(body)
        row.pack(fill="x", pady=(8, 0))
        self.steps = self._spin(row, "Steps", d["steps"], 1, 100000)
        self.rank = self._spin(row, "Rank", d["rank"], 1, 256)
        self.lr = self._spin(row, "Learning rate", d["lr"], 1e-6, 1.0, increment=1e-4)
        self.seq_len = self._spin(row, "Tokens a sample", d["seq_len"], 16, 8192)
        row = ttk.Frame(body)
        row.pack(fill="x", pady=(6, 0))
        ttk.Label(row, text="Adapter name").pack(side="left")
        self.name = ttk.Entry(row, width=16)
        self.name.insert(0, "my-code")
        self.name.pack(side="left", padx=(4, 12))
        self.fim_tasks = self._spin(
            row, "Fill-in gaps measured", DEFAULT_FIM_TASKS, 0, MAX_FIM_TASKS
        )
        self.resume = tk.BooleanVar(self, value=False)
        ttk.Checkbutton(row, text="Continue the stopped run", variable=self.resume).pack(
            side="left"
        )
        self.start_button = ttk.Button(row, text="Start", command=self.start)
        self.start_button.pack(side="right")
        self.summary_button = ttk.Button(row, text="Summary", command=self.check)
        self.summary_button.pack(side="right", padx=4)
        self.stop_button = ttk.Button(row, text="Stop", command=self.stop, state="disabled")
        self.stop_button.pack(side="right", padx=4)

    def _spin(
        self, row: ttk.Frame, label: str, value: float, low: float, high: float, **kw: Any
    ) -> ttk.Spinbox:
        ttk.Label(row, text=label).pack(side="left")
        spin = ttk.Spinbox(row, from_=low, to=high, width=8, **kw)
        spin.set(str(value))
        spin.pack(side="left", padx=(4, 12))
        return spin

    def _subscribe(self) -> None:
        from codenook.gui.bus import Subscriptions

        self.subscriptions = Subscriptions(self.app.bus)
        self.subscriptions.for_view(
            self,
            [
                (TuneSummary, self._summarised),
                (TuneNote, lambda e: self.status.config(text=e.text)),
                (TuneProgress, self._progressed),
                (TuneEnded, self._ended),
                (TuneFailed, lambda e: self._failed(e.message)),
            ],
        )

    def destroy(self) -> None:
        """Stop listening on the bus, then go (a run in progress is stopped by close)."""
        self.subscriptions.close()
        super().destroy()

    # -- Tk thread -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.stop_event is not None

    def _chosen(self) -> dict[str, Any] | None:
        """The chosen options, checked (None, with the reason shown, when one is wrong)."""
        try:
            chosen = {
                "steps": int(self.steps.get()),
                "rank": int(self.rank.get()),
                "lr": float(self.lr.get()),
                "seq_len": int(self.seq_len.get()),
                "fim_tasks": int(self.fim_tasks.get()),
            }
        except ValueError:
            self.status.config(
                text="Steps, rank, tokens and gaps are whole numbers; the rate a number."
            )
            return None
        if chosen["steps"] < 1 or chosen["rank"] < 1 or chosen["seq_len"] < 16 or chosen["lr"] <= 0:
            self.status.config(text="Steps and rank must be at least 1, tokens 16, the rate > 0.")
            return None
        if not 0 <= chosen["fim_tasks"] <= MAX_FIM_TASKS:
            self.status.config(text=f"Fill-in gaps: from 0 (none) to {MAX_FIM_TASKS}.")
            return None
        return chosen

    def check(self) -> None:
        """Build the dataset and show its summary without training (``tune data --dry-run``)."""
        self.start(dry_run=True)

    def start(self, *, dry_run: bool = False) -> None:
        """Build the dataset and train on the tune thread (``dry_run``: the summary only)."""
        material, name = self.sources.material(), self.name.get().strip()
        options = self._chosen()
        if self.running or options is None:
            return
        if material.empty:
            self.status.config(text="Pick a repository folder, documentation or a dataset first.")
            return
        if not name:
            self.status.config(text="Give the adapter a name.")
            return
        self.stop_event = threading.Event()
        self.losses = []
        self.adapter = None
        self.curve.delete("all")
        self.result.config(text="")
        self.use_button.config(state="disabled")
        self.summary.config(text="")
        self.start_button.config(state="disabled")
        self.summary_button.config(state="disabled")
        self.stop_button.config(state="normal")
        self.bar.config(maximum=options["steps"], value=0)
        self.status.config(text="Reading the material…")
        job = {"material": material, "name": name, "resume": self.resume.get(), **options}
        job["user"] = self.app.user  # read here: the tune thread touches no window state
        job["dry_run"] = dry_run
        self.thread = threading.Thread(
            target=self._run, args=(job, self.stop_event), name="codenook-tune", daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop after the current step; the checkpoint stays for "Continue"."""
        if self.stop_event is not None:
            self.stop_event.set()
            self.status.config(text="Stopping after this step… (a checkpoint is kept)")

    def close(self) -> None:
        """Stop a run in progress and close the view."""
        self.stop()
        self.destroy()

    def _progressed(self, e: TuneProgress) -> None:
        self.losses.append(e.loss)
        self.bar.config(value=e.step)
        m, s = divmod(int(e.seconds_left), 60)
        self.status.config(
            text=f"Step {e.step}/{e.steps} · loss {e.loss:.3f} · "
            f"{e.tokens_per_second:.0f} tokens/s · about {m}:{s:02d} left"
        )
        self._draw_curve()

    def _draw_curve(self) -> None:
        """The loss curve, scaled to the canvas (its lowest and highest loss so far)."""
        self.curve.delete("all")
        width = max(self.curve.winfo_width(), 100)
        low, high = min(self.losses), max(self.losses)
        span = (high - low) or 1.0
        n = len(self.losses)
        points: list[float] = []
        for i, loss in enumerate(self.losses):
            points += [
                8 + (width - 16) * i / max(n - 1, 1),
                8 + (CURVE_HEIGHT - 24) * (high - loss) / span,
            ]
        if n >= 2:
            self.curve.create_line(*points, fill="#1f6fb2", width=2)
        self.curve.create_text(
            8, CURVE_HEIGHT - 8, anchor="w", text=f"loss {high:.2f} → {self.losses[-1]:.2f}"
        )

    def _idle(self) -> None:
        self.stop_event = None
        self.start_button.config(state="normal")
        self.summary_button.config(state="normal")
        self.stop_button.config(state="disabled")

    def _summarised(self, e: TuneSummary) -> None:
        self.summary.config(text="\n".join(e.lines))
        if e.dry_run:
            self._idle()
            self.status.config(text="That is what Start trains on.")

    def _ended(self, e: TuneEnded) -> None:
        self._idle()
        if not e.finished:
            self.status.config(
                text=f'Stopped at step {e.step}; checkpoint kept. Tick "Continue the stopped '
                'run" and Start to go on (same options).'
            )
            return
        from codenook.tuning.measure import before_after_lines

        self.status.config(text=f"Finished: {e.step} steps.")
        lines = before_after_lines(
            ppl_before=e.ppl_before,
            ppl_after=e.ppl_after,
            fim_before=e.fim_before,
            fim_after=e.fim_after,
        )
        if lines:
            lines.insert(0, "Before and after, on the held-out files:")
        if e.adapter:
            lines.append(f"Adapter {e.adapter!r}: {e.path}")
            self.adapter = e.adapter
            self.use_button.config(state="normal")
        self.result.config(text="\n".join(lines))

    def _failed(self, message: str) -> None:
        self._idle()
        self.status.config(text=f"Training failed: {message}")

    def use_adapter(self) -> None:
        """Use the trained adapter with its base, as ``models use BASE --adapter NAME``."""
        if self.adapter is None:
            return
        s = self.app.settings
        self.app.apply_settings(replace(s, model=replace(s.model, adapter=self.adapter)))
        self.status.config(text=f"The chat now answers with adapter {self.adapter}.")

    # -- tune thread -----------------------------------------------------------------

    def _run(self, job: dict[str, Any], stop: threading.Event) -> None:
        """Build the dataset and train. Runs on the tune thread, with its own database
        connection (the liked answers, and the fim before/after kept as eval runs)."""
        from codenook.store.db import open_database

        post = self.app.bus.put
        db = open_database()
        try:
            self._build_and_train(job, stop, db, job["user"])
        except Exception as exc:  # the view says why; the window keeps working
            post(TuneFailed(self, str(exc)))
        finally:
            db.close()

    def _build_and_train(
        self, job: dict[str, Any], stop: threading.Event, db: Any, user: Any
    ) -> None:
        from codenook.tuning import session
        from codenook.tuning.measure import EvalStore
        from codenook.tuning.train import TrainOptions

        post = self.app.bus.put
        material: Material = job["material"]
        liked: list[dict[str, Any]] = []
        if material.liked and user is not None:
            from codenook.assist.export import liked_records

            liked, _ = liked_records(db, user)
        gguf = session.base_model(self.app.settings.model.path)
        dataset = session.build(
            [Path(r) for r in material.repos],
            gguf=gguf,
            docs=Path(material.docs) if material.docs else None,
            qa_files=[Path(q) for q in material.qa],
            liked=liked,
        )
        post(TuneSummary(self, dataset.summary.lines(), job["dry_run"]))
        if job["dry_run"]:
            return
        options = TrainOptions(
            steps=job["steps"],
            rank=job["rank"],
            lr=job["lr"],
            seq_len=job["seq_len"],
            threads=self.threads,
        )
        result, tuned = session.run(
            dataset,
            gguf,
            name=job["name"],
            options=options,
            resume=job["resume"],
            stop=stop,
            on_progress=lambda p: post(TuneProgress(self, **vars(p))),
            say=lambda line: post(TuneNote(self, line)),
            fim_tasks=job["fim_tasks"],
            evals=EvalStore(db, user.id) if user is not None else None,
        )
        post(
            TuneEnded(
                self,
                result.finished,
                result.step,
                result.ppl_before,
                result.ppl_after,
                tuned.name if tuned else None,
                str(tuned.path) if tuned else None,
                tuned.fim_before if tuned else None,
                tuned.fim_after if tuned else None,
            )
        )
