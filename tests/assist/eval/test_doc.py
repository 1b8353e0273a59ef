"""The doc suite: a file with a docstring everywhere passes; any other change fails."""

from __future__ import annotations

from codenook.assist.eval import runner
from codenook.assist.eval.doc import BARE_REQUEST, DocSuite, judge
from codenook.assist.eval.doc_tasks import TASKS
from codenook.assist.eval.tasks import Generated
from codenook.assist.tools.sandbox import Limits
from codenook.store.evals import TaskResult


def _run(solver: runner.Solver) -> dict[str, TaskResult]:
    suite = DocSuite()
    got: list[TaskResult] = []
    runner.run_tasks(suite, suite.tasks(), solver, limits=Limits(timeout=10), on_result=got.append)
    assert len(got) == len(TASKS)
    return {r.task_id: r for r in got}


def test_documented_files_pass_and_empty_or_unchanged_answers_fail() -> None:
    assert len(TASKS) >= 20
    assert len({t.id for t in TASKS}) == len(TASKS)
    right = _run(runner.reference_solver(DocSuite()))
    assert [(k, r.outcome, r.detail) for k, r in right.items() if not r.passed] == []
    empty = _run(runner.empty_solver())
    assert {r.outcome for r in empty.values()} == {"no-change"}
    unchanged = _run(lambda task: Generated(task.data["task"].source + "\n"))
    assert {r.outcome for r in unchanged.values()} == {"missing"}


def test_a_code_change_or_a_missing_docstring_fails() -> None:
    original = "def f(x):\n    return x + 1\n\n\ndef g():\n    return 2\n"
    full = (
        '"""M."""\n\n\ndef f(x):\n    """F."""\n    return x + 1\n\n\n'
        'def g():\n    """G."""\n    return 2\n'
    )
    assert judge(original, full).passed
    changed = full.replace("x + 1", "x + 2")
    assert judge(original, changed).outcome == "code-changed"
    partial = full.replace('    """G."""\n', "")
    v = judge(original, partial)
    assert (v.outcome, v.detail) == ("missing", "no docstring: g")
    assert judge(original, "def f(:\n").outcome == "syntax"
    assert "Change nothing else" in BARE_REQUEST
