"""Checks on a model file before llama.cpp sees it, so a bad file gets a clear message."""

from __future__ import annotations

import struct
from pathlib import Path

from codenook.errors import ModelError

GGUF_MAGIC = b"GGUF"


def check_model_file(path: str | Path) -> Path:
    """Return the resolved path of a readable GGUF file, or raise ModelError saying why not."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelError(
            f"Model file not found: {p}. Check the path, or leave out --model to use the "
            "embedded model."
        )
    if p.is_dir():
        raise ModelError(f"{p} is a folder, not a model file: give the path of a .gguf file.")
    try:
        with p.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ModelError(f"Cannot read model file {p}: {exc.strerror}.") from exc
    if head[:4] != GGUF_MAGIC:
        raise ModelError(
            f"{p} is not a GGUF model file (it lacks the GGUF header). codenook runs GGUF "
            "models: download a .gguf build of the model or convert it with llama.cpp."
        )
    if len(head) < 8 or struct.unpack("<I", head[4:8])[0] not in (2, 3):
        raise ModelError(f"{p} has an unknown GGUF version; it may be damaged or too new.")
    return p.resolve()


def diagnose_load_failure(path: Path) -> str:
    """Explain why llama.cpp refused a file that has a GGUF header (runs only on failure)."""
    # Imported here: the reader parses every field, which is only worth it once loading failed.
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except Exception:
        return (
            f"{path} is damaged or truncated: its GGUF header cannot be read. "
            "Download the file again."
        )
    size = path.stat().st_size
    end = max((t.data_offset + int(t.n_bytes) for t in reader.tensors), default=0)
    if end > size:
        return (
            f"{path} is truncated: it holds {size:,} bytes but its tensors need {end:,}. "
            "Download the file again."
        )
    arch = reader.get_field("general.architecture")
    name = bytes(arch.parts[-1]).decode("utf-8", "replace") if arch else "unknown"
    return (
        f"llama.cpp could not load {path} (architecture '{name}'). It may be an architecture "
        "this llama.cpp build does not know, or need more memory than is free: try a smaller "
        "model or fewer GPU layers, or upgrade llama-cpp-python."
    )
