"""Evaluate… in the real window under Xvfb, with a scripted model and the real sandbox."""

from __future__ import annotations

import tkinter as tk

from codenook.assist.eval import runner
from codenook.assist.eval.bash import BashSuite
from codenook.assist.eval.review import ReviewSuite
from codenook.assist.tools.diffs import make_diff
from codenook.gui.app import App
from codenook.gui.eval_view import EvaluateView
from codenook.store import evals as store
from codenook.store.db import open_database
from tests.gui.conftest import pump
from tests.gui.test_app import login, window  # noqa: F401  (the fixture)
from tests.scripted import ScriptedBackend


def _answers(limit: int, right: int) -> list[str]:
    """Scripted answers for the first ``limit`` Bash tasks the view draws: ``right`` good ones."""
    suite = BashSuite()
    tasks = runner.select(suite.tasks(), limit=limit, seed=0)
    return [
        f"```bash\n{suite.reference(t) if k < right else 'echo wrong'}\n```\n"
        for k, t in enumerate(tasks)
    ]


def _open(root: tk.Tk, app: App, answers: list[str]) -> EvaluateView:
    app.answering.backend = ScriptedBackend(answers)
    view = app.models.open_evaluate()
    view.suite.set("bash")
    view.limit.set(str(len(answers)))
    root.update()
    return view


def test_progress_moves_stop_keeps_finished_tasks_and_the_chart_appears(window) -> None:  # noqa: F811
    root, app = window
    login(root, app)

    view = _open(root, app, _answers(4, right=3))
    seen: list[float] = []
    view.start()
    pump(root, lambda: seen.append(float(view.bar.cget("value"))) or not view.running, 120)
    assert sorted(set(seen)) == sorted(set(seen), key=seen.index)  # the bar only moves on
    assert float(view.bar.cget("value")) == 4 and len(set(seen)) >= 3
    text = view.status.cget("text")
    assert "finished: 3/4 passed of 4 tasks (75.0%)" in text, text
    assert view.chart_image is not None and view.chart_image.width() > 300
    first_run = view.run_id

    view.destroy()
    view = _open(root, app, _answers(20, right=20))
    view.start()
    pump(root, lambda: view.done >= 2, 120)
    view.stop()
    pump(root, lambda: not view.running, 120)
    assert "stopped" in view.status.cget("text") and "--resume" in view.status.cget("text")
    assert view.chart_image is not None  # the stopped run next to the first one
    db = open_database()
    try:
        run = store.get_run(db, app.user.id, view.run_id)
        earlier = store.get_run(db, app.user.id, first_run)
    finally:
        db.close()
    assert run is not None and earlier is not None
    assert run.status == "stopped" and 2 <= run.done < 20
    assert run.passed == run.done  # every kept task was judged, none cut off mid-check
    assert earlier.status == "finished" and earlier.passed == 3


def test_the_job_suites_are_offered_with_a_side_and_the_side_is_stored(window) -> None:  # noqa: F811
    root, app = window
    login(root, app)
    suite = ReviewSuite("bare")
    tasks = runner.select(suite.tasks(), limit=2, seed=0)
    fixes = [make_diff(t.data["task"].source, suite.reference(t), "task.py") for t in tasks]
    view = _open(root, app, [f"Here is the fix.\n```diff\n{d}```\n" for d in fixes])
    assert tuple(view.suite.cget("values")) == runner.WINDOW_SUITES
    assert set(runner.JOB_SUITES) <= set(view.suite.cget("values"))
    assert str(view.side.cget("state")) == "disabled"  # bash has no sides
    view.suite.set("review")
    view.suite.event_generate("<<ComboboxSelected>>")
    root.update()
    assert str(view.side.cget("state")) == "readonly"
    view.side.set("bare")
    view.start()
    pump(root, lambda: not view.running, 120)
    assert "finished: 2/2 passed" in view.status.cget("text"), view.status.cget("text")
    db = open_database()
    try:
        run = store.get_run(db, app.user.id, view.run_id)
    finally:
        db.close()
    assert run is not None and run.suite == "review" and run.settings["side"] == "bare"
