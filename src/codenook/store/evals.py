"""Evaluation runs and their per-task results.

Every query takes the owner's user id; a run of another user is never read or changed.
Results are written one task at a time as they finish, so a stopped run keeps them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from typing import Any

#: Longest stored completion and detail (a completion is bounded by its tokens anyway).
MAX_COMPLETION_CHARS = 100_000
MAX_DETAIL_CHARS = 4_000


@dataclass(frozen=True)
class TaskResult:
    """One finished task of a run."""

    task_id: str
    passed: bool
    score: float
    outcome: str
    completion: str
    detail: str = ""
    generate_seconds: float = 0.0
    check_seconds: float = 0.0
    tokens: int = 0


@dataclass(frozen=True)
class EvalRun:
    """One run of a suite, with the results it holds so far."""

    id: int
    suite: str
    model: str
    model_file: str | None
    model_sha256: str | None
    runtime: str
    backend: str
    settings: dict[str, Any]
    machine: dict[str, Any]
    task_ids: list[str]
    status: str
    created: float
    updated: float
    results: list[TaskResult] = field(default_factory=list)

    @property
    def done(self) -> int:
        """Tasks finished."""
        return len(self.results)

    @property
    def passed(self) -> int:
        """Tasks passed."""
        return sum(r.passed for r in self.results)

    @property
    def mean_score(self) -> float:
        """Mean score over finished tasks (the pass rate for pass/fail suites)."""
        return sum(r.score for r in self.results) / len(self.results) if self.results else 0.0

    def remaining(self) -> list[str]:
        """Task ids not finished yet, in the run's order."""
        finished = {r.task_id for r in self.results}
        return [t for t in self.task_ids if t not in finished]

    def as_dict(self) -> dict[str, Any]:
        """The run as plain data (for --json)."""
        return asdict(self)


_RUN_COLUMNS = (
    "id, suite, model, model_file, model_sha256, runtime, backend, settings, machine, "
    "task_ids, status, created, updated"
)


def create_run(
    db: sqlite3.Connection,
    user_id: int,
    *,
    suite: str,
    model: str,
    model_file: str | None,
    model_sha256: str | None,
    runtime: str,
    backend: str,
    settings: dict[str, Any],
    machine: dict[str, Any],
    task_ids: list[str],
) -> int:
    """A new running run; returns its id."""
    now = time.time()
    cur = db.execute(
        "INSERT INTO eval_runs (user_id, suite, model, model_file, model_sha256, runtime, "
        "backend, settings, machine, task_ids, status, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
        (
            user_id,
            suite,
            model,
            model_file,
            model_sha256,
            runtime,
            backend,
            json.dumps(settings, sort_keys=True),
            json.dumps(machine, sort_keys=True),
            json.dumps(task_ids),
            now,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def add_result(db: sqlite3.Connection, user_id: int, run_id: int, result: TaskResult) -> None:
    """Keep one finished task (a second result for the same task replaces the first)."""
    db.execute(
        "INSERT OR REPLACE INTO eval_results (run_id, user_id, task_id, passed, score, outcome, "
        "completion, detail, generate_seconds, check_seconds, tokens, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            user_id,
            result.task_id,
            int(result.passed),
            float(result.score),
            result.outcome,
            result.completion[:MAX_COMPLETION_CHARS],
            result.detail[:MAX_DETAIL_CHARS],
            result.generate_seconds,
            result.check_seconds,
            result.tokens,
            time.time(),
        ),
    )
    db.execute(
        "UPDATE eval_runs SET updated = ? WHERE id = ? AND user_id = ?",
        (time.time(), run_id, user_id),
    )


def set_status(db: sqlite3.Connection, user_id: int, run_id: int, status: str) -> None:
    """Mark a run running, stopped or finished."""
    db.execute(
        "UPDATE eval_runs SET status = ?, updated = ? WHERE id = ? AND user_id = ?",
        (status, time.time(), run_id, user_id),
    )


def _run(db: sqlite3.Connection, row: sqlite3.Row, user_id: int, *, results: bool) -> EvalRun:
    values = dict(row)
    values["settings"] = json.loads(values["settings"])
    values["machine"] = json.loads(values["machine"])
    values["task_ids"] = json.loads(values["task_ids"])
    run = EvalRun(**values)
    if results:
        rows = db.execute(
            "SELECT task_id, passed, score, outcome, completion, detail, generate_seconds, "
            "check_seconds, tokens FROM eval_results WHERE run_id = ? AND user_id = ? "
            "ORDER BY id",
            (run.id, user_id),
        ).fetchall()
        order = {t: i for i, t in enumerate(run.task_ids)}
        found = [TaskResult(**{**dict(r), "passed": bool(r["passed"])}) for r in rows]
        run.results.extend(sorted(found, key=lambda r: order.get(r.task_id, len(order))))
    return run


def get_run(db: sqlite3.Connection, user_id: int, run_id: int) -> EvalRun | None:
    """The user's run with all its results, or None."""
    row = db.execute(
        f"SELECT {_RUN_COLUMNS} FROM eval_runs WHERE id = ? AND user_id = ?", (run_id, user_id)
    ).fetchone()
    return _run(db, row, user_id, results=True) if row else None


@dataclass(frozen=True)
class RunSummary:
    """A run as ``codenook eval list`` shows it."""

    id: int
    suite: str
    model: str
    runtime: str
    backend: str
    status: str
    created: float
    total: int
    done: int
    passed: int
    mean_score: float
    #: The settings the run started with (a job suite's side, a project run's context).
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain data (for --json)."""
        return asdict(self)


def list_runs(db: sqlite3.Connection, user_id: int, *, limit: int = 100) -> list[RunSummary]:
    """The user's runs, newest first, with their counts."""
    rows = db.execute(
        "SELECT r.id, r.suite, r.model, r.runtime, r.backend, r.status, r.created, r.task_ids, "
        "r.settings, "
        "COUNT(e.id) AS done, COALESCE(SUM(e.passed), 0) AS passed, "
        "COALESCE(AVG(e.score), 0) AS mean_score "
        "FROM eval_runs r LEFT JOIN eval_results e ON e.run_id = r.id AND e.user_id = r.user_id "
        "WHERE r.user_id = ? GROUP BY r.id ORDER BY r.created DESC, r.id DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    out = []
    for r in rows:
        values = dict(r)
        values["total"] = len(json.loads(values.pop("task_ids")))
        values["settings"] = json.loads(values["settings"])
        out.append(RunSummary(**values))
    return out
