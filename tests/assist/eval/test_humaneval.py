"""HumanEval in the harness: right answers pass, wrong or hostile ones fail and stay contained."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codenook.assist.eval import runner
from codenook.assist.eval.humaneval import TASK_COUNT, HumanEval, completion_from_code
from codenook.assist.tools.sandbox import Limits
from codenook.store.evals import TaskResult


def _run(
    solver: runner.Solver, tasks: list | None = None, *, timeout: float = 10
) -> list[TaskResult]:
    suite = HumanEval()
    got: list[TaskResult] = []
    runner.run_tasks(
        suite,
        tasks or suite.tasks(),
        solver,
        limits=Limits(timeout=timeout),
        jobs=2,
        on_result=got.append,
    )
    return got


def test_canonical_solutions_all_pass_and_empty_answers_all_fail() -> None:
    """The honesty check: the harness tells a right answer from no answer on every task."""
    suite = HumanEval()
    assert len(suite.tasks()) == TASK_COUNT == 164
    started = time.monotonic()
    # Every canonical solution runs in well under a second; the generous limit is for a
    # loaded machine (one run here timed a task out at 10 s while other suites ran).
    right = _run(runner.reference_solver(suite), timeout=60)
    assert len(right) == 164
    assert [(r.task_id, r.outcome, r.detail[:200]) for r in right if not r.passed] == []
    empty = _run(runner.empty_solver())
    assert len(empty) == 164
    assert [r.task_id for r in empty if r.passed] == []
    assert {r.outcome for r in empty} <= {"wrong", "error"}
    print(f"328 HumanEval checks with --jobs 2: {time.monotonic() - started:.1f} s")


def test_a_whole_function_redefines_the_stub_and_a_body_continues_it() -> None:
    prompt = 'def add(a, b):\n    """Add."""\n'
    whole = completion_from_code(prompt, "def add(a, b):\n    return a + b\n", "add")
    assert whole == "\ndef add(a, b):\n    return a + b\n"
    body = completion_from_code(prompt, "return a + b\n", "add")
    assert body == "    return a + b\n"
    assert completion_from_code(prompt, "    return a + b\n", "add") == "    return a + b\n"


def test_a_model_answer_with_prose_is_judged_by_its_code() -> None:
    suite = HumanEval()
    task = suite.tasks()[0]  # has_close_elements
    code = task.data["prompt"] + task.data["canonical_solution"]
    completion = completion_from_code(task.data["prompt"], code, task.data["entry_point"])
    verdict = suite.check(task, completion, limits=Limits(timeout=10), cancel=None)
    assert verdict.passed and verdict.outcome == "passed"


HOSTILE = {
    "loops forever": "    while True:\n        pass\n",
    "forks": "    import os\n    while True:\n        try:\n            os.fork()\n"
    "        except OSError:\n            pass\n",
    "deletes files": "    import os, shutil\n    for p in ({canary!r}, os.path.expanduser('~')):\n"
    "        shutil.rmtree(p, ignore_errors=True)\n"
    "        try:\n            os.remove(p)\n        except OSError:\n            pass\n"
    "    shutil.rmtree('/', ignore_errors=True)\n    return numbers\n",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_completion_is_contained_and_fails(kind: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("still here\n")
    suite = HumanEval()
    task = suite.tasks()[0]
    completion = HOSTILE[kind].format(canary=str(canary))
    started = time.monotonic()
    verdict = suite.check(task, completion, limits=Limits(timeout=3), cancel=None)
    assert not verdict.passed
    assert time.monotonic() - started < 30  # stopped at its limit, not left running
    if kind != "deletes files":
        assert verdict.outcome in {"timeout", "killed", "memory"}, verdict
    assert canary.read_text() == "still here\n"
    # The harness itself still works afterwards.
    ok = suite.check(task, suite.reference(task), limits=Limits(timeout=10), cancel=None)
    assert ok.passed
