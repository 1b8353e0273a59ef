"""HumanEval and Bash pass@1 (temperature 0) of the Qwen test model and the embedded model.

Each suite runs through codenook's own harness (the same code as `codenook eval`), in a
throw-away CODENOOK_HOME, on Qwen2.5-Coder-0.5B-Instruct Q4_K_M (the test model, checked
by its sha256) and on the embedded SmolLM2-135M-Instruct. Every figure is printed as it
comes; the last line is Qwen's HumanEval pass@1 in percent.

Published figure to compare: Qwen reports HumanEval pass@1 61.6 for
Qwen2.5-Coder-0.5B-Instruct at full precision; this file is a Q4_K_M quantization
converted from the AWQ checkpoint, so a few points below that are expected.

    python benchmarks/eval.py [--limit N] [--jobs N] [--threads N] [--suites humaneval,bash]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/qwen.py finds and checks the test model

from tests.qwen import qwen_model_path  # noqa: E402

from codenook.assist.eval import runner  # noqa: E402
from codenook.assist.eval.stats import wilson  # noqa: E402
from codenook.engine.backend import GenerationOptions  # noqa: E402
from codenook.engine.embedded import embedded_model_path  # noqa: E402
from codenook.engine.llama import LlamaBackend, default_threads  # noqa: E402
from codenook.store.evals import TaskResult  # noqa: E402

PUBLISHED_QWEN_HUMANEVAL = 61.6


def evaluate(
    db: sqlite3.Connection,
    user_id: int,
    backend: LlamaBackend,
    suite: str,
    *,
    limit: int | None,
    jobs: int,
) -> tuple[int, int, float]:
    """One suite on one model: (passed, done, seconds)."""
    options = GenerationOptions(max_tokens=runner.MAX_TOKENS[suite], temperature=0.0, seed=0)
    run_plan = runner.plan(suite, options=options, limit=limit, seed=0, jobs=jobs)
    identity = runner.model_identity(backend)
    run_id = runner.start(
        db, user_id, run_plan, identity=identity, runtime=backend.info.backend, backend="local"
    )
    started = time.monotonic()

    def progress(p: runner.Progress, result: TaskResult) -> None:
        print(f"  {p.done}/{p.total} {result.task_id}: {result.outcome}", flush=True)

    run = runner.execute(
        db,
        user_id,
        run_id,
        run_plan,
        runner.model_solver(run_plan.suite, backend, options),
        on_progress=progress,
    )
    return run.passed, run.done, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only N tasks of each suite (a quick check)")
    parser.add_argument("--jobs", type=int, default=runner.default_jobs())
    parser.add_argument("--suites", default="humaneval,bash")
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args()
    suites = [s for s in args.suites.split(",") if s]
    models = {
        "qwen2.5-coder-0.5b-instruct-q4_k_m": qwen_model_path(),
        "smollm2-135m-instruct-q4_1": embedded_model_path(),
    }
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        from codenook.auth import Auth
        from codenook.store.db import open_database

        db = open_database()
        user = Auth(db).create_user("bench", "benchmark-pass-phrase-1")
        for name, path in models.items():
            backend = LlamaBackend(path, context_length=4096, threads=args.threads)
            try:
                for suite in suites:
                    print(f"== {suite} on {name}", flush=True)
                    passed, done, seconds = evaluate(
                        db, user.id, backend, suite, limit=args.limit, jobs=args.jobs
                    )
                    low, high = wilson(passed, done)
                    pct = 100 * passed / done if done else 0.0
                    figures[f"{suite} {name}"] = pct
                    print(
                        f"{suite} pass@1 on {name}: {passed}/{done} = {pct:.1f}% "
                        f"(95% interval {100 * low:.1f}-{100 * high:.1f}%) in {seconds:.0f} s",
                        flush=True,
                    )
            finally:
                backend.close()
        db.close()
    print("\n| suite | " + " | ".join(models) + " |")
    print("|---|" + "---|" * len(models))
    for suite in suites:
        row = " | ".join(f"{figures[f'{suite} {m}']:.1f}%" for m in models)
        print(f"| {suite} | {row} |")
    qwen = figures.get("humaneval qwen2.5-coder-0.5b-instruct-q4_k_m")
    if qwen is not None:
        print(
            f"Qwen's published HumanEval pass@1 (full precision): {PUBLISHED_QWEN_HUMANEVAL}; "
            f"this Q4_K_M file: {qwen:.1f} ({qwen - PUBLISHED_QWEN_HUMANEVAL:+.1f} points)"
        )
        print(f"eval_humaneval_qwen_pass_at_1: {qwen:.1f}")
    else:
        last = next(reversed(figures))
        print(f"eval_{last.split()[0]}_qwen_pass_at_1: {figures[last]:.1f}")


if __name__ == "__main__":
    main()
