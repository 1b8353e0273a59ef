"""``codenook tune``: learn the user's code: build a dataset, train a LoRA adapter, list them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from codenook import config
from codenook.errors import UsageError
from codenook.tuning.measure import DEFAULT_FIM_TASKS, MAX_FIM_TASKS

if TYPE_CHECKING:
    # Annotations only: the tuning modules pull in PyTorch, which 'tune' loads when it runs.
    from codenook.tuning.measure import EvalStore
    from codenook.tuning.train import Progress, TrainOptions

NAME = "tune"
HELP = "learn your code: 'tune data' builds a dataset, 'tune run' trains a LoRA adapter"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``tune``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("data", help="build a training dataset from repositories and datasets")
    p.add_argument("repos", nargs="*", metavar="REPO", help="repository folders")
    p.add_argument("--docs", metavar="DIR", help="documentation folder (Markdown, rst, text)")
    p.add_argument(
        "--qa", action="append", default=[], metavar="FILE.jsonl", help="Q&A dataset (repeatable)"
    )
    p.add_argument("--liked", action="store_true", help="add your thumbs-up answers")
    p.add_argument(
        "--heldout",
        action="append",
        default=[],
        metavar="PATTERN",
        help="hold out files matching PATTERN (gitignore style; default: 10%% of the files)",
    )
    p.add_argument("--model", metavar="PATH", help="base model (default: the one in use)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", metavar="DIR", help="dataset folder (default: the data folder's)")
    p.add_argument("--dry-run", action="store_true", help="show the summary, write nothing")

    p = sub.add_parser("run", help="train a LoRA adapter on a dataset from 'tune data'")
    p.add_argument("--data", metavar="DIR", help="dataset folder (default: the last built)")
    p.add_argument("--model", metavar="PATH", help="base model (default: the one in use)")
    p.add_argument("--name", default="my-code", help="adapter name (default: my-code)")
    p.add_argument("--steps", type=int, default=200, help="optimizer steps (default 200)")
    p.add_argument("--seq-len", type=int, default=256, help="tokens a sample (default 256)")
    p.add_argument("--batch", type=int, default=1, help="samples a step (default 1)")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default 1e-3)")
    p.add_argument("--rank", type=int, default=8, help="LoRA rank (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="CPU threads (default: physical cores)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--resume", action="store_true", help="continue the stopped run")
    p.add_argument("--no-export", action="store_true", help="skip the GGUF adapter for llama.cpp")
    p.add_argument(
        "--fim-tasks",
        type=int,
        default=DEFAULT_FIM_TASKS,
        metavar="N",
        help=f"fill-in-the-middle gaps measured on the held-out files before and after "
        f"(default {DEFAULT_FIM_TASKS}; 0: none)",
    )

    sub.add_parser("list", help="the adapters trained here")


def _dataset_folder(args: argparse.Namespace) -> Path:
    given = getattr(args, "out", None) or getattr(args, "data", None)
    return Path(given).expanduser() if given else config.paths().data / "tuning" / "dataset"


def _data(args: argparse.Namespace) -> int:
    from codenook.tuning import session

    if not (args.repos or args.docs or args.qa or args.liked):
        raise UsageError("Give at least one REPO folder, --docs DIR, --qa FILE or --liked.")
    liked: list[dict] = []
    if args.liked:
        from codenook.assist.export import liked_records
        from codenook.cli.account import open_auth, require_user

        auth = open_auth()
        liked, _ = liked_records(auth.db, require_user(auth))
    dataset = session.build(
        [Path(r) for r in args.repos],
        gguf=session.base_model(args.model),
        docs=Path(args.docs) if args.docs else None,
        qa_files=[Path(q) for q in args.qa],
        liked=liked,
        heldout_patterns=args.heldout,
        seed=args.seed,
    )
    for line in dataset.summary.lines():
        print(line)
    if args.dry_run:
        print("Dry run: nothing written.")
        return 0
    folder = _dataset_folder(args)
    dataset.save(folder)
    print(f"Dataset written to {folder}; train with 'codenook tune run --data {folder}'.")
    return 0


def _train_options(args: argparse.Namespace) -> TrainOptions:
    """The training options of ``tune run``'s flags, checked."""
    from codenook.tuning.train import TrainOptions

    if args.steps < 1 or args.seq_len < 16 or args.batch < 1 or args.rank < 1:
        raise UsageError("--steps, --batch and --rank must be at least 1, --seq-len 16.")
    if not 0 <= args.fim_tasks <= MAX_FIM_TASKS:
        raise UsageError(f"--fim-tasks must be from 0 (none) to {MAX_FIM_TASKS}.")
    return TrainOptions(
        steps=args.steps,
        seq_len=args.seq_len,
        batch=args.batch,
        lr=args.lr,
        rank=args.rank,
        seed=args.seed,
        threads=args.threads,
        device=args.device,
    )


