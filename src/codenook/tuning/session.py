"""One tuning run from start to finish, shared by ``codenook tune`` and the Tune window.

The steps: the base model (the one in use, else the embedded one), the dataset cut in the
base model's own formats, the base prepared for training, the run, and the adapter
exported for llama.cpp and registered in the library. The faces only show what happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codenook import config
from codenook.errors import CodenookError
from codenook.tuning.measure import DEFAULT_FIM_TASKS, EvalStore, FimFigures

if TYPE_CHECKING:
    # Annotations only: training pulls in PyTorch, loaded when a run starts.
    from codenook.tuning.dataset import Dataset
    from codenook.tuning.train import Progress, RunResult, TrainOptions

#: Told one line of what is happening (preparing the base, the memory plan). Any thread.
Say = Callable[[str], None]


@dataclass(frozen=True)
class TunedAdapter:
    """A registered adapter: its name, its GGUF file, and the base name ``models use`` takes."""

    name: str
    path: Path
    base_name: str
    #: The ``fim`` suite on the held-out files, base alone and with the adapter (or None).
    fim_before: FimFigures | None = None
    fim_after: FimFigures | None = None


def base_model(chosen: str | Path | None = None) -> Path:
    """The GGUF to train on: ``chosen``, else the model in use, else the embedded one."""
    from codenook.engine.embedded import embedded_model_path
    from codenook.engine.gguf_file import check_model_file

    chosen = chosen or config.load_settings().model.path
    return check_model_file(chosen) if chosen else embedded_model_path()


def adapter_folder(name: str) -> Path:
    """Where adapter ``name``'s run, checkpoint and files are kept."""
    return config.paths().data / "adapters" / name


def build(
    repos: Iterable[Path],
    *,
    gguf: Path,
    docs: Path | None = None,
    qa_files: Iterable[Path] = (),
    liked: Iterable[dict[str, Any]] = (),
    heldout_patterns: Sequence[str] = (),
    seed: int = 0,
) -> Dataset:
    """The dataset of the user's material, in ``gguf``'s own FIM and chat formats."""
    from codenook.engine.prompts import PromptModel
    from codenook.tuning.dataset import build_dataset
    from codenook.tuning.formats import formats_for

    with PromptModel.open(gguf) as prompts:
        return build_dataset(
            [Path(r) for r in repos],
            docs=docs,
            qa_files=list(qa_files),
            liked=list(liked),
            formats=formats_for(prompts),
            heldout_patterns=heldout_patterns,
            seed=seed,
        )


def run(
    dataset: Dataset,
    gguf: Path,
    *,
    name: str,
    options: TrainOptions,
    resume: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    say: Say = lambda _line: None,
    export: bool = True,
    fim_tasks: int = DEFAULT_FIM_TASKS,
    evals: EvalStore | None = None,
) -> tuple[RunResult, TunedAdapter | None]:
    """Prepare the base, train adapter ``name`` and (finished, ``export``) register it.

    ``stop`` set from another thread ends the run after the current step with a
    checkpoint that ``resume`` continues. A finished, exported run is then measured with
    ``fim_tasks`` gaps of the ``fim`` suite on its held-out files, before and after
    (0: not at all), kept as eval runs in ``evals``. Runs on the caller's thread: never
    the Tk one.
    """
    from codenook.engine.model_hash import sha256_of
    from codenook.tuning import train

    digest = sha256_of(gguf)
    if not train.base_folder(gguf, sha256=digest).is_dir():
        say(f"Preparing {gguf.name} for training (once; dequantized)...")
    base = train.prepare_base(gguf, sha256=digest)
    say(train.plan_here(base, options).message)
    out = adapter_folder(name)
    result = train.train(
        dataset,
        base,
        out,
        options=options,
        resume=resume,
        stop=stop,
        on_progress=on_progress,
    )
    if not result.finished or not export:
        return result, None
    from codenook.tuning.export import export_gguf

    gguf_adapter = export_gguf(out / "peft", base, out / "adapter.gguf")
    fim = (
        measure_fim(
            dataset,
            gguf,
            gguf_adapter,
            name=name,
            tasks=fim_tasks,
            evals=evals,
            stop=stop,
            say=say,
            seed=options.seed,
        )
        if fim_tasks > 0
        else (None, None)
    )
    tuned = register(
        name, gguf_adapter, gguf=gguf, digest=digest, result=result, dataset=dataset, fim=fim
    )
    return result, tuned


def measure_fim(
    dataset: Dataset,
    gguf: Path,
    adapter: Path,
    *,
    name: str,
    tasks: int = DEFAULT_FIM_TASKS,
    evals: EvalStore | None = None,
    stop: threading.Event | None = None,
    say: Say = lambda _line: None,
    seed: int = 0,
) -> tuple[FimFigures | None, FimFigures | None]:
    """The ``fim`` suite on the held-out files: the base, then the base with ``adapter``.

    (None, None) when nothing is held out or ``stop`` cut it short: the adapter is kept
    without those figures.
    """
    from codenook.tuning import measure

    repo = measure.heldout_repo(dataset, adapter_folder(name) / "heldout")
    if repo is None:
        say("No held-out code files: the fim before/after is left out.")
        return None, None
    figures = []
    for when, with_adapter in (("before", None), ("after", adapter)):

        def told(done: int, total: int, when: str = when) -> None:
            say(f"Measuring fill-in-the-middle {when}: {done}/{total} gaps")

        say(f"Measuring fill-in-the-middle {when} on the held-out files...")
        try:
            got = measure.fim_eval(
                gguf,
                repo,
                adapter=with_adapter,
                label=f"adapter {name}" if with_adapter else None,
                tasks=tasks,
                seed=seed,
                store=evals,
                stop=stop,
                on_task=told,
            )
        except CodenookError as exc:  # no gaps to draw, say: the trained adapter still counts
            say(f"The fim before/after is left out: {exc}")
            return None, None
        if got is None:
            say("Stopped while measuring: the adapter is kept without its fim figures.")
            return None, None
        figures.append(got)
    return figures[0], figures[1]


def register(
    name: str,
    gguf_adapter: Path,
    *,
    gguf: Path,
    digest: str,
    result: RunResult,
    dataset: Dataset,
    fim: tuple[FimFigures | None, FimFigures | None] = (None, None),
) -> TunedAdapter:
    """Record the exported adapter in the library under ``name``, with its figures."""
    from codenook.engine.catalog import load_catalog
    from codenook.library.registry import InstalledAdapter, register_adapter

    # The name 'models use' takes: the catalog's, else the file's.
    choice = load_catalog().by_file(gguf.name)
    base_name = choice.entry.name if choice else gguf.name
    before, after = fim
    register_adapter(
        InstalledAdapter(
            name=name,
            path=str(gguf_adapter),
            peft=str(gguf_adapter.parent / "peft"),
            base_name=base_name,
            base_sha256=digest,
            added=round(time.time(), 3),
            ppl_before=result.ppl_before,
            ppl_after=result.ppl_after,
            summary=" ".join(dataset.summary.lines()[:3]),
            fim_tasks=before.tasks if before else None,
            fim_exact_before=before.exact if before else None,
            fim_exact_after=after.exact if after else None,
            fim_similarity_before=round(before.similarity, 4) if before else None,
            fim_similarity_after=round(after.similarity, 4) if after else None,
            eval_before=before.run_id if before else None,
            eval_after=after.run_id if after else None,
        )
    )
    return TunedAdapter(name, gguf_adapter, base_name, before, after)
