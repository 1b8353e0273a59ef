"""The Bash suite: at least 40 tasks, each check telling the known-good script from none."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codenook.assist.eval import runner
from codenook.assist.eval.bash import BashSuite, listing
from codenook.assist.eval.bash_tasks import TASKS
from codenook.assist.tools.sandbox import Limits
from codenook.store.evals import TaskResult


def _run(solver: runner.Solver) -> list[TaskResult]:
    suite = BashSuite()
    got: list[TaskResult] = []
    runner.run_tasks(
        suite, suite.tasks(), solver, limits=Limits(timeout=10), jobs=2, on_result=got.append
    )
    return got


def test_every_task_passes_its_solution_and_fails_an_empty_answer() -> None:
    assert len(TASKS) >= 40
    assert len({t.id for t in TASKS}) == len(TASKS)
    started = time.monotonic()
    right = _run(runner.reference_solver(BashSuite()))
    assert [(r.task_id, r.detail) for r in right if not r.passed] == []
    empty = _run(runner.empty_solver())
    assert [r.task_id for r in empty if r.passed] == []
    assert len(right) == len(empty) == len(TASKS)
    print(f"{2 * len(TASKS)} Bash checks with --jobs 2: {time.monotonic() - started:.1f} s")


def test_the_model_is_shown_the_folder() -> None:
    task = next(t for t in TASKS if t.id == "sum-column")
    shown = listing(task)
    assert "- sales.csv:" in shown and "item,amount" in shown and "(2 more lines)" in shown


HOSTILE = {
    "loops forever": "while :; do :; done",
    "forks": ":(){ :|:& };:",
    "deletes files": "rm -rf {canary} ~ / 2>/dev/null; rm -rf ../* ./* 2>/dev/null; echo 7",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_script_is_contained_and_fails(kind: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary.txt"
    canary.write_text("still here\n")
    suite = BashSuite()
    task = next(t for t in suite.tasks() if t.id == "count-lines")  # the answer is 7
    started = time.monotonic()
    verdict = suite.check(
        task, HOSTILE[kind].replace("{canary}", str(canary)), limits=Limits(timeout=3), cancel=None
    )
    assert not verdict.passed, verdict
    assert time.monotonic() - started < 30
    assert canary.read_text() == "still here\n"
    ok = suite.check(task, suite.reference(task), limits=Limits(timeout=10), cancel=None)
    assert ok.passed