def _show_progress(p: Progress) -> None:
    """One line per training step: loss, speed and time left."""
    import time

    left = time.strftime("%M:%S", time.gmtime(p.seconds_left))
    print(
        f"step {p.step}/{p.steps}  loss {p.loss:.3f}  {p.tokens_per_second:.0f} tokens/s"
        f"  {left} left",
        flush=True,
    )


def _run(args: argparse.Namespace) -> int:
    import signal
    import threading

    from codenook.tuning import session
    from codenook.tuning.dataset import Dataset

    options = _train_options(args)
    dataset = Dataset.load(_dataset_folder(args))
    evals = _eval_store() if args.fim_tasks and not args.no_export else None
    stop = threading.Event()
    # Ctrl-C finishes the step and saves a checkpoint instead of losing the run.
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        result, tuned = session.run(
            dataset,
            session.base_model(args.model),
            name=args.name,
            options=options,
            resume=args.resume,
            stop=stop,
            on_progress=_show_progress,
            say=lambda line: print(line, flush=True),
            export=not args.no_export,
            fim_tasks=args.fim_tasks,
            evals=evals,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
        if evals is not None:
            evals.db.close()
    if not result.finished:
        print(
            f"Stopped at step {result.step}; checkpoint saved. Continue with "
            f"'codenook tune run --name {args.name} --resume' (same options).",
            flush=True,
        )
        return 130
    from codenook.tuning.measure import before_after_lines

    lines = before_after_lines(
        ppl_before=result.ppl_before,
        ppl_after=result.ppl_after,
        fim_before=tuned.fim_before if tuned else None,
        fim_after=tuned.fim_after if tuned else None,
    )
    if lines:
        print("Before and after, on the held-out files:")
        print("\n".join(lines), flush=True)
    if tuned is not None:
        print(
            f"Adapter {tuned.name!r} saved ({tuned.path}); use it with "
            f"'codenook models use {tuned.base_name} --adapter {tuned.name}' "
            f"or --adapter {tuned.name}.",
            flush=True,
        )
    return 0


def _eval_store() -> EvalStore | None:
    """The logged-in user's eval runs, where the fim before/after is kept (None: not
    logged in; the figures are then measured but not stored)."""
    from codenook.auth import NotLoggedInError, current_user
    from codenook.cli.account import open_auth
    from codenook.tuning.measure import EvalStore

    auth = open_auth()
    try:
        return EvalStore(auth.db, current_user(auth).id)
    except NotLoggedInError:
        auth.db.close()
        print("Not logged in: the fim before/after is measured but not kept as eval runs.")
        return None


def _list(_args: argparse.Namespace) -> int:
    from codenook.library.registry import load_adapters

    adapters = load_adapters()
    if not adapters:
        print("No adapters yet: 'codenook tune data REPO' then 'codenook tune run'.")
    for a in adapters:
        figures = f"  {a.figures()}" if a.figures() else ""
        print(f"{a.name}  base {a.base_name} ({a.base_sha256[:12]}){figures}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen action."""
    actions = {"data": _data, "run": _run, "list": _list}
    try:
        return actions[args.action](args)
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
