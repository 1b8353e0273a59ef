"""``codenook eval SUITE | list | show ID | compare A B``: measure a model, compare the runs."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import replace
from typing import Any

from codenook.assist.eval import runner
from codenook.assist.eval.plot import GRADED_SUITES, run_label, save_plot, score_and_interval
from codenook.assist.eval.stats import compare
from codenook.assist.eval.tasks import EvalError
from codenook.assist.session import options_from
from codenook.cli.account import open_auth, require_user
from codenook.cli.jobkit import add_model_and_generation, note, open_job_backend
from codenook.cli.options import backend_choice, settings_from
from codenook.errors import UsageError
from codenook.store import evals as store
from codenook.store.evals import EvalRun, TaskResult

NAME = "eval"
HELP = (
    f"measure a model on a suite ({', '.join(runner.SUITE_NAMES)}); list, show and compare the runs"
)
ACTIONS = ("list", "show", "compare")
#: Runtimes this version can run a model with (the settings' list, where it has one).


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval``."""
    parser.add_argument(
        "what",
        metavar="SUITE|list|show|compare",
        help=f"a suite to run ({', '.join(runner.SUITE_NAMES)}), or what to do with stored runs",
    )
    parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="run ids (show, compare)")
    g = parser.add_argument_group("evaluation")
    g.add_argument("--limit", type=int, metavar="N", help="only N tasks, drawn with --seed")
    g.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help=f"checks run at once in the sandbox (default {runner.default_jobs()})",
    )
    g.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=f"sandbox time limit per task in seconds (default {runner.DEFAULT_TIMEOUT:g})",
    )
    g.add_argument(
        "--repo",
        metavar="DIR",
        help="the repository the fim suite holds code out of (project: the fixture repository)",
    )
    g.add_argument(
        "--no-context",
        action="store_true",
        help="project suite: ask without the repository's passages (as ask --no-context)",
    )
    g.add_argument(
        "--bare",
        action="store_true",
        help=f"job suites ({', '.join(runner.JOB_SUITES)}): the model asked plainly, without "
        "codenook's job (compare the two runs with eval compare)",
    )
    g.add_argument("--resume", type=int, metavar="ID", help="finish the unfinished tasks of run ID")
    g.add_argument(
        "--answers",
        choices=("model", "reference", "empty"),
        default="model",
        help="whose answers: the model's (default), or the suite's known-good or empty ones "
        "(checks that the harness tells right from wrong on this machine)",
    )
    g.add_argument("--json", action="store_true", help="print the run(s) as JSON")
    g.add_argument("--plot", metavar="FILE.png", help="draw the run(s) as a chart (PNG)")
    # --runtime comes with the shared model options (its choices are config.RUNTIMES).
    add_model_and_generation(parser)


def run(args: argparse.Namespace) -> int:
    """Run a suite, or list, show or compare stored runs."""
    if args.what in ACTIONS:
        return _stored(args)
    if args.ids:
        raise UsageError(f"Run ids go with show or compare, not with a suite ({args.what}).")
    if args.resume is None and args.what not in runner.SUITE_NAMES:
        raise UsageError(
            f"Unknown suite or action {args.what!r}; use one of "
            f"{', '.join((*runner.SUITE_NAMES, *ACTIONS))}."
        )
    if args.bare and args.what not in runner.JOB_SUITES:
        raise UsageError(f"--bare goes with a job suite ({', '.join(runner.JOB_SUITES)}).")
    for name, value, least in (("--limit", args.limit, 1), ("--jobs", args.jobs, 1)):
        if value is not None and value < least:
            raise UsageError(f"{name} must be at least {least}.")
    return _evaluate(args)


# ---------------------------------------------------------------- running a suite


