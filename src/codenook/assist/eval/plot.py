"""The comparison chart: each run's score with its 95% interval, drawn with matplotlib.

Only matplotlib's object API and its Agg canvas are used (no pyplot), so drawing a chart
changes no global state of a process that also runs a Tk window.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from codenook.assist.eval.stats import Comparison, wilson
from codenook.assist.eval.tasks import EvalError
from codenook.store.evals import EvalRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRADED_SUITES = {"fim"}


def run_label(run: EvalRun) -> str:
    """A short label for a run: its id, model and backend (and a job suite's side)."""
    where = "" if run.backend == "local" else f" @ {run.backend}"
    side = f" ({run.settings['side']})" if run.settings.get("side") else ""
    return f"#{run.id} {run.model}{where}{side}"


def score_and_interval(run: EvalRun) -> tuple[float, float, float]:
    """A run's score and its 95% interval (Wilson for pass rates, the pass rate's for FIM)."""
    low, high = wilson(run.passed, run.done)
    if run.suite in GRADED_SUITES:
        return run.mean_score, min(low, run.mean_score), max(high, run.mean_score)
    return (run.passed / run.done if run.done else 0.0), low, high


def figure(runs: Sequence[EvalRun], comparison: Comparison | None = None) -> Figure:
    """A matplotlib Figure comparing ``runs`` (with the paired difference, if given)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 1.6 + 0.55 * len(runs)), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    labels, scores, lows, highs = [], [], [], []
    for run in runs:
        score, low, high = score_and_interval(run)
        labels.append(f"{run_label(run)}\n{run.suite}: {run.done}/{len(run.task_ids)} tasks")
        scores.append(100 * score)
        lows.append(100 * (score - low))
        highs.append(100 * (high - score))
    y = list(range(len(runs)))[::-1]
    ax.barh(y, scores, xerr=[lows, highs], color="#4c72b0", ecolor="#333333", capsize=4)
    for yi, s in zip(y, scores, strict=True):
        # Beside the bar, or inside a long one, where the interval's whisker is not.
        inside = s > 80
        x, colour, align = (s - 2, "white", "right") if inside else (s + 1.5, "black", "left")
        ax.text(x, yi + 0.25, f"{s:.1f}%", va="center", ha=align, fontsize=9, color=colour)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    measure = "mean edit similarity" if runs and runs[0].suite in GRADED_SUITES else "pass@1"
    ax.set_xlabel(f"{measure} (%), 95% interval")
    title = "codenook eval"
    if comparison is not None and comparison.common:
        title += f": {comparison.sentence()}"
    ax.set_title(title, fontsize=9, wrap=True)
    ax.grid(axis="x", alpha=0.3)
    return fig


def save_plot(
    runs: Sequence[EvalRun], path: str | Path, comparison: Comparison | None = None
) -> Path:
    """Draw the chart into a PNG file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = Path(path)
    if out.suffix.lower() != ".png":
        raise EvalError(f"{out}: the chart is written as PNG; name the file *.png.")
    fig = figure(runs, comparison)
    FigureCanvasAgg(fig)
    try:
        fig.savefig(out, format="png")
    except OSError as exc:
        raise EvalError(f"Cannot write the chart to {out}: {exc.strerror or exc}.") from exc
    return out
