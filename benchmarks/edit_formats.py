"""Which edit format a small model gets right: the share of answers that apply, per format.

On ten small flawed files (tests/assist/tools/flawed_files.py), the model is asked at
temperature 0 for the fix as a unified diff, as search/replace blocks, and as the whole
function rewritten, each with and without the format's GBNF grammar. An answer counts when
its change applies and changes the file. Also the seconds per answer with and without the
grammar. Models: the embedded one, and the Qwen test model when its helper is there (see
benchmarks/speculative.py). Then ``best_format: MODEL/FORMAT`` and last
``applicable_with_grammar: SHARE`` (the best format's share with its grammar, on Qwen when
it is there).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from codenook.assist.tools.edit_formats import FORMATS, apply_edit, edit_request
from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, default_threads

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from speculative import qwen_path  # noqa: E402

SYSTEM = "You are codenook, a concise coding assistant for Python."


def flawed() -> list[tuple[str, str, str]]:
    """The ten flawed files of the tests."""
    path = ROOT / "tests" / "assist" / "tools" / "flawed_files.py"
    spec = importlib.util.spec_from_file_location("codenook_flawed", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FLAWED


def measure(
    backend: LlamaBackend, *, tokens: int, files: int
) -> dict[tuple[str, bool], tuple[int, float]]:
    """(format, grammar) -> (answers that apply, median seconds per answer), on ``files``."""
    chosen = flawed()[:files]
    out = {}
    for fmt in FORMATS:
        for use_grammar in (False, True):
            ok, times = 0, []
            for name, source, problem in chosen:
                req = edit_request(fmt, source, name=name)
                ask = f"Fix this problem in {name}: {problem}.\n\n```python\n{source}```\n\n"
                messages = [Message("system", SYSTEM), Message("user", ask + req.instruction)]
                options = GenerationOptions(
                    max_tokens=tokens,
                    temperature=0.0,
                    draft="off",
                    grammar=req.grammar if use_grammar else None,
                )
                start = time.perf_counter()
                answer = backend.stream_chat(messages, options=options).read()
                times.append(time.perf_counter() - start)
                ok += apply_edit(fmt, source, answer) is not None
            out[fmt, use_grammar] = (ok, statistics.median(times))
    return out


def main() -> None:
    """Measure each model and print the table, the best grammar-bound format last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--no-qwen", action="store_true", help="the embedded model only")
    parser.add_argument("--qwen-only", action="store_true", help="the Qwen test model only")
    parser.add_argument("--files", type=int, default=10, help="the first N flawed files")
    args = parser.parse_args()
    print(f"threads {default_threads()}, load average {os.getloadavg()[0]:.1f}")
    models = [] if args.qwen_only else [("smollm2", embedded_model_path())]
    qwen = None if args.no_qwen else qwen_path()
    if qwen is not None:
        models.append(("qwen0.5b", qwen))
    best: dict[str, tuple[str, float]] = {}
    n = min(args.files, len(flawed()))
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        for label, path in models:
            with LlamaBackend(path, context_length=2048, gpu_layers=0) as backend:
                figures = measure(backend, tokens=args.tokens, files=n)
            for fmt in FORMATS:
                (a, ta), (b, tb) = figures[fmt, False], figures[fmt, True]
                print(
                    f"{label:10} {fmt:15} applies {a / n:4.2f} plain, {b / n:4.2f} with grammar;"
                    f"  s/answer {ta:5.2f} plain, {tb:5.2f} with grammar ({tb - ta:+.2f})"
                )
                if b / n > best.get(label, ("", -1.0))[1]:
                    best[label] = (fmt, b / n)
    label = "qwen0.5b" if "qwen0.5b" in best else next(iter(best))
    print(f"best_format: {label}/{best[label][0]}")
    print(f"applicable_with_grammar: {best[label][1]:.2f}")


if __name__ == "__main__":
    main()
