"""Meta's original Llama / CodeLlama checkpoint (what Meta's ``download.sh`` writes) as a
Hugging Face folder, converted once into codenook's cache.

The folder holds ``params.json`` (the shape), ``consolidated.NN.pth`` (the weights, one
file per model-parallel shard) and ``tokenizer.model`` (SentencePiece). Meta's own code
needs fairscale and fire to run it; transformers needs its own names and a different
layout of the rotary query/key rows, so the weights are renamed, the shards joined, and
``wq``/``wk`` rows permuted: Meta rotates interleaved pairs (x0, x1), (x2, x3)…, while
transformers' Llama rotates the first half of each head against the second half.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codenook import config
from codenook.engine import torchcheck
from codenook.errors import ModelError

log = logging.getLogger(__name__)

#: Bumped when the conversion changes, so an older cached folder is not reused.
FORMAT_VERSION = 2
#: Weights split across shards by rows (dim 0) or by columns (dim 1); the rest are copies.
_ROW_SPLIT = ("attention.wq", "attention.wk", "attention.wv", "feed_forward.w1", "feed_forward.w3")
_COL_SPLIT = ("attention.wo", "feed_forward.w2")
_NAMES = {
    "attention.wq": "self_attn.q_proj",
    "attention.wk": "self_attn.k_proj",
    "attention.wv": "self_attn.v_proj",
    "attention.wo": "self_attn.o_proj",
    "feed_forward.w1": "mlp.gate_proj",
    "feed_forward.w2": "mlp.down_proj",
    "feed_forward.w3": "mlp.up_proj",
    "attention_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}


def shards(folder: Path) -> list[Path]:
    """The checkpoint's weight files in shard order."""
    return sorted(folder.glob("consolidated.*.pth"))


def read_params(folder: Path) -> dict[str, Any]:
    """``params.json``, or a ModelError saying what is wrong with it."""
    try:
        params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder / 'params.json'} cannot be read as JSON: {exc}.") from exc
    params = params.get("model", params) if isinstance(params, dict) else params
    need = ("dim", "n_layers", "n_heads")
    if not isinstance(params, dict) or not all(isinstance(params.get(k), int) for k in need):
        raise ModelError(
            f"{folder / 'params.json'} lacks dim, n_layers or n_heads: not a Llama checkpoint."
        )
    return params


def cache_folder(folder: Path) -> Path:
    """Where the converted folder for ``folder`` lives: keyed by its files' names, sizes and
    times, so a changed checkpoint is converted again."""
    h = hashlib.sha256(f"v{FORMAT_VERSION}:{folder.resolve()}".encode())
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return config.paths().cache / "meta-converted" / f"{folder.name}-{h.hexdigest()[:16]}"


