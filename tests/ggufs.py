"""Small synthetic GGUF files for tests that need a model file but not a runnable model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType


def write_gguf(
    path: Path,
    *,
    name: str = "Tiny Test Model",
    layers: int = 4,
    heads: int = 4,
    kv_heads: int = 2,
    embedding: int = 64,
    context: int = 2048,
    file_type: LlamaFileType = LlamaFileType.MOSTLY_Q4_K_M,
    tensors: bool = True,
) -> Path:
    """Write a llama-architecture GGUF with the given figures and a few f32 tensors."""
    writer = GGUFWriter(str(path), "llama")
    writer.add_name(name)
    writer.add_block_count(layers)
    writer.add_context_length(context)
    writer.add_embedding_length(embedding)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_vocab_size(1000)
    writer.add_file_type(file_type)
    if tensors:
        for i in range(layers):
            writer.add_tensor(f"blk.{i}.attn_q.weight", np.ones((embedding, embedding), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
