"""Each job suite on one task with the Qwen coder model, codenook's side and the bare one.

The runs are stored as ``codenook eval`` stores them, every outcome is judged again from
the stored answer, and the two sides pair up on the same tasks.
"""

from __future__ import annotations

import pytest

from codenook.assist.eval import runner
from codenook.assist.eval.stats import compare
from codenook.engine.backend import GenerationOptions
from codenook.store.evals import EvalRun

#: Room for an answer: enough for a short review with its diff, a fix, a
#: function, and a small documented file (the suites' own limits are for the full runs).
#: One task a side keeps make test short; the full suites run in benchmarks/eval.py.
TASKS = 1

MAX_TOKENS = {"gen": 256, "review": 384, "debug": 384, "doc": 320}


def _run(db, user, backend, suite: str, side: str) -> EvalRun:
    options = GenerationOptions(max_tokens=MAX_TOKENS[suite], temperature=0.0, seed=0)
    plan = runner.plan(suite, options=options, limit=TASKS, seed=0, jobs=2, side=side)
    run_id = runner.start(
        db, user.id, plan, identity=runner.model_identity(backend), runtime="llama.cpp",
        backend="local", machine_info={"cpu": "test"},
    )  # fmt: skip
    try:
        return runner.execute(
            db, user.id, run_id, plan, runner.model_solver(plan.suite, backend, options)
        )
    finally:
        plan.suite.close()


# Four model answers (more for gen's repair round and doc's one request per definition)
# on a loaded two-core machine.
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("suite", runner.JOB_SUITES)
def test_both_sides_hold_up_when_judged_again(suite: str, db, users, qwen_backend) -> None:
    alice, _ = users
    runs = {side: _run(db, alice, qwen_backend, suite, side) for side in runner.SIDES}
    for side, run in runs.items():
        assert run.status == "finished" and run.done == TASKS and run.settings["side"] == side
        for result in run.results:
            assert result.tokens > 0 and result.generate_seconds > 0
            again = runner.recheck(run, result)
            assert (again.passed, again.outcome) == (result.passed, result.outcome), (
                side, result.task_id, result.completion, again.detail,
            )  # fmt: skip
    job, bare = runs["codenook"], runs["bare"]
    assert job.task_ids == bare.task_ids
    pairs = [{r.task_id: (r.passed, r.score) for r in run.results} for run in (job, bare)]
    assert compare(*pairs, graded=False).common == TASKS
    print(
        f"{suite} on Qwen, {TASKS} task(s): codenook {job.passed}/{TASKS} "
        f"({', '.join(r.outcome for r in job.results)}), bare {bare.passed}/{TASKS} "
        f"({', '.join(r.outcome for r in bare.results)})"
    )
