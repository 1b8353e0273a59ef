"""Evaluation runs in the store: results kept per task, and only their owner sees them."""

from __future__ import annotations

import sqlite3

import pytest

from codenook.store import evals as store
from codenook.store.evals import TaskResult


def _new(db: sqlite3.Connection, user_id: int, tasks: list[str]) -> int:
    return store.create_run(
        db, user_id, suite="bash", model="m", model_file="m.gguf", model_sha256="ab" * 32,
        runtime="llama.cpp", backend="local", settings={"seed": 1}, machine={"cores": 2},
        task_ids=tasks,
    )  # fmt: skip


def test_results_are_kept_in_task_order_and_counted(db: sqlite3.Connection, users: tuple) -> None:
    alice, _ = users
    run_id = _new(db, alice.id, ["t1", "t2", "t3"])
    store.add_result(db, alice.id, run_id, TaskResult("t2", False, 0.0, "wrong", "x"))
    store.add_result(db, alice.id, run_id, TaskResult("t1", True, 1.0, "passed", "y", tokens=9))
    run = store.get_run(db, alice.id, run_id)
    assert run is not None and run.status == "running"
    assert [r.task_id for r in run.results] == ["t1", "t2"]
    assert (run.done, run.passed, run.remaining()) == (2, 1, ["t3"])
    assert run.settings == {"seed": 1} and run.machine == {"cores": 2}
    store.add_result(db, alice.id, run_id, TaskResult("t2", True, 1.0, "passed", "z"))
    assert store.get_run(db, alice.id, run_id).passed == 2  # a task is kept once
    store.set_status(db, alice.id, run_id, "stopped")
    [summary] = store.list_runs(db, alice.id)
    assert (summary.id, summary.total, summary.done, summary.status) == (run_id, 3, 2, "stopped")


def test_another_user_never_sees_or_changes_a_run(db: sqlite3.Connection, users: tuple) -> None:
    alice, bob = users
    run_id = _new(db, alice.id, ["t1"])
    assert store.get_run(db, bob.id, run_id) is None
    assert store.list_runs(db, bob.id) == []
    store.set_status(db, bob.id, run_id, "finished")
    assert store.get_run(db, alice.id, run_id).status == "running"
    with pytest.raises(sqlite3.IntegrityError):  # a result must name the run's owner
        store.add_result(db, bob.id, run_id, TaskResult("t1", True, 1.0, "passed", ""))
    assert store.get_run(db, alice.id, run_id).results == []


def test_a_deleted_user_takes_their_runs_along(db: sqlite3.Connection, users: tuple) -> None:
    _, bob = users
    run_id = _new(db, bob.id, ["t1"])
    store.add_result(db, bob.id, run_id, TaskResult("t1", True, 1.0, "passed", ""))
    db.execute("DELETE FROM users WHERE id = ?", (bob.id,))
    assert db.execute("SELECT COUNT(*) FROM eval_runs").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM eval_results").fetchone()[0] == 0
