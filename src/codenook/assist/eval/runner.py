"""Running a suite: the model answers task after task while the sandbox checks the answers.

Answers come one at a time (one model); checks run ``jobs`` at once in threads, so the
model writes the next answer while the last one is checked. Each finished task is stored
at once, in the caller's thread: a run stopped by Ctrl-C or Stop keeps every task that
finished, and ``resume`` finishes the rest with the same settings and the same model.
"""

from __future__ import annotations

import os
import platform
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codenook.assist.eval.bash import BashSuite
from codenook.assist.eval.debug import DebugSuite
from codenook.assist.eval.doc import DocSuite
from codenook.assist.eval.fim import DEFAULT_TASKS, FimSuite
from codenook.assist.eval.gen import GenSuite
from codenook.assist.eval.humaneval import HumanEval
from codenook.assist.eval.jobside import SIDES, check_side
from codenook.assist.eval.project import ProjectSuite
from codenook.assist.eval.review import ReviewSuite
from codenook.assist.eval.tasks import EvalError, Generated, Suite, Task, Verdict
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions
from codenook.store import evals as store
from codenook.store.evals import EvalRun, TaskResult

#: The suites that measure codenook's own jobs, each run on a side (see :data:`SIDES`).
JOB_SUITES = ("gen", "review", "debug", "doc")
#: Every suite, by name: the one list the command line and the window read.
SUITE_NAMES = ("humaneval", "bash", "fim", "project", *JOB_SUITES)
#: The suites the window offers (fim needs a repository, project codenook's source tree).
WINDOW_SUITES = ("humaneval", "bash", *JOB_SUITES)
#: Longest answer per suite, in tokens (a HumanEval function, a Bash script, a gap,
#: a review or a fix with its diff).
MAX_TOKENS = {
    "humaneval": 512,
    "bash": 384,
    "fim": 192,
    "project": 160,
    "gen": 512,
    "review": 768,
    "debug": 768,
    "doc": 1024,
}
#: The job suites, by name (each made with its side).
_JOB_SUITE_TYPES = {"gen": GenSuite, "review": ReviewSuite, "debug": DebugSuite, "doc": DocSuite}
DEFAULT_SIDE = SIDES[0]
DEFAULT_FIM_TASKS = DEFAULT_TASKS
#: Per-task sandbox time limit, seconds.
DEFAULT_TIMEOUT = 10.0

Solver = Callable[[Task], Generated]


def make_suite(
    name: str,
    *,
    repo: str | Path | None = None,
    seed: int = 0,
    fim_tasks: int = DEFAULT_TASKS,
    context: bool = True,
    side: str = DEFAULT_SIDE,
) -> Suite:
    """The suite called ``name`` (``fim`` needs ``repo``; ``project`` grounds unless not
    ``context``; a job suite answers on ``side``: codenook's job or the bare model)."""
    if name in _JOB_SUITE_TYPES:
        return _JOB_SUITE_TYPES[name](check_side(side))
    if name == "humaneval":
        return HumanEval()
    if name == "bash":
        return BashSuite()
    if name == "fim":
        if repo is None:
            raise EvalError("The fim suite holds out code of a repository: give --repo DIR.")
        return FimSuite(Path(repo).resolve(), count=fim_tasks, seed=seed)
    if name == "project":
        return ProjectSuite(Path(repo) if repo is not None else None, context=context)
    raise EvalError(f"Unknown suite {name!r}; the suites are: {', '.join(SUITE_NAMES)}.")


def select(tasks: list[Task], *, limit: int | None, seed: int) -> list[Task]:
    """All tasks, or ``limit`` of them drawn with ``seed`` (kept in the suite's order)."""
    if limit is None or limit >= len(tasks):
        return list(tasks)
    if limit < 1:
        raise EvalError("--limit must be at least 1.")
    chosen = set(random.Random(seed).sample(range(len(tasks)), limit))
    return [t for i, t in enumerate(tasks) if i in chosen]


def model_solver(suite: Suite, backend: Backend, options: GenerationOptions) -> Solver:
    """Answers from the model."""
    return lambda task: suite.ask(backend, task, options)


def reference_solver(suite: Suite) -> Solver:
    """The suite's known-good answers (the honesty check of a harness)."""
    return lambda task: Generated(suite.reference(task))


def empty_solver() -> Solver:
    """No answer at all: every task must fail."""
    return lambda task: Generated("")


