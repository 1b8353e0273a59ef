"""Evaluate…: run a suite on the window's model, watch the score, stop, compare runs.

The run goes through the same harness as ``codenook eval`` on the model worker (one
answer at a time, as with the chat); its progress comes back as typed events on the
window's bus (:class:`EvalStarted`, :class:`EvalProgress`, :class:`EvalEnded`,
:class:`EvalFailed`), so the Tk thread never waits. Stop cancels the answer being
written and the checks in flight; every task finished before it stays in the store, and
the CLI's ``--resume`` finishes it.
"""

from __future__ import annotations

import base64
import io
import threading
import tkinter as tk
from dataclasses import dataclass, replace
from tkinter import ttk
from typing import TYPE_CHECKING

from codenook.assist.eval import runner
from codenook.assist.eval.jobside import SIDES
from codenook.assist.eval.plot import GRADED_SUITES, figure
from codenook.assist.eval.stats import compare
from codenook.engine.backend import Backend, GenerationOptions
from codenook.gui.bus import Subscriptions
from codenook.store import evals as store
from codenook.store.db import open_database
from codenook.store.evals import EvalRun, TaskResult

if TYPE_CHECKING:
    from codenook.gui.host import ModelsHost

#: Suites the window offers (fim needs a repository: the command line has it).
SUITES = runner.WINDOW_SUITES
#: Earlier runs of the same suite drawn next to the new one.
CHART_RUNS = 4


@dataclass(frozen=True)
class EvalStarted:
    """The run is stored under ``run_id`` with ``total`` tasks (model worker)."""

    view: EvaluateView
    run_id: int
    total: int


@dataclass(frozen=True)
class EvalProgress:
    """One more task judged (model worker)."""

    view: EvaluateView
    progress: runner.Progress
    result: TaskResult


@dataclass(frozen=True)
class EvalEnded:
    """The run finished or stopped; ``png`` is the comparison chart (model worker)."""

    view: EvaluateView
    run: EvalRun
    png: bytes


@dataclass(frozen=True)
class EvalFailed:
    """The run failed, and why (model worker)."""

    view: EvaluateView
    message: str


