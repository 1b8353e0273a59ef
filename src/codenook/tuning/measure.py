"""Before and after, measured: the ``fim`` eval suite on a tuning run's held-out files.

The held-out files are written out as a small folder of their own (redacted, as the
dataset keeps them), and the ``fim`` suite runs on it exactly as ``codenook eval fim
--repo`` would: once on the base model and once on the base with the exported GGUF
adapter, both through llama.cpp, what the user will run. Each is stored as an eval run
(when a user is given) so ``codenook eval compare BEFORE AFTER`` pairs them task by task.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from codenook import config
from codenook.tuning.dataset import Dataset

#: Gaps a tuning run measures by default: enough to see a change, few enough that the
#: measuring (twice) stays a small part of the run.
DEFAULT_FIM_TASKS = 20
#: The most a run may ask for (each is one model answer, twice).
MAX_FIM_TASKS = 500


@dataclass(frozen=True)
class FimFigures:
    """One model's score on the held-out gaps: exact matches and mean edit similarity."""

    tasks: int
    exact: int
    similarity: float
    #: The stored eval run (``codenook eval show ID``), or None when none was stored.
    run_id: int | None = None

    @property
    def exact_rate(self) -> float:
        """The share of gaps filled exactly."""
        return self.exact / self.tasks if self.tasks else 0.0


@dataclass(frozen=True)
class EvalStore:
    """Where eval runs are kept: the user's database on the caller's thread, and the user."""

    db: sqlite3.Connection
    user_id: int


def heldout_repo(dataset: Dataset, folder: Path) -> Path | None:
    """Write the held-out code files into ``folder`` (one sub-folder per repository).

    Returns the folder, or None when nothing code-like is held out. The dataset's
    held-out samples are whole files cut at line ends, so joining them gives the file back.
    """
    import shutil

    texts: dict[str, str] = {}
    for s in dataset.heldout:
        texts[s.source] = texts.get(s.source, "") + s.text
    shutil.rmtree(folder, ignore_errors=True)
    written = 0
    for source, text in texts.items():
        rel = PurePosixPath(source)
        # Names come from the user's own trees; a name that could leave the folder is skipped.
        if rel.is_absolute() or ".." in rel.parts or rel.suffix not in (".py", ".sh", ".bash"):
            continue
        path = folder.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written += 1
    return folder if written else None


def fim_eval(
    gguf: Path,
    repo: Path,
    *,
    adapter: Path | None = None,
    label: str | None = None,
    tasks: int = DEFAULT_FIM_TASKS,
    seed: int = 0,
    store: EvalStore | None = None,
    stop: threading.Event | None = None,
    on_task: Callable[[int, int], None] | None = None,
) -> FimFigures | None:
    """The ``fim`` suite on ``repo`` with ``gguf`` (and ``adapter``) through llama.cpp.

    ``label`` names the model in the stored run (the adapter's name, say). Returns None
    when ``stop`` ended it before every gap was answered.
    """
    from codenook.assist.eval import runner
    from codenook.engine.backend import GenerationOptions
    from codenook.engine.loader import open_backend

    options = GenerationOptions(max_tokens=runner.MAX_TOKENS["fim"], temperature=0.0, seed=seed)
    plan = runner.plan(
        "fim",
        options=options,
        seed=seed,
        jobs=1,
        repo=repo,
        fim_tasks=tasks,
        extra={"answers": "model", "adapter": str(adapter) if adapter else None},
    )
    model = replace(
        config.load_settings().model,
        path=str(gguf),
        adapter=str(adapter) if adapter else None,
        runtime="llama.cpp",
    )
    with open_backend(model) as backend:
        solver = runner.model_solver(plan.suite, backend, options)
        if store is None:
            results: list = []
            runner.run_tasks(
                plan.suite,
                plan.tasks,
                solver,
                limits=plan.limits,
                cancel=stop,
                on_result=lambda r: (results.append(r), _tell(on_task, len(results), plan)),
            )
            run_id = None
        else:
            identity = runner.model_identity(backend)
            if label:
                identity["model"] = f"{identity['model']} + {label}"
            run_id = runner.start(
                store.db,
                store.user_id,
                plan,
                identity=identity,
                runtime=backend.info.runtime,
                backend="local",
            )
            final = runner.execute(
                store.db,
                store.user_id,
                run_id,
                plan,
                solver,
                cancel=stop,
                on_progress=lambda p, _r: _tell(on_task, p.done, plan),
            )
            results = final.results
    if len(results) < len(plan.tasks):
        return None
    return _figures(results, run_id)


def _tell(on_task: Callable[[int, int], None] | None, done: int, plan: object) -> None:
    if on_task is not None:
        on_task(done, len(plan.tasks))  # type: ignore[attr-defined]


def _figures(results: Sequence, run_id: int | None) -> FimFigures:
    n = len(results)
    return FimFigures(
        tasks=n,
        exact=sum(1 for r in results if r.passed),
        similarity=sum(r.score for r in results) / n if n else 0.0,
        run_id=run_id,
    )


def before_after_lines(
    *,
    ppl_before: float | None,
    ppl_after: float | None,
    fim_before: FimFigures | None,
    fim_after: FimFigures | None,
) -> list[str]:
    """The run's figures side by side, as the CLI prints them and the window shows them."""
    rows = [("", "before", "after")]
    if ppl_before and ppl_after:
        rows.append(("held-out perplexity", f"{ppl_before:.3f}", f"{ppl_after:.3f}"))
    if fim_before and fim_after:
        rows.append(
            (
                f"fim exact match ({fim_before.tasks} gaps)",
                f"{fim_before.exact}/{fim_before.tasks}",
                f"{fim_after.exact}/{fim_after.tasks}",
            )
        )
        rows.append(
            (
                "fim edit similarity",
                f"{fim_before.similarity:.3f}",
                f"{fim_after.similarity:.3f}",
            )
        )
    if len(rows) == 1:
        return []
    width = max(len(r[0]) for r in rows)
    lines = [f"{a:<{width}}  {b:>8}  {c:>8}".rstrip() for a, b, c in rows]
    if fim_before and fim_after and fim_before.run_id and fim_after.run_id:
        lines.append(
            f"eval runs {fim_before.run_id} and {fim_after.run_id}: "
            f"'codenook eval compare {fim_before.run_id} {fim_after.run_id}'"
        )
    return lines