def machine() -> dict[str, Any]:
    """This machine as a result should name it: CPU, cores, RAM, GPUs."""
    from codenook.engine import hardware

    hw = hardware.detect()
    return {
        "host": platform.node(),
        "system": f"{platform.system()} {platform.release()}",
        "cpu": _cpu_name(),
        "cores": hw.physical_cores,
        "ram_gb": round(hw.ram_total_bytes / 1e9, 1),
        "gpus": [g.name for g in hw.gpus],
        "gpu_offload": hw.gpu_offload,
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def model_identity(backend: Backend, *, hash_timeout: float = 600.0) -> dict[str, Any]:
    """The model's name, file and sha256 (None where the model is on another machine)."""
    from codenook.engine import model_hash

    info = backend.info
    path = Path(info.path) if info.path else None
    sha = None
    if path is not None and path.is_file():
        sha = model_hash.wait(path, timeout=hash_timeout)
    return {
        "model": info.name,
        "model_file": path.name if path is not None and path.is_file() else None,
        "model_sha256": sha,
    }


@dataclass
class Progress:
    """How far a run is: tasks done, the running score, the time left."""

    total: int
    done: int = 0
    passed: int = 0
    score_sum: float = 0.0
    started: float = 0.0
    #: Tasks finished before this session (a resumed run), left out of the time estimate.
    earlier: int = 0

    @property
    def score(self) -> float:
        """Mean score so far (the pass rate for pass/fail suites)."""
        return self.score_sum / self.done if self.done else 0.0

    def seconds_left(self) -> float | None:
        """Estimated seconds to the end, from this session's pace."""
        now_done = self.done - self.earlier
        if now_done <= 0:
            return None
        pace = (time.monotonic() - self.started) / now_done
        return pace * (self.total - self.done)


OnResult = Callable[[Progress, TaskResult], None]


def run_tasks(
    suite: Suite,
    tasks: list[Task],
    solver: Solver,
    *,
    limits: Limits,
    jobs: int = 1,
    cancel: threading.Event | None = None,
    on_result: Callable[[TaskResult], None],
) -> bool:
    """Answer and check ``tasks``; ``on_result`` gets each finished one in this thread.

    Returns False when stopped (``cancel`` set, or Ctrl-C, which is raised again after
    the checks in flight are stopped and the finished ones handed over).
    """
    cancel = cancel or threading.Event()
    pending: dict[Future[Verdict], tuple[Task, Generated]] = {}

    def hand_over(done: set[Future[Verdict]]) -> None:
        for future in done:
            task, gen = pending.pop(future)
            verdict = future.result()
            if verdict.outcome == "cancelled":
                continue  # not judged: a resume runs it again
            on_result(
                TaskResult(
                    task.id,
                    verdict.passed,
                    verdict.score,
                    verdict.outcome,
                    gen.completion,
                    verdict.detail,
                    gen.seconds,
                    verdict.seconds,
                    gen.tokens,
                )
            )

    def check(task: Task, completion: str) -> Verdict:
        if cancel.is_set():
            return Verdict(False, 0.0, "cancelled")
        return suite.check(task, completion, limits=limits, cancel=cancel)

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="eval-check") as pool:
        try:
            for task in tasks:
                if cancel.is_set():
                    break
                gen = solver(task)
                if cancel.is_set():
                    break  # the answer may have been cut short by the stop
                pending[pool.submit(check, task, gen.completion)] = (task, gen)
                done = {f for f in pending if f.done()}
                hand_over(done)
                while len(pending) > 4 * max(1, jobs):  # keep the queue of checks short
                    done, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                    hand_over(done)
            while pending:
                done, _ = wait(set(pending), return_when=FIRST_COMPLETED)
                hand_over(done)
        except KeyboardInterrupt:
            cancel.set()
            for future in list(pending):
                future.cancel()
            finished = {f for f in pending if not f.cancelled()}
            wait(finished)
            for f in [f for f in pending if f.cancelled()]:
                pending.pop(f)
            hand_over(finished)
            raise
    return not cancel.is_set()


@dataclass
class RunPlan:
    """What a run needs besides the model: suite, tasks, limits, and its settings."""

    suite: Suite
    tasks: list[Task]
    limits: Limits
    jobs: int
    settings: dict[str, Any]


def plan(
    suite_name: str,
    *,
    options: GenerationOptions,
    limit: int | None = None,
    seed: int = 0,
    jobs: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    repo: str | Path | None = None,
    fim_tasks: int = DEFAULT_TASKS,
    context: bool = True,
    side: str = DEFAULT_SIDE,
    extra: dict[str, Any] | None = None,
) -> RunPlan:
    """The tasks and settings of a new run."""
    suite = make_suite(
        suite_name, repo=repo, seed=seed, fim_tasks=fim_tasks, context=context, side=side
    )
    tasks = select(suite.tasks(), limit=limit, seed=seed)
    limits = Limits(timeout=timeout).check()
    settings: dict[str, Any] = {
        "temperature": options.temperature,
        "top_p": options.top_p,
        "max_tokens": options.max_tokens,
        "seed": seed,
        "limit": limit,
        "jobs": jobs,
        "timeout": timeout,
        **({"repo": str(Path(repo).resolve()), "fim_tasks": fim_tasks} if repo else {}),
        **({"context": context} if suite_name == "project" else {}),
        **({"side": side} if suite_name in JOB_SUITES else {}),
        **(extra or {}),
    }
    return RunPlan(suite, tasks, limits, max(1, jobs), settings)


