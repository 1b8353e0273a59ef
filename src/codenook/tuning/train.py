"""LoRA training through PEFT on the transformers runtime: planned, seeded, stoppable, resumable.

The base is prepared once per model file: a GGUF is dequantized by transformers and saved
as a plain Hugging Face folder (fast to load again, and the ``--base`` llama.cpp's adapter
converter needs). Its config gets ``architectures`` and loses ``quantization_config``: the
converter detects the architecture from the first and trips over the second.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see engine/transformers_backend.py

from codenook.engine import torchcheck

try:
    import torch
except ImportError:
    # PyTorch is optional (engine/torchcheck.py): one clear line, not an ImportError.
    torchcheck.require("Tuning", (*torchcheck.PACKAGES, "peft"))
    raise

from codenook import config
from codenook.engine.model_hash import sha256_of
from codenook.errors import CodenookError
from codenook.tuning.dataset import Dataset, Sample

log = logging.getLogger(__name__)

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
CHECKPOINT = "checkpoint.pt"


class TuneError(CodenookError):
    """Training cannot start or go on (does not fit, no data, broken checkpoint)."""


@dataclass(frozen=True)
class TrainOptions:
    """How a run trains; the same options and seed give the same adapter."""

    steps: int = 200
    seq_len: int = 256
    batch: int = 1
    lr: float = 1e-3
    rank: int = 8
    alpha: int = 16
    seed: int = 0
    threads: int | None = None
    device: str = "auto"  # auto, cpu, cuda
    #: Save a checkpoint every this many steps (besides on Stop and at the end).
    save_every: int = 50


@dataclass
class Progress:
    """One step's figures, for the CLI's line and the window's curve."""

    step: int
    steps: int
    loss: float
    tokens_per_second: float
    seconds_left: float


@dataclass
class RunResult:
    """A finished (or stopped) run."""

    folder: Path
    step: int
    finished: bool
    ppl_before: float | None = None
    ppl_after: float | None = None
    tokens_per_second: float = 0.0
    losses: list[float] = field(default_factory=list)


# -- base model ------------------------------------------------------------------------


def base_folder(gguf: Path, *, sha256: str | None = None) -> Path:
    """Where the dequantized copy of ``gguf`` is kept (by content hash)."""
    digest = sha256 or sha256_of(gguf)
    return config.paths().cache / "tuning" / f"base-{digest[:16]}"


