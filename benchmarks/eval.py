"""HumanEval, Bash and the job suites (temperature 0) on the Qwen test model and the embedded one.

Each suite runs through codenook's own harness (the same code as `codenook eval`), in a
throw-away CODENOOK_HOME, on Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the test model, checked
by its sha256) and on the embedded SmolLM2-135M-Instruct. The job suites (gen, review,
debug, doc) run twice on the same tasks: codenook's job, and the bare model asked plainly;
the paired difference says whether the job's checks help. Every figure is printed as it
comes; the last line is Qwen's HumanEval pass@1 in percent (where humaneval ran).

Published figure to compare: Qwen reports HumanEval pass@1 61.6 for
Qwen2.5-Coder-0.5B-Instruct at full precision; this file is a Q4_K_M quantization
converted from the AWQ checkpoint, so a few points below that are expected.

    python benchmarks/eval.py [--limit N] [--jobs N] [--threads N] [--models qwen,embedded]
                              [--suites humaneval,bash,gen,review,debug,doc] [--home DIR]

The full table takes hours on a small CPU. ``--home DIR`` keeps the runs in DIR instead
of a throw-away home: a second call with the same settings reuses each finished run and
resumes each unfinished one, so the table can be built over several sittings.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/qwen.py finds and checks the test model

from tests.qwen import qwen_model_path  # noqa: E402

from codenook.assist.eval import review as review_suite  # noqa: E402
from codenook.assist.eval import runner  # noqa: E402
from codenook.assist.eval.stats import compare, wilson  # noqa: E402
from codenook.engine.backend import GenerationOptions  # noqa: E402
from codenook.engine.embedded import embedded_model_path  # noqa: E402
from codenook.engine.llama import LlamaBackend, default_threads  # noqa: E402
from codenook.store import evals as store  # noqa: E402
from codenook.store.evals import EvalRun, TaskResult  # noqa: E402

if TYPE_CHECKING:
    from codenook.auth import Auth

PUBLISHED_QWEN_HUMANEVAL = 61.6
BENCH_USER = "bench"
#: The models measured (--models picks some): name shown, and where its file is.
MODELS = {
    "qwen": ("qwen2.5-coder-0.5b-instruct-q4_k_m", qwen_model_path),
    "embedded": ("smollm2-135m-instruct-q4_1", embedded_model_path),
}


def evaluate(
    db: sqlite3.Connection,
    user_id: int,
    backend: LlamaBackend,
    suite: str,
    *,
    limit: int | None,
    jobs: int,
    side: str = runner.DEFAULT_SIDE,
) -> tuple[EvalRun, float]:
    """One suite on one model (a job suite on one side): the stored run and its seconds.

    A finished run with the same model file and settings is reused as it is; an
    unfinished one is resumed (see ``--home``).
    """
    options = GenerationOptions(max_tokens=runner.MAX_TOKENS[suite], temperature=0.0, seed=0)
    run_plan = runner.plan(suite, options=options, limit=limit, seed=0, jobs=jobs, side=side)
    identity = runner.model_identity(backend)
    earlier = stored_run(db, user_id, suite, identity, run_plan.settings)
    if earlier is not None and not earlier.remaining():
        print(f"  reusing finished run {earlier.id}", flush=True)
        return earlier, sum(r.generate_seconds + r.check_seconds for r in earlier.results)
    if earlier is not None:
        print(f"  resuming run {earlier.id}: {earlier.done}/{len(earlier.task_ids)} done")
        run_id, run_plan = earlier.id, runner.plan_resume(earlier, jobs=jobs)
    else:
        run_id = runner.start(
            db, user_id, run_plan, identity=identity, runtime=backend.info.backend, backend="local"
        )
    started = time.monotonic()

    def progress(p: runner.Progress, result: TaskResult) -> None:
        print(f"  {p.done}/{p.total} {result.task_id}: {result.outcome}", flush=True)

    try:
        run = runner.execute(
            db,
            user_id,
            run_id,
            run_plan,
            runner.model_solver(run_plan.suite, backend, options),
            on_progress=progress,
        )
    finally:
        close = getattr(run_plan.suite, "close", None)
        if close is not None:
            close()
    return run, time.monotonic() - started


def stored_run(
    db: sqlite3.Connection,
    user_id: int,
    suite: str,
    identity: dict[str, object],
    settings: dict[str, object],
) -> EvalRun | None:
    """The newest stored run of ``suite`` on the same model file with the same settings
    (the number of parallel checks aside: it does not change an outcome)."""
    same = {k: v for k, v in settings.items() if k != "jobs"}
    for summary in store.list_runs(db, user_id, limit=1000):
        if summary.suite != suite:
            continue
        run = store.get_run(db, user_id, summary.id)
        if run is None or run.model_sha256 != identity.get("model_sha256"):
            continue
        if {k: v for k, v in run.settings.items() if k != "jobs"} == same:
            return run
    return None


def pass_rate(run: EvalRun) -> float:
    """A run's pass rate in percent."""
    return 100 * run.passed / run.done if run.done else 0.0


