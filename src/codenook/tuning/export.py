"""A PEFT adapter as a GGUF LoRA adapter for llama.cpp, and measuring it there.

The converter is llama.cpp's own ``convert_lora_to_gguf.py``, taken at install time
(``make convert-tools``) from the sdist of the installed llama-cpp-python, so the adapter
matches the llama.cpp that loads it. Nothing is fetched at run time.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from codenook.engine import convert
from codenook.errors import CodenookError


class ExportError(CodenookError):
    """The adapter cannot be converted for llama.cpp."""


def export_gguf(peft_dir: Path, base: Path, out: Path, *, timeout: float = 900) -> Path:
    """Convert the PEFT adapter in ``peft_dir`` to ``out`` (GGUF, float32).

    ``--base`` is always given: the adapter's config names the base by an absolute path
    that may be gone, and the converter would otherwise try the Hugging Face hub.
    """
    folder = convert.converter_folder("convert_lora_to_gguf.py")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}
    env["HF_HUB_OFFLINE"] = "1"
    cmd = [
        sys.executable,
        str(folder / "convert_lora_to_gguf.py"),
        "--base",
        str(base),
        "--outtype",
        "f32",
        "--outfile",
        str(tmp),
        str(peft_dir),
    ]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=folder, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"Converting the adapter took over {timeout:.0f} s; gave up.") from exc
    if proc.returncode != 0 or not tmp.is_file():
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1][:300]
        raise ExportError(f"llama.cpp's converter failed on {peft_dir}: {last}")
    tmp.replace(out)
    return out


def llama_perplexity(
    model: Path,
    windows: Sequence[list[int]],
    *,
    adapter: Path | None = None,
    threads: int = 2,
) -> float:
    """Perplexity of ``windows`` (token ids) under llama.cpp, with ``adapter`` applied."""
    import llama_cpp
    import numpy as np

    n_ctx = max(len(w) for w in windows) + 8
    chatter = io.StringIO()
    with contextlib.redirect_stderr(chatter):
        llm = llama_cpp.Llama(
            model_path=str(model),
            lora_path=str(adapter) if adapter else None,
            n_ctx=n_ctx,
            n_batch=n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=0,
            logits_all=True,
            verbose=False,
        )
    try:
        total, count = 0.0, 0
        for ids in windows:
            llm.reset()
            llm.eval(ids)
            logits = np.asarray(llm.scores[: len(ids) - 1], dtype=np.float64)
            top = logits.max(axis=1, keepdims=True)
            logz = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
            picked = logits[np.arange(len(ids) - 1), ids[1:]]
            total += float((logz - picked).sum())
            count += len(ids) - 1
    finally:
        llm.close()
    return math.exp(total / max(count, 1))