def prepare_base(gguf: Path, *, sha256: str | None = None) -> Path:
    """A Hugging Face folder for ``gguf`` (dequantized once; reused afterwards)."""
    folder = base_folder(gguf, sha256=sha256)
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tmp = folder.with_name(folder.name + f".{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    kwargs = {"gguf_file": gguf.name, "local_files_only": True}
    chatter = io.StringIO()
    try:
        with contextlib.redirect_stderr(chatter):
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **kwargs)
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), dtype=torch.float32, **kwargs
            )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise TuneError(
            f"transformers cannot open {gguf.name} for training ({exc.__class__.__name__}): "
            "train on a Hugging Face folder of the same model instead."
        ) from exc
    # transformers marks a GGUF-loaded model as quantized and refuses save_pretrained; the
    # weights are plain float32 after dequantizing, so they are written directly.
    from safetensors.torch import save_model

    tmp.mkdir(parents=True)
    save_model(model, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    fix_config(tmp / "config.json", type(model).__name__)
    tmp.replace(folder) if not folder.exists() else shutil.rmtree(tmp)
    return folder


def fix_config(path: Path, architecture: str) -> None:
    """The config llama.cpp's converters can read: ``architectures`` set, no quantization."""
    data = json.loads(path.read_text())
    data.pop("quantization_config", None)
    data["architectures"] = [architecture]
    path.write_text(json.dumps(data, indent=2))


def parameter_count(folder: Path) -> int:
    """Parameters of a Hugging Face folder's model, from its config."""
    cfg = json.loads((folder / "config.json").read_text())
    h, layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    inter, vocab = cfg.get("intermediate_size", 4 * h), cfg["vocab_size"]
    kv = h * cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    kv //= cfg["num_attention_heads"]
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * inter
    tied = cfg.get("tie_word_embeddings", False)
    return layers * per_layer + vocab * h * (1 if tied else 2)


# -- memory plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Where a run trains and the memory it needs, or why it cannot."""

    device: str
    need_bytes: int
    have_bytes: int
    fits: bool
    message: str


def _need(
    params: int, *, seq_len: int, batch: int, four_bit: bool, hidden: int, layers: int
) -> int:
    """Bytes to train LoRA on a base of ``params``: weights, LoRA state, activations."""
    weights = params * (0.56 if four_bit else 4.0)  # NF4 with its scales, or float32
    lora = layers * 4 * 2 * hidden * 8 * 4 * 4  # r=8 pairs, fp32, with Adam's two moments
    # Activations kept for the backward pass (gradient checkpointing off), per layer.
    acts = layers * batch * seq_len * hidden * 34 * 2
    logits = batch * seq_len * 50_000 * 4 * 3
    return int(weights + lora + acts + logits + 512 * 2**20)  # CUDA context and allocator slack


def plan_training(
    *,
    params: int,
    hidden: int,
    layers: int,
    seq_len: int,
    batch: int,
    device: str,
    gpu_name: str | None,
    gpu_capability: tuple[int, int] | None,
    gpu_free: int,
    ram_free: int,
) -> Plan:
    """Choose CPU or CUDA and check the memory before loading anything."""
    use_cuda = device == "cuda" or (device == "auto" and gpu_name is not None)
    note = ""
    if use_cuda and gpu_capability is not None and gpu_capability < (7, 0):
        # Current PyTorch CUDA wheels dropped Pascal (the GTX 1050 Ti is 6.1).
        note = f"{gpu_name} (compute {gpu_capability[0]}.{gpu_capability[1]}) is too old for "
        note += "this PyTorch's CUDA build, so training runs on the CPU. "
        if device == "cuda":
            return Plan("cuda", 0, gpu_free, False, note.replace("so training runs", "train"))
        use_cuda = False
    if use_cuda and gpu_name is None:
        return Plan("cuda", 0, 0, False, "No CUDA GPU is visible to PyTorch: use --device cpu.")
    if use_cuda:
        need = _need(
            params, seq_len=seq_len, batch=batch, four_bit=True, hidden=hidden, layers=layers
        )
        if need > gpu_free:
            fits = [
                f"{b}B params at {s} tokens"
                for b in (0.5, 1.5, 3, 7)
                for s in (2048, 1024, 512, 256)
                if _need(
                    int(b * 1e9),
                    seq_len=s,
                    batch=batch,
                    four_bit=True,
                    hidden=_hidden_for(b),
                    layers=_layers_for(b),
                )
                <= gpu_free
            ][:1]
            hint = f"what fits: up to {fits[0]}" if fits else "only the CPU fits (--device cpu)"
            return Plan(
                "cuda",
                need,
                gpu_free,
                False,
                f"Training needs about {need / 2**30:.1f} GB of GPU memory and {gpu_name} has "
                f"{gpu_free / 2**30:.1f} GB free; {hint}; or lower --seq-len / --batch.",
            )
        return Plan("cuda", need, gpu_free, True, f"Training on {gpu_name} in 4 bits (QLoRA).")
    need = int(params * 4 * 1.1) + _need(
        0, seq_len=seq_len, batch=batch, four_bit=False, hidden=hidden, layers=layers
    )
    if need > ram_free:
        return Plan(
            "cpu",
            need,
            ram_free,
            False,
            f"{note}Training on the CPU needs about {need / 2**30:.1f} GB of RAM and "
            f"{ram_free / 2**30:.1f} GB is free: close programs, lower --seq-len, or use a "
            "smaller base.",
        )
    return Plan("cpu", need, ram_free, True, f"{note}Training on the CPU (float32).")


def _hidden_for(billions: float) -> int:
    return {0.5: 896, 1.5: 1536, 3: 2048, 7: 3584}.get(billions, 4096)


def _layers_for(billions: float) -> int:
    return {0.5: 24, 1.5: 28, 3: 36, 7: 28}.get(billions, 32)


def require_qlora(find: Callable[[str], object] | None = None) -> None:
    """Refuse a CUDA run early when QLoRA's 4-bit weights cannot be had (no bitsandbytes)."""
    import importlib.util

    if (find or importlib.util.find_spec)("bitsandbytes") is None:
        raise TuneError(
            "Training on CUDA loads the base in 4 bits (QLoRA), which needs the bitsandbytes "
            "package: pip install bitsandbytes, or train on the CPU (--device cpu)."
        )


def plan_here(folder: Path, options: TrainOptions) -> Plan:
    """The plan for this machine's CPU or GPU."""
    import psutil

    cfg = json.loads((folder / "config.json").read_text())
    name = capability = None
    free = 0
    if options.device != "cpu" and torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        capability = torch.cuda.get_device_capability(0)
        free = torch.cuda.mem_get_info(0)[0]
    return plan_training(
        params=parameter_count(folder),
        hidden=cfg["hidden_size"],
        layers=cfg["num_hidden_layers"],
        seq_len=options.seq_len,
        batch=options.batch,
        device=options.device,
        gpu_name=name,
        gpu_capability=capability,
        gpu_free=free,
        ram_free=psutil.virtual_memory().available,
    )


# -- samples and perplexity ------------------------------------------------------------


def encode(tokenizer: Any, sample: Sample, seq_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (the prompt's are -100: not learned), cut to ``seq_len``."""
    prompt = tokenizer(sample.prompt, add_special_tokens=False).input_ids if sample.prompt else []
    text = tokenizer(sample.text, add_special_tokens=False).input_ids
    ids = (prompt + text)[:seq_len]
    labels = ([-100] * len(prompt) + text)[:seq_len]
    return ids, labels


def heldout_ids(tokenizer: Any, samples: Sequence[Sample], seq_len: int) -> list[list[int]]:
    """The held-out texts as token windows of at most ``seq_len``."""
    windows = []
    for s in samples:
        ids = tokenizer(s.text, add_special_tokens=False).input_ids
        windows.extend(ids[i : i + seq_len] for i in range(0, len(ids), seq_len))
    return [w for w in windows if len(w) > 1]


def perplexity(model: Any, windows: Sequence[list[int]], device: torch.device) -> float:
    """exp of the mean next-token loss over every predicted token of ``windows``."""
    total, count = 0.0, 0
    model.eval()
    with torch.inference_mode():
        for ids in windows:
            x = torch.tensor([ids], device=device)
            logits = model(input_ids=x).logits[0, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits, x[0, 1:], reduction="sum")
            total += float(nll)
            count += len(ids) - 1
    return math.exp(total / max(count, 1))


# -- training --------------------------------------------------------------------------


def _order(n: int, steps: int, batch: int, seed: int) -> list[list[int]]:
    """Which samples each step takes: seeded epochs, the same on resume."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < steps * batch:
        epoch = list(range(n))
        rng.shuffle(epoch)
        order.extend(epoch)
    return [order[i * batch : (i + 1) * batch] for i in range(steps)]


def load_peft(folder: Path, base: Path, *, threads: int | None = None) -> tuple[Any, Any]:
    """A base model with a trained PEFT adapter (for measuring), and its tokenizer."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        str(base), dtype=torch.float32, local_files_only=True
    )
    return PeftModel.from_pretrained(model, str(folder)), tokenizer


@dataclass
class _Tally:
    """A run's counters so far; they travel in the checkpoint so a resumed run goes on."""

    step: int = 0
    losses: list[float] = field(default_factory=list)
    tokens: int = 0
    seconds: float = 0.0

    def record(self, loss: float, tokens: int, seconds: float) -> None:
        """Count one finished step."""
        self.step += 1
        self.losses.append(loss)
        self.tokens += tokens
        self.seconds += seconds

    def progress(self, steps: int) -> Progress:
        """The figures of the step just counted, for the progress callback."""
        rate = self.tokens / self.seconds if self.seconds else 0.0
        left = self.seconds / self.step * (steps - self.step)
        return Progress(self.step, steps, self.losses[-1], rate, left)

    @property
    def rate(self) -> float:
        """Tokens a second over the whole run."""
        return self.tokens / max(self.seconds, 1e-9)


def _load_for_training(base: Path, device: str, options: TrainOptions) -> tuple[Any, Any]:
    """The tokenizer and model of the base folder, 4-bit on CUDA, float32 elsewhere.

    Sets torch's threads and seeds the random generators first, so a run is repeatable.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    torch.set_num_threads(options.threads or max(1, (os.cpu_count() or 2) // 2))
    torch.manual_seed(options.seed)
    random.seed(options.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    load: dict[str, Any] = {"local_files_only": True, "dtype": torch.float32}
    if device == "cuda":
        from transformers import BitsAndBytesConfig

        load["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
        load["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(str(base), **load)
    if device != "cuda":
        model.to(torch.device(device))
    return tokenizer, model


def _read_checkpoint(checkpoint: Path, options: TrainOptions) -> dict[str, Any]:
    """The stopped run's state, refused when missing, unreadable or from other options."""
    if not checkpoint.is_file():
        raise TuneError(
            f"No stopped run to resume in {checkpoint.parent}: start it without --resume."
        )
    try:
        state = torch.load(checkpoint, weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise TuneError(f"The checkpoint {checkpoint} is unreadable; start afresh.") from exc
    if state["options"] != asdict(options):
        raise TuneError("--resume needs the same options as the stopped run.")
    return state


def _add_lora(model: Any, options: TrainOptions) -> tuple[Any, list[Any], Any, Any]:
    """Wrap ``model`` with LoRA; its trainable parameters, optimizer and schedule."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        target_modules=list(TARGET_MODULES),
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    torch.manual_seed(options.seed)  # the LoRA initialisation, as on the first run
    peft_model = get_peft_model(model, lora)
    params = [p for p in peft_model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.lr, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 10) * max(0.1, 1 - s / options.steps)
    )
    return peft_model, params, optimizer, schedule


def _restore(state: dict[str, Any], peft_model: Any, optimizer: Any, schedule: Any) -> _Tally:
    """Put a checkpoint's adapter, optimizer, schedule and random state back; its counters."""
    from peft import set_peft_model_state_dict

    set_peft_model_state_dict(peft_model, state["adapter"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    torch.set_rng_state(state["torch_rng"])
    return _Tally(state["step"], state["losses"], state["tokens"], state["seconds"])


def _save_checkpoint(
    checkpoint: Path,
    *,
    options: TrainOptions,
    peft_model: Any,
    optimizer: Any,
    schedule: Any,
    tally: _Tally,
    ppl_before: float | None,
) -> None:
    """Write everything a resumed run needs, atomically (a stop mid-write keeps the old one)."""
    from peft.utils import get_peft_model_state_dict

    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    tmp = checkpoint.with_suffix(".tmp")
    torch.save(
        {
            "options": asdict(options),
            "adapter": get_peft_model_state_dict(peft_model),
            "optimizer": optimizer.state_dict(),
            "schedule": schedule.state_dict(),
            "step": tally.step,
            "losses": tally.losses,
            "tokens": tally.tokens,
            "seconds": tally.seconds,
            "ppl_before": ppl_before,
            "torch_rng": torch.get_rng_state(),
        },
        tmp,
    )
    tmp.replace(checkpoint)


def _train_step(
    peft_model: Any,
    rows: list[tuple[list[int], list[int]]],
    *,
    pad: int,
    device: torch.device,
    params: list[Any],
    optimizer: Any,
    schedule: Any,
) -> tuple[float, int]:
    """One optimizer step on a padded batch of ``rows``; its loss and the tokens it saw."""
    width = max(len(ids) for ids, _ in rows)
    ids = torch.tensor([r[0] + [pad] * (width - len(r[0])) for r in rows], device=device)
    labels = torch.tensor([r[1] + [-100] * (width - len(r[1])) for r in rows], device=device)
    mask = torch.tensor([[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows], device=device)
    loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    schedule.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach()), int(mask.sum())


def _run_steps(
    peft_model: Any,
    batches: list[list[tuple[list[int], list[int]]]],
    *,
    pad: int,
    device: torch.device,
    params: list[Any],
    optimizer: Any,
    schedule: Any,
    tally: _Tally,
    options: TrainOptions,
    stop: threading.Event | None,
    on_progress: Callable[[Progress], None] | None,
    save_checkpoint: Callable[[], None],
) -> bool:
    """Train from ``tally.step`` to the last step; True when ``stop`` ended the run early."""
    while tally.step < options.steps:
        if stop is not None and stop.is_set():
            return True
        began = time.perf_counter()
        loss, tokens = _train_step(
            peft_model,
            batches[tally.step],
            pad=pad,
            device=device,
            params=params,
            optimizer=optimizer,
            schedule=schedule,
        )
        tally.record(loss, tokens, time.perf_counter() - began)
        if on_progress:
            on_progress(tally.progress(options.steps))
        if tally.step % options.save_every == 0 and tally.step < options.steps:
            save_checkpoint()
    return False


def _write_run_record(
    out: Path,
    *,
    options: TrainOptions,
    result: RunResult,
    device: str,
) -> None:
    """``run.json``: the options and figures of a finished run, for a person and the window."""
    (out / "run.json").write_text(
        json.dumps(
            {
                "options": asdict(options),
                "steps": result.step,
                "ppl_before": result.ppl_before,
                "ppl_after": result.ppl_after,
                "tokens_per_second": result.tokens_per_second,
                "losses": result.losses,
                "device": device,
            },
            indent=1,
        )
    )


def train(
    dataset: Dataset,
    base: Path,
    out: Path,
    *,
    options: TrainOptions,
    resume: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    measure: bool = True,
) -> RunResult:
    """Train a LoRA adapter on ``dataset`` over the base folder; save it in ``out/peft``.

    ``stop`` (set from another thread, or by Ctrl-C in the CLI) ends the run after the
    current step with a checkpoint; ``resume`` continues from that checkpoint.
    """
    if not dataset.train:
        raise TuneError("The dataset has no training samples: give more files ('tune data').")
    plan = plan_here(base, options)
    if not plan.fits:
        raise TuneError(plan.message)
    if plan.device == "cuda":
        require_qlora()
    log.info("%s", plan.message)
    device = torch.device(plan.device)
    tokenizer, model = _load_for_training(base, plan.device, options)
    windows = heldout_ids(tokenizer, dataset.heldout, options.seq_len)
    checkpoint = out / CHECKPOINT
    state = _read_checkpoint(checkpoint, options) if resume else None
    ppl_before = state["ppl_before"] if state else None
    if measure and windows and ppl_before is None:
        ppl_before = perplexity(model, windows, device)
    peft_model, params, optimizer, schedule = _add_lora(model, options)
    tally = _restore(state, peft_model, optimizer, schedule) if state else _Tally()
    encoded = [encode(tokenizer, s, options.seq_len) for s in dataset.train]
    plan_steps = _order(len(encoded), options.steps, options.batch, options.seed)

    def save_checkpoint() -> None:
        _save_checkpoint(
            checkpoint,
            options=options,
            peft_model=peft_model,
            optimizer=optimizer,
            schedule=schedule,
            tally=tally,
            ppl_before=ppl_before,
        )

    peft_model.train()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    try:
        stopped = _run_steps(
            peft_model,
            [[encoded[i] for i in batch] for batch in plan_steps],
            pad=pad,
            device=device,
            params=params,
            optimizer=optimizer,
            schedule=schedule,
            tally=tally,
            options=options,
            stop=stop,
            on_progress=on_progress,
            save_checkpoint=save_checkpoint,
        )
    except KeyboardInterrupt:
        stopped = True
    if stopped:
        save_checkpoint()
        return RunResult(out, tally.step, False, ppl_before, None, tally.rate, tally.losses)
    peft_dir = out / "peft"
    peft_model.save_pretrained(str(peft_dir))
    _fix_adapter_config(peft_dir / "adapter_config.json", base)
    ppl_after = perplexity(peft_model, windows, device) if measure and windows else None
    checkpoint.unlink(missing_ok=True)
    result = RunResult(out, tally.step, True, ppl_before, ppl_after, tally.rate, tally.losses)
    _write_run_record(out, options=options, result=result, device=plan.device)
    return result


def _fix_adapter_config(path: Path, base: Path) -> None:
    """Point the adapter at the base folder it was trained on (PEFT records the GGUF's folder)."""
    data = json.loads(path.read_text())
    data["base_model_name_or_path"] = str(base)
    path.write_text(json.dumps(data, indent=2))
