"""The review suite: at least 20 flawed files; the fixed file passes, no edit fails."""

from __future__ import annotations

import pytest

from codenook.assist.eval import runner
from codenook.assist.eval.review import ReviewSuite, bare_request, figures, findings_before
from codenook.assist.eval.review_tasks import TASKS
from codenook.assist.eval.tasks import EvalError, Generated
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import GenerationOptions
from codenook.store.evals import TaskResult


def _run(solver: runner.Solver) -> dict[str, TaskResult]:
    suite = ReviewSuite()
    got: list[TaskResult] = []
    runner.run_tasks(
        suite, suite.tasks(), solver, limits=Limits(timeout=10), jobs=2, on_result=got.append
    )
    assert len(got) == len(TASKS)
    return {r.task_id: r for r in got}


def test_fixed_files_pass_and_empty_or_unchanged_answers_fail() -> None:
    assert len(TASKS) >= 20
    assert len({t.id for t in TASKS}) == len(TASKS)
    right = _run(runner.reference_solver(ReviewSuite()))
    assert [(k, r.outcome, r.detail) for k, r in right.items() if not r.passed] == []
    empty = _run(runner.empty_solver())
    assert {r.outcome for r in empty.values()} == {"no-change"}
    unchanged = _run(lambda task: Generated(task.data["task"].source))
    assert [k for k, r in unchanged.items() if r.passed] == []


def test_every_flaw_is_one_ruff_or_a_test_finds() -> None:
    suite = ReviewSuite()
    for task in TASKS:
        # Ruff finds it, or the test shows it: the flawed file must not pass as it is.
        assert findings_before(task.id) > 0 or task.test, task.id
    assert sum(findings_before(t.id) for t in TASKS) >= 20
    verdicts = {
        t.id: suite.check(s, s.data["task"].source + "\n", limits=Limits(timeout=10), cancel=None)
        for t, s in zip(TASKS, suite.tasks(), strict=True)
    }
    assert [k for k, v in verdicts.items() if v.passed] == []


def test_an_edit_that_adds_findings_or_breaks_the_test_fails() -> None:
    suite = ReviewSuite()
    task = next(t for t in suite.tasks() if t.id == "mutable-default")
    limits = Limits(timeout=10)
    worse = task.data["task"].source + "import os\n"
    assert suite.check(task, worse, limits=limits, cancel=None).outcome == "worse"
    broken = "def add_item(item, items=None):\n    return []\n"
    v = suite.check(task, broken, limits=limits, cancel=None)
    assert (v.passed, v.outcome) == (False, "test-failed")
    assert figures("mutable-default", task.data["task"].fixed) == (True, 1, 0)
    assert figures("mutable-default", "") == (False, 1, 1)


def test_the_bare_side_is_asked_plainly_and_sides_are_checked() -> None:
    task = ReviewSuite("bare").tasks()[0]
    asked = bare_request(task)
    assert task.data["task"].source in asked and "```diff" in asked
    with pytest.raises(EvalError, match="sides are: codenook, bare"):
        runner.make_suite("review", side="plain")
    plan = runner.plan("review", options=GenerationOptions(), side="bare")
    assert plan.settings["side"] == "bare" and plan.suite.side == "bare"