def say(label: str, run: EvalRun, seconds: float) -> None:
    """Print a run's pass rate with its interval, and what a job suite measures besides."""
    low, high = wilson(run.passed, run.done)
    print(
        f"{label}: {run.passed}/{run.done} = {pass_rate(run):.1f}% "
        f"(95% interval {100 * low:.1f}-{100 * high:.1f}%) in {seconds:.0f} s",
        flush=True,
    )
    if run.suite in ("review", "debug", "doc"):
        # The edit suites' completion is the changed file: "" where nothing applied.
        applied = sum(1 for r in run.results if r.completion.strip())
        print(f"  answers whose change applies: {applied}/{run.done}", flush=True)
    if run.suite == "review":
        counts = [review_suite.figures(r.task_id, r.completion) for r in run.results]
        before, after = sum(c[1] for c in counts), sum(c[2] for c in counts)
        print(f"  ruff findings before -> after: {before} -> {after}", flush=True)


def paired(suite: str, name: str, runs: dict[str, EvalRun]) -> None:
    """codenook's job against the bare model on the same tasks (McNemar's exact test)."""
    job, bare = runs[f"{suite} {name} codenook"], runs[f"{suite} {name} bare"]
    outcomes = [{r.task_id: (r.passed, r.score) for r in run.results} for run in (job, bare)]
    print(f"  codenook vs bare on {name}: {compare(*outcomes, graded=False).sentence()}")


def bench_user(db: sqlite3.Connection, auth: Auth) -> int:
    """The benchmark's own account in the home (made on first use)."""
    row = db.execute("SELECT id FROM users WHERE name = ?", (BENCH_USER,)).fetchone()
    if row is not None:
        return int(row[0])
    return auth.create_user(BENCH_USER, "benchmark-pass-phrase-1").id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only N tasks of each suite (a quick check)")
    parser.add_argument("--jobs", type=int, default=runner.default_jobs())
    parser.add_argument("--suites", default="humaneval,bash," + ",".join(runner.JOB_SUITES))
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--models", default=",".join(MODELS), help="qwen, embedded or both")
    parser.add_argument("--home", type=Path, help="keep the runs here; reuse and resume them")
    args = parser.parse_args()
    suites = [s for s in args.suites.split(",") if s]
    unknown = [s for s in suites if s not in runner.MAX_TOKENS]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    models = {name: path() for key, (name, path) in MODELS.items() if key in args.models.split(",")}
    if not models:
        parser.error(f"--models takes {', '.join(MODELS)}")
    runs: dict[str, EvalRun] = {}
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["CODENOOK_HOME"] = str(args.home or scratch)
        from codenook.auth import Auth
        from codenook.store.db import open_database

        db = open_database()
        user_id = bench_user(db, Auth(db))
        for name, path in models.items():
            backend = LlamaBackend(path, context_length=4096, threads=args.threads)
            try:
                for suite in suites:
                    sides = runner.SIDES if suite in runner.JOB_SUITES else ("",)
                    for side in sides:
                        label = " ".join(filter(None, (suite, name, side)))
                        print(f"== {label}", flush=True)
                        run, seconds = evaluate(
                            db, user_id, backend, suite, limit=args.limit, jobs=args.jobs,
                            side=side or runner.DEFAULT_SIDE,
                        )  # fmt: skip
                        runs[label] = run
                        say(
                            f"{suite} pass@1 on {name}" + (f" ({side})" if side else ""),
                            run,
                            seconds,
                        )
                    if suite in runner.JOB_SUITES:
                        paired(suite, name, runs)
            finally:
                backend.close()
        db.close()
    table(suites, list(models), runs)
    qwen = runs.get("humaneval qwen2.5-coder-0.5b-instruct-q4_k_m")
    if qwen is not None:
        pct = pass_rate(qwen)
        print(
            f"Qwen's published HumanEval pass@1 (full precision): {PUBLISHED_QWEN_HUMANEVAL}; "
            f"this Q4_K_M file: {pct:.1f} ({pct - PUBLISHED_QWEN_HUMANEVAL:+.1f} points)"
        )
        print(f"eval_humaneval_qwen_pass_at_1: {pct:.1f}")
    else:
        first = suites[0]
        model = next(iter(models))
        key = f"{first} {model}" + (" codenook" if first in runner.JOB_SUITES else "")
        short = "qwen" if model.startswith("qwen") else "embedded"
        print(f"eval_{first}_{short}_pass_at_1: {pass_rate(runs[key]):.1f}")


def table(suites: list[str], models: list[str], runs: dict[str, EvalRun]) -> None:
    """The closing table: a row per suite, a column per model (and side, for job suites)."""
    print("\n| suite | " + " | ".join(f"{m} (codenook) | {m} (bare)" for m in models) + " |")
    print("|---|" + "---|---|" * len(models))
    for suite in suites:
        cells = []
        for m in models:
            if suite in runner.JOB_SUITES:
                cells += [f"{pass_rate(runs[f'{suite} {m} {side}']):.1f}%" for side in runner.SIDES]
            else:
                cells += [f"{pass_rate(runs[f'{suite} {m}']):.1f}%", "-"]
        print(f"| {suite} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