def chart_png(runs: list[EvalRun]) -> bytes:
    """The comparison chart of ``runs`` (the newest first) as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    comparison = None
    if len(runs) >= 2 and runs[0].suite == runs[1].suite:
        graded = runs[0].suite in GRADED_SUITES
        a = {r.task_id: (r.passed, r.score) for r in runs[0].results}
        b = {r.task_id: (r.passed, r.score) for r in runs[1].results}
        comparison = compare(a, b, graded=graded)
    fig = figure(runs, comparison)
    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


class EvaluateView(tk.Toplevel):
    """Pick a suite and how many tasks; the bar shows tasks done, the score and time left."""

    def __init__(self, master: tk.Misc, app: ModelsHost) -> None:
        super().__init__(master)
        self.app = app
        self.title("Evaluate — codenook")
        self.transient(master)
        self.geometry("820x560")
        self.cancel: threading.Event | None = None
        self.run_id: int | None = None
        self.done = 0
        self.chart_image: tk.PhotoImage | None = None
        body = ttk.Frame(self, padding=10)
        body.pack(fill="both", expand=True)
        row = ttk.Frame(body)
        row.pack(fill="x")
        ttk.Label(row, text="Suite").pack(side="left")
        self.suite = ttk.Combobox(row, values=SUITES, state="readonly", width=12)
        self.suite.set(SUITES[0])
        self.suite.pack(side="left", padx=(4, 12))
        self.suite.bind("<<ComboboxSelected>>", lambda _e: self._side_for_suite())
        # A job suite runs codenook's job, or the bare model on the same tasks.
        ttk.Label(row, text="Side").pack(side="left")
        self.side = ttk.Combobox(row, values=SIDES, state="disabled", width=9)
        self.side.set(SIDES[0])
        self.side.pack(side="left", padx=(4, 12))
        ttk.Label(row, text="Tasks").pack(side="left")
        self.limit = ttk.Spinbox(row, from_=1, to=500, width=6)
        self.limit.set("10")
        self.limit.pack(side="left", padx=(4, 12))
        backend = app.backend
        model = backend.info.name if backend is not None else "no model loaded"
        self.model_label = ttk.Label(row, text=f"Model: {model} (change it in Models…)")
        self.model_label.pack(side="left", padx=(0, 12))
        self.start_button = ttk.Button(row, text="Start", command=self.start)
        self.start_button.pack(side="right")
        self.stop_button = ttk.Button(row, text="Stop", command=self.stop, state="disabled")
        self.stop_button.pack(side="right", padx=4)
        self.bar = ttk.Progressbar(body, mode="determinate", maximum=1)
        self.bar.pack(fill="x", pady=(10, 4))
        self.status = ttk.Label(body, text="Pick a suite and press Start.")
        self.status.pack(fill="x")
        self.chart = ttk.Label(body)
        self.chart.pack(fill="both", expand=True, pady=(10, 0))
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.subscriptions = Subscriptions(app.bus)
        self.subscriptions.for_view(
            self,
            [
                (EvalStarted, lambda e: self._started(e.run_id, e.total)),
                (EvalProgress, lambda e: self._progressed(e.progress, e.result)),
                (EvalEnded, lambda e: self._ended(e.run, e.png)),
                (EvalFailed, lambda e: self._failed(e.message)),
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
        return self.cancel is not None

    def start(self) -> None:
        """Start a run of the chosen suite on the window's model."""
        app = self.app
        if self.running or app.user is None:
            return
        if app.backend is None or app.busy:
            self.status.config(text="The model is busy or not loaded yet; try again in a moment.")
            return
        try:
            limit = max(1, int(self.limit.get()))
        except ValueError:
            self.status.config(text="Tasks must be a whole number.")
            return
        suite = self.suite.get()
        side = self.side.get() if suite in runner.JOB_SUITES else runner.DEFAULT_SIDE
        self.cancel = threading.Event()
        self.done = 0
        self.start_button.config(state="disabled")
        self.stop_button.config(state="normal")
        self.status.config(text=f"Starting {suite} on {limit} tasks…")
        user_id, backend, cancel = app.user.id, app.backend, self.cancel
        app.model.submit(lambda: self._run(user_id, backend, suite, side, limit, cancel))

    def _side_for_suite(self) -> None:
        """The side choice is open for the job suites only."""
        job = self.suite.get() in runner.JOB_SUITES
        self.side.config(state="readonly" if job else "disabled")

    def stop(self) -> None:
        """Stop the run; the finished tasks stay."""
        if self.cancel is not None:
            self.cancel.set()
            if self.app.backend is not None:
                self.app.backend.cancel()
            self.status.config(text="Stopping… (finished tasks are kept)")

    def close(self) -> None:
        """Stop a run in progress and close the view."""
        self.stop()
        self.destroy()

    def _started(self, run_id: int, total: int) -> None:
        self.run_id = run_id
        self.bar.config(maximum=max(total, 1), value=0)

    def _progressed(self, p: runner.Progress, result: TaskResult) -> None:
        if not self.winfo_exists():
            return
        self.done = p.done
        self.bar.config(value=p.done)
        left = p.seconds_left()
        eta = f" · about {left:.0f} s left" if left is not None else ""
        self.status.config(
            text=f"{p.done}/{p.total} tasks · score {100 * p.score:.1f}% "
            f"({p.passed} passed){eta} · last: {result.task_id} {result.outcome}"
        )

    def _ended(self, run: EvalRun, png: bytes) -> None:
        self.cancel = None
        if not self.winfo_exists():
            return
        self.start_button.config(state="normal")
        self.stop_button.config(state="disabled")
        word = "finished" if run.status == "finished" else "stopped"
        self.status.config(
            text=f"Run {run.id} {word}: {run.passed}/{run.done} passed of {len(run.task_ids)} "
            f"tasks ({100 * run.passed / max(run.done, 1):.1f}%)."
            + ("" if word == "finished" else f" codenook eval --resume {run.id} finishes it.")
        )
        self.chart_image = tk.PhotoImage(master=self, data=base64.b64encode(png).decode("ascii"))
        self.chart.config(image=self.chart_image)

    def _failed(self, message: str) -> None:
        self.cancel = None
        if self.winfo_exists():
            self.start_button.config(state="normal")
            self.stop_button.config(state="disabled")
            self.status.config(text=f"The evaluation failed: {message}")

    # -- model worker ----------------------------------------------------------------

    def _run(
        self,
        user_id: int,
        backend: Backend,
        suite: str,
        side: str,
        limit: int,
        cancel: threading.Event,
    ) -> None:
        """Run the suite. Runs on the model worker."""
        db = open_database()
        plan = None
        try:
            options = GenerationOptions(
                max_tokens=runner.MAX_TOKENS[suite], temperature=0.0, seed=0
            )
            plan = runner.plan(
                suite, options=options, limit=limit, seed=0, jobs=runner.default_jobs(), side=side
            )
            run_id = runner.start(
                db,
                user_id,
                plan,
                identity=runner.model_identity(backend, hash_timeout=60),
                runtime=backend.info.backend,
                backend="local",
            )
            post = self.app.model.post
            post(EvalStarted(self, run_id, len(plan.tasks)))
            run = runner.execute(
                db,
                user_id,
                run_id,
                plan,
                runner.model_solver(plan.suite, backend, options),
                cancel=cancel,
                # A copy: the worker goes on counting while the Tk thread shows this one.
                on_progress=lambda p, r: post(EvalProgress(self, replace(p), r)),
            )
            earlier = [
                s.id for s in store.list_runs(db, user_id) if s.suite == suite and s.id != run.id
            ][: CHART_RUNS - 1]
            runs = [run, *(r for r in (store.get_run(db, user_id, i) for i in earlier) if r)]
            post(EvalEnded(self, run, chart_png(runs)))
        except Exception as exc:  # a stopped run stays stored; the view says why it ended
            self.app.model.post(EvalFailed(self, str(exc)))
        finally:
            close = getattr(plan.suite, "close", None) if plan is not None else None
            if close is not None:
                close()  # a job suite's private database
            db.close()
