"""Prompt-lookup drafting against plain decoding: tokens/s on edit work and on plain chat.

Each workload is answered at temperature 0 with drafting off and on, interleaved over
several rounds (so machine noise hits both alike) on the same loaded model; both give the
same tokens, so tokens/s compare like for like. Workloads: a review that answers with a
unified diff, a doc job that repeats the file with docstrings, and plain chat (nothing to
copy). Models: the embedded one, and the Qwen2.5-Coder 0.5B test model when its helper
(tests/qwen.py, or the file CODENOOK_QWEN_HELPER names) can assemble it.

Prints per model and workload: plain and drafted tokens/s, their ratio, the acceptance
rate and the mean draft length; then ``chat_ratio`` and last ``edit_speedup: X`` (the
geometric mean of the review and doc ratios, on the Qwen model when it is there).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import DEFAULT_KV_CACHE, LlamaBackend, default_threads

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = "You are codenook, a concise coding assistant for Python and Bash."
SOURCE = """import json
import os


def load_config(path):
    with open(path) as f:
        data = json.load(f)
    if "name" not in data:
        data["name"] = "default"
    return data


def save_config(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.rename(tmp, path)


def average(values):
    total = 0
    for v in values:
        total += v
    return total / len(values)


def find_files(folder, suffix):
    found = []
    for name in os.listdir(folder):
        if name.endswith(suffix):
            found.append(os.path.join(folder, name))
    return found
"""
WORKLOADS = {
    "review": (
        "Review this file. `average` fails on an empty list and `save_config` does not "
        "flush to disk. Answer with one unified diff (--- a/config.py, +++ b/config.py) "
        "that fixes both, with three lines of context around each change.\n\n"
        f"```python\n{SOURCE}```"
    ),
    "doc": (
        "Add a one-line docstring to every function in this file and give back the whole "
        f"file, unchanged otherwise, in one Python code block.\n\n```python\n{SOURCE}```"
    ),
    "chat": "Explain in a few paragraphs when to use a Python generator instead of a list.",
}


@dataclass
class Figures:
    """One workload's runs on one model."""

    plain: list[float] = field(default_factory=list)
    drafted: list[float] = field(default_factory=list)
    rounds: int = 0
    drafted_tokens: int = 0
    accepted: int = 0
    same: bool = True

    @property
    def ratio(self) -> float:
        """Median drafted tokens/s over median plain tokens/s."""
        return statistics.median(self.drafted) / statistics.median(self.plain)


def qwen_path() -> Path | None:
    """The Qwen test model through its test helper, or None (said on stderr)."""
    helper = os.environ.get("CODENOOK_QWEN_HELPER") or str(ROOT / "tests" / "qwen.py")
    if not Path(helper).is_file():
        print(f"no Qwen helper at {helper}: the embedded model only", file=sys.stderr)
        return None
    spec = importlib.util.spec_from_file_location("codenook_bench_qwen", helper)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        return Path(module.qwen_model_path())
    except Exception as exc:  # the helper's own error says what is missing
        print(f"Qwen test model unavailable: {exc}", file=sys.stderr)
        return None


def measure(backend: LlamaBackend, *, rounds: int, tokens: int) -> dict[str, Figures]:
    """Every workload, drafting off then on, ``rounds`` times."""
    out = {name: Figures() for name in WORKLOADS}
    for _ in range(rounds):
        for name, request in WORKLOADS.items():
            messages = [Message("system", SYSTEM), Message("user", request)]
            texts = []
            for draft in ("off", "on"):
                backend._llm.reset()  # both sides evaluate the whole prompt each time
                options = GenerationOptions(max_tokens=tokens, temperature=0.0, draft=draft)
                stream = backend.stream_chat(messages, options=options)
                texts.append(stream.read())
                r = stream.result
                fig = out[name]
                (fig.drafted if draft == "on" else fig.plain).append(r.tokens_per_second)
                if draft == "on":
                    fig.rounds += r.draft_rounds
                    fig.drafted_tokens += r.drafted
                    fig.accepted += r.draft_accepted
            out[name].same &= texts[0] == texts[1]
    return out


def report(label: str, figures: dict[str, Figures]) -> float:
    """Print one model's lines; the edit speedup (geometric mean of review and doc)."""
    for name, f in figures.items():
        acc = f.accepted / f.drafted_tokens if f.drafted_tokens else 0.0
        mean = f.drafted_tokens / f.rounds if f.rounds else 0.0
        print(
            f"{label:10} {name:7} plain {statistics.median(f.plain):7.1f} tok/s  "
            f"drafted {statistics.median(f.drafted):7.1f} tok/s  ratio {f.ratio:5.2f}  "
            f"acceptance {acc:4.2f}  mean draft {mean:4.1f}  same text {f.same}"
        )
    return math.sqrt(figures["review"].ratio * figures["doc"].ratio)


def main() -> None:
    """Measure on each model and print the figures, the edit speedup last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=192)
    parser.add_argument("--no-qwen", action="store_true", help="the embedded model only")
    parser.add_argument(
        "--kv-cache", default=DEFAULT_KV_CACHE, help="f16 (the default) or q8_0 (exact drafting)"
    )
    args = parser.parse_args()
    threads = default_threads()
    print(f"threads {threads}, load average {os.getloadavg()[0]:.1f}")
    models = [("smollm2", embedded_model_path())]
    qwen = None if args.no_qwen else qwen_path()
    if qwen is not None:
        models.append(("qwen0.5b", qwen))
    speedups: dict[str, float] = {}
    chat: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        for label, path in models:
            with LlamaBackend(
                path, context_length=2048, threads=threads, gpu_layers=0, kv_cache=args.kv_cache
            ) as b:
                figures = measure(b, rounds=args.rounds, tokens=args.tokens)
            speedups[label] = report(label, figures)
            chat[label] = figures["chat"].ratio
    for label in speedups:
        print(f"{label}: edit_speedup {speedups[label]:.2f}  chat_ratio {chat[label]:.2f}")
    main_label = "qwen0.5b" if "qwen0.5b" in speedups else "smollm2"
    print(f"chat_ratio: {chat[main_label]:.2f}")
    print(f"edit_speedup: {speedups[main_label]:.2f}")


if __name__ == "__main__":
    main()
