"""The gen suite: HumanEval's tasks, judged by their tests; the canonical answer passes."""

from __future__ import annotations

from codenook.assist.eval import runner
from codenook.assist.eval.gen import GenSuite
from codenook.assist.eval.humaneval import HumanEval
from codenook.assist.tools.sandbox import Limits
from codenook.store.evals import TaskResult


def test_gen_tasks_are_humanevals_and_the_checks_tell_right_from_empty() -> None:
    suite = GenSuite()
    tasks = suite.tasks()
    assert [t.id for t in tasks] == [t.id for t in HumanEval().tasks()]
    assert {t.suite for t in tasks} == {"gen"}
    # A subset here: the humaneval suite's own test runs all 164 canonical solutions.
    subset = runner.select(tasks, limit=8, seed=3)
    for solver, passes in ((runner.reference_solver(suite), True), (runner.empty_solver(), False)):
        got: list[TaskResult] = []
        runner.run_tasks(
            suite, subset, solver, limits=Limits(timeout=10), jobs=2, on_result=got.append
        )
        assert len(got) == len(subset)
        assert [r.task_id for r in got if r.passed != passes] == []
    assert GenSuite("bare").side == "bare"
