"""A tiny random Llama in Meta's original layout, built here: params.json,
consolidated.00.pth and a tokenizer.model trained with SentencePiece on a small text."""

from __future__ import annotations

import json
from pathlib import Path

import sentencepiece as spm
import torch

TEXT = (
    "def add(a, b):\n    return a + b\n\n"
    "The quick brown fox jumps over the lazy dog.\n"
    "import os\nimport sys\nfor i in range(10):\n    print(i)\n"
    "class Point:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n"
    '#!/bin/bash\nset -euo pipefail\necho "hello world"\n'
) * 40
SHAPE = {"dim": 64, "n_layers": 2, "n_heads": 4, "n_kv_heads": 2, "ffn": 192, "vocab": 384}


def build_meta_checkpoint(out: Path, *, seed: int = 0) -> Path:
    """Write the three files of Meta's download for a tiny random model into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    corpus = out.parent / f"{out.name}-corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    # Llama's own tokenizer settings: BPE, byte fallback, no normalization, a dummy prefix.
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(out / "tokenizer"),
        vocab_size=SHAPE["vocab"],
        model_type="bpe",
        byte_fallback=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        minloglevel=2,
    )
    corpus.unlink()
    (out / "tokenizer.vocab").unlink()
    dim, heads, kv, ffn, vocab = (
        SHAPE[k] for k in ("dim", "n_heads", "n_kv_heads", "ffn", "vocab")
    )
    head_dim = dim // heads
    g = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return (torch.randn(*shape, generator=g) * 0.3).to(torch.bfloat16)

    def norm() -> torch.Tensor:
        return (1 + 0.1 * torch.randn(dim, generator=g)).to(torch.bfloat16)

    weights = {
        "tok_embeddings.weight": rand(vocab, dim),
        "norm.weight": norm(),
        "output.weight": rand(vocab, dim),
    }
    for i in range(SHAPE["n_layers"]):
        weights |= {
            f"layers.{i}.attention.wq.weight": rand(dim, dim),
            f"layers.{i}.attention.wk.weight": rand(kv * head_dim, dim),
            f"layers.{i}.attention.wv.weight": rand(kv * head_dim, dim),
            f"layers.{i}.attention.wo.weight": rand(dim, dim),
            f"layers.{i}.feed_forward.w1.weight": rand(ffn, dim),
            f"layers.{i}.feed_forward.w2.weight": rand(dim, ffn),
            f"layers.{i}.feed_forward.w3.weight": rand(ffn, dim),
            f"layers.{i}.attention_norm.weight": norm(),
            f"layers.{i}.ffn_norm.weight": norm(),
        }
    torch.save(weights, out / "consolidated.00.pth")
    params = {
        "dim": dim,
        "n_layers": SHAPE["n_layers"],
        "n_heads": heads,
        "n_kv_heads": kv,
        "multiple_of": 32,
        "norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "vocab_size": vocab,
    }
    (out / "params.json").write_text(json.dumps(params), encoding="utf-8")
    return out


def meta_reference_logits(folder: Path, tokens: list[int]) -> torch.Tensor:
    """Logits of the last position computed the way Meta's ``llama/model.py`` does:
    rotary embeddings on interleaved pairs as complex numbers, straight from the .pth."""
    w = {k: v.float() for k, v in torch.load(folder / "consolidated.00.pth").items()}
    p = json.loads((folder / "params.json").read_text())
    dim, heads, kv = p["dim"], p["n_heads"], p["n_kv_heads"]
    hd, n = dim // heads, len(tokens)
    freqs = 1.0 / (p["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    cis = torch.polar(torch.ones(n, hd // 2), torch.outer(torch.arange(n).float(), freqs))

    def rms(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + p["norm_eps"]) * weight

    def rotary(x: torch.Tensor) -> torch.Tensor:
        c = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
        return torch.view_as_real(c * cis[:, None, :]).flatten(2)

    h = w["tok_embeddings.weight"][tokens]
    mask = torch.full((n, n), float("-inf")).triu(1)
    for i in range(p["n_layers"]):
        x = rms(h, w[f"layers.{i}.attention_norm.weight"])
        q = rotary((x @ w[f"layers.{i}.attention.wq.weight"].T).view(n, heads, hd))
        k = rotary((x @ w[f"layers.{i}.attention.wk.weight"].T).view(n, kv, hd))
        v = (x @ w[f"layers.{i}.attention.wv.weight"].T).view(n, kv, hd)
        k = k.repeat_interleave(heads // kv, dim=1)
        v = v.repeat_interleave(heads // kv, dim=1)
        scores = torch.einsum("qhd,khd->hqk", q, k) / hd**0.5 + mask
        att = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v).reshape(n, dim)
        h = h + att @ w[f"layers.{i}.attention.wo.weight"].T
        x = rms(h, w[f"layers.{i}.ffn_norm.weight"])
        gate = torch.nn.functional.silu(x @ w[f"layers.{i}.feed_forward.w1.weight"].T)
        up = x @ w[f"layers.{i}.feed_forward.w3.weight"].T
        h = h + (gate * up) @ w[f"layers.{i}.feed_forward.w2.weight"].T
    return (rms(h, w["norm.weight"]) @ w["output.weight"].T)[-1]