def _evaluate(args: argparse.Namespace) -> int:
    choice = backend_choice(args)
    auth = open_auth()
    user = require_user(auth)
    db = auth.db
    resumed: EvalRun | None = None
    if args.resume is not None:
        resumed = store.get_run(db, user.id, args.resume)
        if resumed is None:
            raise EvalError(f"No evaluation run {args.resume} of yours; see codenook eval list.")
        if args.what not in (resumed.suite, "resume"):
            raise UsageError(f"Run {resumed.id} is a {resumed.suite} run, not {args.what}.")
        if not resumed.remaining():
            print(f"Run {resumed.id} is finished already.", file=sys.stderr)
            _print_run(resumed, as_json=args.json, tasks=False)
            return 0
        run_plan = runner.plan_resume(resumed, jobs=args.jobs)
        options = runner.options_of(resumed)
        answers = resumed.settings.get("answers", "model")
    else:
        settings = settings_from(args)
        options = options_from(settings.generation)
        options = replace(
            options,
            temperature=0.0 if args.temperature is None else options.temperature,
            max_tokens=args.max_tokens or runner.MAX_TOKENS[args.what],
            seed=0 if args.seed is None else args.seed,
        )
        answers = args.answers
        fim_tasks = args.limit or runner.DEFAULT_FIM_TASKS
        run_plan = runner.plan(
            args.what,
            options=options,
            limit=args.limit,
            seed=options.seed or 0,
            jobs=args.jobs or runner.default_jobs(),
            timeout=args.timeout or runner.DEFAULT_TIMEOUT,
            repo=args.repo,
            fim_tasks=fim_tasks,
            context=not args.no_context,
            side="bare" if args.bare else runner.DEFAULT_SIDE,
            extra={"answers": answers, "context_length": settings.model.context_length},
        )
    if answers == "model":
        settings = settings_from(args)
        backend = open_job_backend(args, settings, choice)
    else:
        backend = None
    try:
        if backend is not None:
            identity = runner.model_identity(backend)
            solver = runner.model_solver(run_plan.suite, backend, options)
            runtime = backend.info.backend
        else:
            identity = {"model": f"{answers} answers", "model_file": None, "model_sha256": None}
            solver = (
                runner.reference_solver(run_plan.suite)
                if answers == "reference"
                else runner.empty_solver()
            )
            runtime = "none"
        if resumed is not None:
            _same_model(resumed, identity)
            run_id = resumed.id
        else:
            label = args.backend or "local"
            run_id = runner.start(
                db, user.id, run_plan, identity=identity, runtime=runtime, backend=label
            )
        return _execute(args, db, user.id, run_id, run_plan, solver)
    finally:
        if backend is not None:
            backend.close()
        close = getattr(run_plan.suite, "close", None)
        if close is not None:
            close()  # the project suite's private index


def _same_model(run: EvalRun, identity: dict[str, Any]) -> None:
    """A resumed run must go on with the model file it started with."""
    then, now = run.model_sha256, identity.get("model_sha256")
    if then and now and then != now:
        raise EvalError(
            f"Run {run.id} was started with {run.model_file or run.model} (sha256 {then[:12]}…), "
            f"not this model (sha256 {now[:12]}…); give the same --model to resume it."
        )


def _execute(
    args: argparse.Namespace,
    db: Any,
    user_id: int,
    run_id: int,
    run_plan: runner.RunPlan,
    solver: runner.Solver,
) -> int:
    from tqdm import tqdm

    before = store.get_run(db, user_id, run_id)
    assert before is not None
    total = len(before.task_ids)
    graded = run_plan.suite.name in GRADED_SUITES
    bar = tqdm(
        total=total,
        initial=before.done,
        unit="task",
        file=sys.stderr,
        dynamic_ncols=True,
        desc=f"{run_plan.suite.name} #{run_id}",
        disable=not sys.stderr.isatty(),
    )

    def progress(p: runner.Progress, result: TaskResult) -> None:
        bar.update(1)
        shown = f"{100 * p.score:.1f}%" if not graded else f"{p.score:.3f}"
        bar.set_postfix_str(f"score {shown} ({p.passed}/{p.done} passed)", refresh=True)
        if not sys.stderr.isatty():  # a log file gets one line per task instead of a bar
            left = p.seconds_left()
            eta = f", about {left:.0f} s left" if left is not None else ""
            print(
                f"codenook: {p.done}/{p.total} {result.task_id}: {result.outcome} "
                f"(score {shown}{eta})",
                file=sys.stderr,
                flush=True,
            )

    started = time.monotonic()
    stop = threading.Event()
    try:
        final = runner.execute(
            db, user_id, run_id, run_plan, solver, cancel=stop, on_progress=progress
        )
    except KeyboardInterrupt:
        bar.close()
        kept = store.get_run(db, user_id, run_id)
        done = kept.done if kept else 0
        print(
            f"\ncodenook: stopped; run {run_id} keeps {done} of {total} finished tasks. "
            f"Finish it with: codenook eval {run_plan.suite.name} --resume {run_id}",
            file=sys.stderr,
        )
        return 130
    bar.close()
    note(f"{final.done} tasks in {time.monotonic() - started:.1f} s")
    _print_run(final, as_json=args.json, tasks=False)
    if args.plot:
        note(f"chart written to {save_plot([final], args.plot)}")
    return 0


# ---------------------------------------------------------------- stored runs


