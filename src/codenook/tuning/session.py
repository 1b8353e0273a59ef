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
) -> tuple[RunResult, TunedAdapter | None]:
    """Prepare the base, train adapter ``name`` and (finished, ``export``) register it.

    ``stop`` set from another thread ends the run after the current step with a
    checkpoint that ``resume`` continues. Runs on the caller's thread: never the Tk one.
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
    tuned = export_and_register(
        name, out=out, base=base, gguf=gguf, digest=digest, result=result, dataset=dataset
    )
    return result, tuned


def export_and_register(
    name: str,
    *,
    out: Path,
    base: Path,
    gguf: Path,
    digest: str,
    result: RunResult,
    dataset: Dataset,
) -> TunedAdapter:
    """Write the trained adapter as GGUF and record it in the library under ``name``."""
    from codenook.engine.catalog import load_catalog
    from codenook.library.registry import InstalledAdapter, register_adapter
    from codenook.tuning.export import export_gguf

    gguf_adapter = out / "adapter.gguf"
    # The name 'models use' takes: the catalog's, else the file's.
    choice = load_catalog().by_file(gguf.name)
    base_name = choice.entry.name if choice else gguf.name
    export_gguf(out / "peft", base, gguf_adapter)
    register_adapter(
        InstalledAdapter(
            name=name,
            path=str(gguf_adapter),
            peft=str(out / "peft"),
            base_name=base_name,
            base_sha256=digest,
            added=round(time.time(), 3),
            ppl_before=result.ppl_before,
            ppl_after=result.ppl_after,
            summary=" ".join(dataset.summary.lines()[:3]),
        )
    )
    return TunedAdapter(name, gguf_adapter, base_name)