def _suite_of(run: EvalRun) -> Suite:
    """The suite a stored run ran, made with the run's settings."""
    s = run.settings
    return make_suite(
        run.suite,
        repo=s.get("repo"),
        seed=s.get("seed", 0),
        fim_tasks=s.get("fim_tasks", 100),
        context=bool(s.get("context", True)),
        side=str(s.get("side", DEFAULT_SIDE)),
    )


def plan_resume(run: EvalRun, *, jobs: int | None = None) -> RunPlan:
    """The unfinished tasks of ``run``, with the settings it started with."""
    s = run.settings
    suite = _suite_of(run)
    wanted = set(run.remaining())
    tasks = [t for t in suite.tasks() if t.id in wanted]
    if len(tasks) != len(wanted):
        raise EvalError(
            f"Run {run.id}'s tasks are no longer all in the {run.suite} suite "
            f"({len(wanted) - len(tasks)} missing); start a new run instead."
        )
    limits = Limits(timeout=float(s.get("timeout", DEFAULT_TIMEOUT))).check()
    return RunPlan(suite, tasks, limits, max(1, jobs or int(s.get("jobs", 1))), s)


def options_of(run: EvalRun) -> GenerationOptions:
    """The generation options a run was started with."""
    s = run.settings
    return GenerationOptions(
        max_tokens=int(s.get("max_tokens", MAX_TOKENS.get(run.suite, 512))),
        temperature=float(s.get("temperature", 0.0)),
        top_p=float(s.get("top_p", 1.0)),
        seed=s.get("seed"),
    )


def execute(
    db: sqlite3.Connection,
    user_id: int,
    run_id: int,
    run_plan: RunPlan,
    solver: Solver,
    *,
    cancel: threading.Event | None = None,
    on_progress: OnResult | None = None,
) -> EvalRun:
    """Run the plan's tasks into run ``run_id``; returns the run as stored.

    The run ends 'finished' when every task is done, 'stopped' when cancelled or
    interrupted (Ctrl-C is raised again once the run is marked).
    """
    run = store.get_run(db, user_id, run_id)
    if run is None:
        raise EvalError(f"No evaluation run {run_id}.")
    progress = Progress(
        total=len(run.task_ids),
        done=run.done,
        passed=run.passed,
        score_sum=sum(r.score for r in run.results),
        started=time.monotonic(),
        earlier=run.done,
    )
    store.set_status(db, user_id, run_id, "running")

    def keep(result: TaskResult) -> None:
        store.add_result(db, user_id, run_id, result)
        progress.done += 1
        progress.passed += result.passed
        progress.score_sum += result.score
        if on_progress is not None:
            on_progress(progress, result)

    completed = False
    try:
        completed = run_tasks(
            run_plan.suite,
            run_plan.tasks,
            solver,
            limits=run_plan.limits,
            jobs=run_plan.jobs,
            cancel=cancel,
            on_result=keep,
        )
    finally:
        stored = store.get_run(db, user_id, run_id)
        finished = completed and stored is not None and not stored.remaining()
        store.set_status(db, user_id, run_id, "finished" if finished else "stopped")
    final = store.get_run(db, user_id, run_id)
    assert final is not None
    return final


def start(
    db: sqlite3.Connection,
    user_id: int,
    run_plan: RunPlan,
    *,
    identity: dict[str, Any],
    runtime: str,
    backend: str,
    machine_info: dict[str, Any] | None = None,
) -> int:
    """Store a new run for the plan; returns its id."""
    return store.create_run(
        db,
        user_id,
        suite=run_plan.suite.name,
        model=identity.get("model") or "unknown",
        model_file=identity.get("model_file"),
        model_sha256=identity.get("model_sha256"),
        runtime=runtime,
        backend=backend,
        settings=run_plan.settings,
        machine=machine_info if machine_info is not None else machine(),
        task_ids=[t.id for t in run_plan.tasks],
    )


def default_jobs() -> int:
    """Parallel checks: the CPUs this process may use, less one for the model."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) - 1)


def recheck(run: EvalRun, result: TaskResult) -> Verdict:
    """Judge a stored completion again, as the run judged it (a pass must hold up)."""
    s = run.settings
    suite = _suite_of(run)
    task = next((t for t in suite.tasks() if t.id == result.task_id), None)
    if task is None:
        raise EvalError(f"Task {result.task_id} is not in the {run.suite} suite.")
    limits = Limits(timeout=float(s.get("timeout", DEFAULT_TIMEOUT))).check()
    return suite.check(task, result.completion, limits=limits, cancel=None)