def _stored(args: argparse.Namespace) -> int:
    auth = open_auth()
    user = require_user(auth)
    db = auth.db
    wanted = {"list": (0, 0), "show": (1, 1), "compare": (2, 2)}[args.what]
    if not wanted[0] <= len(args.ids) <= wanted[1]:
        count = {"list": "no run id", "show": "one run id", "compare": "two run ids"}[args.what]
        raise UsageError(f"eval {args.what} takes {count}.")
    if args.what == "list":
        runs = store.list_runs(db, user.id)
        if args.json:
            print(json.dumps([r.as_dict() for r in runs], indent=2))
            return 0
        if not runs:
            print("No evaluation runs yet: codenook eval humaneval --limit 10")
            return 0
        print(f"{'ID':>4}  {'SUITE':<16} {'DONE':>9}  {'SCORE':>7}  {'STATUS':<8}  MODEL")
        for r in runs:
            score = f"{r.mean_score:.3f}" if r.suite in GRADED_SUITES else _pct(r.passed, r.done)
            where = "" if r.backend == "local" else f" @ {r.backend}"
            print(
                f"{r.id:>4}  {r.suite + _grounding(r):<16} {f'{r.done}/{r.total}':>9}  {score:>7}  "
                f"{r.status:<8}  {r.model}{where} ({r.runtime}, "
                f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.created))})"
            )
        return 0
    runs = [_get(db, user.id, run_id) for run_id in args.ids]
    if args.what == "show":
        _print_run(runs[0], as_json=args.json, tasks=True)
        if args.plot:
            note(f"chart written to {save_plot(runs, args.plot)}")
        return 0
    a, b = runs
    if a.suite != b.suite:
        raise EvalError(f"Run {a.id} is {a.suite} and run {b.id} is {b.suite}: compare like runs.")
    comparison = compare(_outcomes(a), _outcomes(b), graded=a.suite in GRADED_SUITES)
    if args.json:
        print(
            json.dumps(
                {"a": _summary(a), "b": _summary(b), "comparison": comparison.__dict__}, indent=2
            )
        )
    else:
        for tag, r in (("A", a), ("B", b)):
            print(f"{tag}: {_headline(r)}")
        print(
            f"Tasks only A passed: {comparison.only_a}; only B passed: {comparison.only_b}; "
            f"common tasks: {comparison.common}"
        )
        print(comparison.sentence())
    if args.plot:
        note(f"chart written to {save_plot(runs, args.plot, comparison)}")
    return 0


def _get(db: Any, user_id: int, run_id: int) -> EvalRun:
    found = store.get_run(db, user_id, run_id)
    if found is None:
        raise EvalError(f"No evaluation run {run_id} of yours; see codenook eval list.")
    return found


def _outcomes(run: EvalRun) -> dict[str, tuple[bool, float]]:
    return {r.task_id: (r.passed, r.score) for r in run.results}


def _pct(passed: int, done: int) -> str:
    return f"{100 * passed / done:.1f}%" if done else "-"


def _headline(run: EvalRun) -> str:
    score, low, high = score_and_interval(run)
    measure = "mean edit similarity" if run.suite in GRADED_SUITES else "pass@1"
    sha = f", sha256 {run.model_sha256[:12]}…" if run.model_sha256 else ""
    return (
        f"run {run.id} · {run.suite}{_grounding(run)} · {run_label(run)} ({run.runtime}{sha}) · "
        f"{measure} {100 * score:.1f}% (95% interval {100 * low:.1f}-{100 * high:.1f}%) · "
        f"{run.passed}/{run.done} passed of {len(run.task_ids)} · {run.status}"
    )


def _grounding(run: EvalRun | store.RunSummary) -> str:
    """The mark of a project run asked without the repository's passages, or of a job
    suite's side (codenook's job or the bare model)."""
    side = run.settings.get("side")
    if side:
        return f" ({side})"
    return " (no context)" if run.settings.get("context") is False else ""


def _summary(run: EvalRun) -> dict[str, Any]:
    data = run.as_dict()
    data.pop("results")
    score, low, high = score_and_interval(run)
    data.update(done=run.done, passed=run.passed, score=score, low=low, high=high)
    return data


def _print_run(run: EvalRun, *, as_json: bool, tasks: bool) -> None:
    if as_json:
        data = _summary(run)
        if tasks:
            data["results"] = [r.__dict__ for r in run.results]
        print(json.dumps(data, indent=2))
        return
    print(_headline(run))
    gen = sum(r.generate_seconds for r in run.results)
    chk = sum(r.check_seconds for r in run.results)
    tokens = sum(r.tokens for r in run.results)
    print(f"  answers {gen:.1f} s ({tokens} tokens), checks {chk:.1f} s")
    m = run.machine
    gpus = ", ".join(m.get("gpus") or []) or "no GPU"
    print(f"  machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores, {gpus}")
    if not tasks:
        return
    for r in run.results:
        print(
            f"  {r.task_id:<28} {r.outcome:<8} score {r.score:.2f}  "
            f"answer {r.generate_seconds:.1f} s  check {r.check_seconds:.2f} s"
        )
    for task_id in run.remaining():
        print(f"  {task_id:<28} not run yet")
