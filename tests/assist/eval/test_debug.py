"""The debug suite: at least 20 buggy programs; the known fix passes, no fix fails."""

from __future__ import annotations

from codenook.assist.eval import runner
from codenook.assist.eval.debug import DebugSuite, bare_request
from codenook.assist.eval.debug_tasks import TASKS
from codenook.assist.eval.tasks import Generated
from codenook.assist.tools.sandbox import Limits
from codenook.store.evals import TaskResult


def _run(solver: runner.Solver) -> dict[str, TaskResult]:
    suite = DebugSuite()
    got: list[TaskResult] = []
    runner.run_tasks(
        suite, suite.tasks(), solver, limits=Limits(timeout=10), jobs=2, on_result=got.append
    )
    assert len(got) == len(TASKS)
    return {r.task_id: r for r in got}


def test_known_fixes_pass_and_empty_or_unchanged_answers_fail() -> None:
    assert len(TASKS) >= 20
    assert len({t.id for t in TASKS}) == len(TASKS)
    right = _run(runner.reference_solver(DebugSuite()))
    assert [(k, r.outcome, r.detail) for k, r in right.items() if not r.passed] == []
    empty = _run(runner.empty_solver())
    assert {r.outcome for r in empty.values()} == {"no-change"}
    # The buggy program itself, given back with a blank line more: its tests still fail.
    unchanged = _run(lambda task: Generated(task.data["task"].source + "\n"))
    assert [k for k, r in unchanged.items() if r.passed] == []


def test_deleting_the_tests_does_not_pass() -> None:
    suite = DebugSuite()
    task = next(t for t in suite.tasks() if t.id == "factorial-range")
    only_code = task.data["task"].code  # the bug kept, the failing asserts removed
    v = suite.check(task, only_code, limits=Limits(timeout=10), cancel=None)
    assert (v.passed, v.outcome) == (False, "wrong")
    assert "AssertionError" in v.detail


def test_the_bare_side_sees_the_code_but_not_the_error() -> None:
    task = DebugSuite("bare").tasks()[0]
    asked = bare_request(task)
    assert task.data["task"].source in asked and "Traceback" not in asked
