"""Read a GGUF file's metadata (architecture, size, quantization, context) without loading it.

A small reader over ``mmap``: it keeps scalar and string values, and only the length of long
arrays (the vocabulary), so a 7 GB model is described in milliseconds. ``gguf.GGUFReader``
builds an object per vocabulary entry, which takes seconds per file: too slow for a scan.
"""

from __future__ import annotations

import math
import mmap
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from codenook.engine.gguf_file import check_model_file
from codenook.errors import ModelError

#: Arrays up to this length keep their values; longer ones keep only their length.
SMALL_ARRAY = 64

_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class ArrayInfo:
    """A metadata array: its length, and its values when it is short."""

    length: int
    values: tuple[Any, ...] | None = None


@cache
def _file_type_names() -> dict[int, str]:
    # gguf's enum is the authority on llama.cpp's file type numbers (general.file_type).
    from gguf.constants import LlamaFileType

    names = {}
    for member in LlamaFileType:
        label = member.name.removeprefix("MOSTLY_").removeprefix("ALL_")
        names[int(member.value)] = label
    return names


@dataclass(frozen=True)
class GGUFMetadata:
    """What a GGUF file says about itself."""

    path: Path
    version: int
    file_size: int
    tensor_count: int
    fields: Mapping[str, Any]
    #: Total elements of all tensors (the parameter count); 0 for a vocabulary-only file.
    params: int
    #: Bytes of tensor data (the weights llama.cpp loads).
    tensor_bytes: int

    def get(self, key: str, default: Any = None) -> Any:
        """The value of a metadata key."""
        return self.fields.get(key, default)

    def _arch(self, key: str) -> Any:
        return self.fields.get(f"{self.architecture}.{key}")

    @property
    def architecture(self) -> str:
        """``general.architecture`` (llama, qwen2, starcoder2, ...)."""
        return str(self.fields.get("general.architecture") or "unknown")

    @property
    def name(self) -> str:
        """The model's name as the file gives it, else the file name."""
        return str(self.fields.get("general.name") or self.path.stem)

    @property
    def family(self) -> str:
        """``general.basename`` where present (smollm2, qwen2.5-coder), else the architecture."""
        return str(self.fields.get("general.basename") or self.architecture)

    @property
    def size_label(self) -> str | None:
        """``general.size_label`` (7B, 135M), else one worked out from the tensors."""
        label = self.fields.get("general.size_label")
        if label:
            return str(label)
        if not self.params:
            return None
        if self.params >= 1e9:
            return f"{self.params / 1e9:.1f}B"
        if self.params >= 1e6:
            return f"{round(self.params / 1e6)}M"
        return f"{round(self.params / 1e3)}K"

    @property
    def file_type(self) -> int | None:
        """``general.file_type``: llama.cpp's number for the quantization."""
        value = self.fields.get("general.file_type")
        return int(value) if isinstance(value, int) else None

    @property
    def quantization(self) -> str | None:
        """The quantization's name (Q4_K_M, Q8_0, F16, ...), from ``general.file_type``."""
        if self.file_type is None:
            return None
        return _file_type_names().get(self.file_type, f"type {self.file_type}")

    @property
    def context_length(self) -> int | None:
        """The context the model was trained for."""
        value = self._arch("context_length")
        return int(value) if value else None

    @property
    def block_count(self) -> int | None:
        """Transformer layers."""
        value = self._arch("block_count")
        return int(value) if value else None

    @property
    def head_count(self) -> int | None:
        """Attention heads."""
        value = self._arch("attention.head_count")
        return int(value) if isinstance(value, int) and value else None

    @property
    def head_count_kv(self) -> int | None:
        """Key/value heads (fewer than heads with grouped-query attention)."""
        value = self._arch("attention.head_count_kv")
        if isinstance(value, int) and value:
            return value
        return self.head_count

    @property
    def head_dim(self) -> int | None:
        """Size of one attention head."""
        key = self._arch("attention.key_length")
        if isinstance(key, int) and key:
            return key
        embedding = self._arch("embedding_length")
        if embedding and self.head_count:
            return int(embedding) // self.head_count
        return None

    @property
    def vocab_size(self) -> int | None:
        """Tokens in the vocabulary."""
        value = self._arch("vocab_size")
        if value:
            return int(value)
        tokens = self.fields.get("tokenizer.ggml.tokens")
        return tokens.length if isinstance(tokens, ArrayInfo) else None

    @property
    def chat_template(self) -> str | None:
        """``tokenizer.chat_template``, where the file carries one."""
        value = self.fields.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None


