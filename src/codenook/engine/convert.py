"""A Hugging Face or Meta checkpoint folder made into a GGUF file for llama.cpp.

With llama.cpp's own tools, from the very llama.cpp that the installed llama-cpp-python
was built from: ``convert_hf_to_gguf.py`` (with its ``conversion`` package and ``gguf-py``)
taken from that version's sdist at install time (``make convert-tools``), and the quantizer
in ``llama_cpp``. Meta's checkpoint goes through the transformers runtime's one-time
conversion to a Hugging Face folder first.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from codenook.engine import torchcheck
from codenook.errors import ModelError

log = logging.getLogger(__name__)

#: ``--quant`` names: the converter writes these itself; the rest go through the quantizer.
CONVERTER_TYPES = {"f32": "f32", "f16": "f16", "bf16": "bf16", "q8_0": "q8_0"}
QUANT_TYPES = {
    "Q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0",
    "Q4_K_S": "LLAMA_FTYPE_MOSTLY_Q4_K_S",
    "Q4_K_M": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "Q5_K_M": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "Q6_K": "LLAMA_FTYPE_MOSTLY_Q6_K",
}
DEFAULT_QUANT = "Q4_K_M"
#: Where the Makefile puts the converter; CODENOOK_LLAMA_CONVERT points elsewhere.
ENV = "CODENOOK_LLAMA_CONVERT"

Progress = Callable[[str], None]


def quant_names() -> list[str]:
    """What ``--quant`` accepts."""
    return [*QUANT_TYPES, *(k.upper() for k in CONVERTER_TYPES)]


def converter_folder(script: str = "convert_hf_to_gguf.py") -> Path:
    """The folder of llama.cpp's ``script`` for this llama-cpp-python, or a ModelError."""
    folder = Path(os.environ.get(ENV) or Path(sys.prefix) / "share/codenook/llama.cpp-convert")
    version = importlib.metadata.version("llama-cpp-python")
    stamp = folder / "VERSION"
    found = stamp.read_text().strip() if stamp.is_file() else None
    if found != version or not (folder / script).is_file():
        why = f"it is for {found}" if found else "it is missing"
        raise ModelError(
            f"llama.cpp's {script} for llama-cpp-python {version} is not installed in "
            f"{folder} ({why}); run 'make convert-tools' in codenook's folder."
        )
    return folder


def to_gguf(
    folder: Path,
    out: Path,
    *,
    quant: str = DEFAULT_QUANT,
    on_progress: Progress | None = None,
    label: str | None = None,
) -> Path:
    """Write ``out`` (a GGUF file) from a Hugging Face folder, quantized to ``quant``."""
    say = on_progress or (lambda _: None)
    quant_key = quant.upper()
    outtype = CONVERTER_TYPES.get(quant.lower())
    if outtype is None and quant_key not in QUANT_TYPES:
        raise ModelError(f"Unknown quantization {quant!r}; use one of {', '.join(quant_names())}.")
    # llama.cpp's converter imports torch (engine/torchcheck.py: PyTorch is optional).
    torchcheck.require("Converting a Hugging Face folder to GGUF")
    tools = converter_folder()
    out.parent.mkdir(parents=True, exist_ok=True)
    wide = out.with_name(out.stem + ".f16.partial.gguf") if outtype is None else out
    partial = wide.with_name(wide.name + ".partial") if outtype else wide
    say(f"converting {label or folder.name} with llama.cpp's convert_hf_to_gguf.py")
    env = {**os.environ, "PYTHONPATH": str(tools / "gguf-py"), "NO_LOCAL_GGUF": "1"}
    command = [
        sys.executable,
        str(tools / "convert_hf_to_gguf.py"),
        str(folder),
        "--outfile",
        str(partial),
        "--outtype",
        outtype or "f16",
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        last = [line for line in proc.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        log.info("convert_hf_to_gguf.py failed: %s", proc.stderr[-4000:])
        raise ModelError(
            f"llama.cpp's converter could not convert {label or folder}: {last[0].strip()[:300]}"
        )
    if outtype is not None:
        partial.replace(out)
        return out
    say(f"quantizing to {quant_key} with llama.cpp")
    try:
        _quantize(partial, out, quant_key)
    finally:
        partial.unlink(missing_ok=True)
    return out


def _quantize(src: Path, out: Path, quant: str) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_TYPES[quant])
    params.nthread = os.cpu_count() or 1
    tmp = out.with_name(out.name + ".partial")
    code = llama_cpp.llama_model_quantize(
        str(src).encode(), str(tmp).encode(), ctypes.byref(params)
    )
    if code != 0:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"llama.cpp could not quantize {src.name} to {quant} (code {code}).")
    tmp.replace(out)