def permute_rotary(weight: Any, heads: int) -> Any:
    """Rows of a query/key projection from Meta's interleaved rotary pairs to transformers'
    split halves, head by head."""
    rows, cols = weight.shape
    return weight.view(heads, rows // heads // 2, 2, cols).transpose(1, 2).reshape(rows, cols)


def _load_shards(paths: list[Path]) -> list[dict[str, Any]]:
    import torch

    loaded = []
    for path in paths:
        try:
            # mmap: a 13 GB shard is paged in as it is read, not copied into RAM first.
            loaded.append(torch.load(path, map_location="cpu", weights_only=True, mmap=True))
        except Exception as exc:  # torch raises many kinds for a damaged file
            raise ModelError(
                f"{path} cannot be read as a PyTorch checkpoint ({type(exc).__name__}): the "
                "download may be incomplete; run Meta's download.sh again."
            ) from exc
    return loaded


def _join(parts: list[Any], key: str) -> Any:
    import torch

    if len(parts) == 1:
        return parts[0]
    if any(key.endswith(f"{n}.weight") for n in _ROW_SPLIT) or key == "output.weight":
        return torch.cat(parts, dim=0)
    if any(key.endswith(f"{n}.weight") for n in _COL_SPLIT) or key == "tok_embeddings.weight":
        return torch.cat(parts, dim=1)
    return parts[0]


def _llama_config(
    params: dict[str, Any], *, vocab_size: int, intermediate_size: int, dtype: str
) -> Any:
    """The Hugging Face ``LlamaConfig`` of Meta's ``params.json`` and the weights' shapes."""
    from transformers import LlamaConfig

    dim, heads = params["dim"], params["n_heads"]
    rope_theta = float(params.get("rope_theta", 10000.0))
    return LlamaConfig(
        architectures=["LlamaForCausalLM"],
        vocab_size=vocab_size,
        hidden_size=dim,
        intermediate_size=intermediate_size,
        num_hidden_layers=params["n_layers"],
        num_attention_heads=heads,
        num_key_value_heads=params.get("n_kv_heads") or heads,
        head_dim=dim // heads,
        rms_norm_eps=float(params.get("norm_eps", 1e-5)),
        # CodeLlama (rope theta 1e6) was trained on 16k tokens, Llama 2 on 4k.
        max_position_embeddings=int(
            params.get("max_seq_len") or (16384 if rope_theta > 10000 else 4096)
        ),
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        dtype=dtype,
    )


def _hf_state(
    src: Path,
    loaded: list[Any],
    params: dict[str, Any],
    on_progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """Meta's weights under Hugging Face Llama names, rotary halves permuted, shards joined."""
    layers, heads = params["n_layers"], params["n_heads"]
    kv_heads = params.get("n_kv_heads") or heads

    def weight(key: str) -> Any:
        try:
            return _join([shard[key] for shard in loaded], key)
        except KeyError as exc:
            raise ModelError(
                f"{src} lacks the weight {key!r}: not a Llama checkpoint, or a damaged one."
            ) from exc

    embed = weight("tok_embeddings.weight")
    state: dict[str, Any] = {
        "model.embed_tokens.weight": embed,
        "model.norm.weight": weight("norm.weight"),
        "lm_head.weight": weight("output.weight"),
    }
    total = layers
    for i in range(layers):
        for meta_name, hf_name in _NAMES.items():
            key = f"layers.{i}.{meta_name}.weight"
            w = weight(key)
            if meta_name == "attention.wq":
                w = permute_rotary(w, heads)
            elif meta_name == "attention.wk":
                w = permute_rotary(w, kv_heads)
            state[f"model.layers.{i}.{hf_name}.weight"] = w
        if on_progress is not None:
            on_progress(i + 1, total)
    return state


def convert(
    folder: str | Path,
    *,
    out: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Convert Meta's checkpoint in ``folder`` to a Hugging Face folder (once; cached).

    ``on_progress(done, total)`` hears each converted layer. Returns the folder.
    """
    torchcheck.require("Converting Meta's checkpoint")
    import torch
    from safetensors.torch import save_file
    from transformers import GenerationConfig

    src = Path(folder).expanduser().resolve()
    target = out or cache_folder(src)
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target
    params = read_params(src)
    files = shards(src)
    loaded = _load_shards(files)
    state = _hf_state(src, loaded, params, on_progress)
    embed = state["model.embed_tokens.weight"]
    cfg = _llama_config(
        params,
        vocab_size=int(embed.shape[0]),
        intermediate_size=int(state["model.layers.0.mlp.gate_proj.weight"].shape[0]),
        dtype=str(embed.dtype).removeprefix("torch."),
    )
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        cfg.save_pretrained(tmp)
        GenerationConfig(bos_token_id=1, eos_token_id=2).save_pretrained(tmp)
        save_file(
            {k: v.contiguous() for k, v in state.items()},
            str(tmp / "model.safetensors"),
            metadata={"format": "pt"},
        )
        state.clear()
        loaded.clear()  # the shards' memory maps go before the tokenizer is built
        _save_tokenizer(src / "tokenizer.model", tmp)
        (tmp / "codenook-source.json").write_text(
            json.dumps({"converted_from": str(src), "format": FORMAT_VERSION}), encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Converted Meta checkpoint %s to %s (torch %s)", src, target, torch.__version__)
    return target


def _save_tokenizer(model_file: Path, out: Path) -> None:
    """The SentencePiece model as a Hugging Face Llama tokenizer (and the file itself)."""
    from transformers import LlamaTokenizer

    try:
        # Meta's reference starts every prompt with BOS; the GGUF converter reads this too.
        tok = LlamaTokenizer.from_pretrained(
            str(model_file.parent), add_bos_token=True, local_files_only=True
        )
        if len(tok) < 3:
            raise ValueError("no vocabulary read")
    except Exception as exc:
        raise ModelError(
            f"{model_file} cannot be read as a SentencePiece tokenizer ({exc}); copy it again "
            "from Meta's download."
        ) from exc
    tok.save_pretrained(out)
    shutil.copyfile(model_file, out / "tokenizer.model")