class _Cursor:
    """Reads little-endian GGUF values from a buffer, checking bounds."""

    def __init__(self, buf: mmap.mmap | bytes, path: Path) -> None:
        self.buf = buf
        self.pos = 0
        self.path = path

    def unpack(self, fmt: str) -> Any:
        """One value of struct format ``fmt``."""
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ModelError(f"{self.path} ends inside its GGUF header: it is truncated.")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        """A length-prefixed UTF-8 string."""
        length = self.unpack("<Q")
        end = self.pos + length
        if end > len(self.buf):
            raise ModelError(f"{self.path} ends inside its GGUF header: it is truncated.")
        text = bytes(self.buf[self.pos : end]).decode("utf-8", "replace")
        self.pos = end
        return text

    def skip_string(self) -> None:
        """Step over a string without decoding it."""
        length = self.unpack("<Q")
        self.pos += length

    def value(self, kind: int) -> Any:
        """A value of GGUF type ``kind``; long arrays become their length only."""
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item, count = self.unpack("<I"), self.unpack("<Q")
            if count <= SMALL_ARRAY:
                return ArrayInfo(count, tuple(self.value(item) for _ in range(count)))
            if item in _SCALARS:
                self.pos += count * struct.calcsize(_SCALARS[item])
            elif item == _STRING:
                for _ in range(count):
                    self.skip_string()
            else:
                for _ in range(count):
                    self.value(item)
            if self.pos > len(self.buf):
                raise ModelError(f"{self.path} ends inside its GGUF header: it is truncated.")
            return ArrayInfo(count)
        raise ModelError(f"{self.path} has an unknown GGUF value type {kind}; it may be damaged.")


def read_metadata(path: str | Path) -> GGUFMetadata:
    """Read the metadata and tensor table of a GGUF file; ModelError if it is not one."""
    p = check_model_file(path)
    size = p.stat().st_size
    try:
        with p.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return _parse(buf, p, size)
    except OSError as exc:
        raise ModelError(f"Cannot read model file {p}: {exc.strerror or exc}.") from exc


def _parse(buf: mmap.mmap, path: Path, size: int) -> GGUFMetadata:
    cur = _Cursor(buf, path)
    cur.pos = 4  # magic, checked by check_model_file
    version = cur.unpack("<I")
    tensor_count, kv_count = cur.unpack("<Q"), cur.unpack("<Q")
    if kv_count > 1_000_000 or tensor_count > 10_000_000:
        raise ModelError(f"{path} has an implausible GGUF header; it may be damaged.")
    fields: dict[str, Any] = {}
    for _ in range(kv_count):
        key = cur.string()
        fields[key] = cur.value(cur.unpack("<I"))
    params = 0
    for _ in range(tensor_count):
        cur.skip_string()
        dims = [cur.unpack("<Q") for _ in range(cur.unpack("<I"))]
        cur.unpack("<I")  # tensor type
        cur.unpack("<Q")  # offset into the data section
        params += math.prod(dims)
    alignment = fields.get("general.alignment", 32)
    alignment = alignment if isinstance(alignment, int) and alignment > 0 else 32
    data_start = -(-cur.pos // alignment) * alignment
    tensor_bytes = max(0, size - data_start) if tensor_count else 0
    return GGUFMetadata(
        path=path,
        version=version,
        file_size=size,
        tensor_count=tensor_count,
        fields=fields,
        params=params,
        tensor_bytes=tensor_bytes,
    )
