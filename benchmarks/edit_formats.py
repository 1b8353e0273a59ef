"""Which edit format a small model gets right, on the review and debug eval suites.

Every task of the ``review`` suite (flawed files) and the ``debug`` suite (buggy programs
with tests) is asked at temperature 0 for its fix in each edit format (a unified diff,
search/replace blocks as Aider asks for them, the one function rewritten whole), each
without and with the format's GBNF grammar. Per suite, format and grammar it prints the
share of answers whose change applies, the share the suite's own check passes (review:
parses, fewer ruff findings and the task's test; debug: the tests pass), ruff's findings
before -> after over the review files, and the median seconds per answer. Models: the
Qwen test model (see benchmarks/speculative.py) and the embedded one.

The applicable share is over both suites together; per model the best format is the one
with the highest share with its grammar. Last line: ``applicable_with_grammar: SHARE``
(that best share, on Qwen when it is there; the issue's bar is 0.95).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from codenook.assist.eval import review as review_suite
from codenook.assist.eval import runner
from codenook.assist.eval.tasks import Task
from codenook.assist.tools.edit_formats import FORMATS, apply_edit, edit_request
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend, default_threads

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from speculative import qwen_path  # noqa: E402

SYSTEM = "You are an expert Python programmer."
#: What each suite asks for, before the file and the format's instruction.
PROBLEM = {
    "review": "Review this Python file (task.py) and fix its problems.",
    "debug": "This Python program (task.py) fails its tests. Find the bug and fix it.",
}
SUITES = tuple(PROBLEM)


@dataclass
class Cell:
    """One suite, format and grammar setting: what its answers did."""

    applied: int = 0
    passed: int = 0
    asked: int = 0
    lint_before: int = 0
    lint_after: int = 0
    seconds: list[float] = field(default_factory=list)


def answer(
    backend: LlamaBackend, suite: str, task: Task, fmt: str, *, grammar: bool, tokens: int
) -> tuple[str | None, float]:
    """The task's file after the model's answer in ``fmt`` (None: nothing applies)."""
    source = task.data["task"].source
    req = edit_request(fmt, source, name="task.py")
    ask = f"{PROBLEM[suite]}\n\n```python\n{source}```\n\n{req.instruction}"
    options = GenerationOptions(
        max_tokens=tokens,
        temperature=0.0,
        seed=0,
        draft="off",
        grammar=req.grammar if grammar else None,
    )
    start = time.perf_counter()
    text = backend.stream_chat([Message("system", SYSTEM), Message("user", ask)], options=options)
    reply = text.read()
    return apply_edit(fmt, source, reply), time.perf_counter() - start


def measure(
    backend: LlamaBackend, *, tokens: int, limit: int | None
) -> dict[tuple[str, str, bool], Cell]:
    """(suite, format, grammar) -> its cell, over the first ``limit`` tasks of each suite."""
    out: dict[tuple[str, str, bool], Cell] = {}
    for suite_name in SUITES:
        suite = runner.make_suite(suite_name, side="bare")
        tasks = suite.tasks()[:limit]
        try:
            for fmt in FORMATS:
                for grammar in (False, True):
                    cell = out.setdefault((suite_name, fmt, grammar), Cell())
                    for task in tasks:
                        new, seconds = answer(
                            backend, suite_name, task, fmt, grammar=grammar, tokens=tokens
                        )
                        verdict = suite.check(task, new or "", limits=Limits(), cancel=None)
                        cell.asked += 1
                        cell.applied += new is not None
                        cell.passed += verdict.passed
                        cell.seconds.append(seconds)
                        if suite_name == "review":
                            _, before, after = review_suite.figures(task.id, new or "")
                            cell.lint_before += before
                            cell.lint_after += after
                    print(f"  {suite_name} {fmt} grammar={grammar}: {line(cell)}", flush=True)
        finally:
            suite.close()  # type: ignore[attr-defined]
    return out


def line(cell: Cell) -> str:
    """A cell as one line of figures."""
    n = max(cell.asked, 1)
    lint = f", ruff {cell.lint_before} -> {cell.lint_after}" if cell.lint_before else ""
    return (
        f"applies {cell.applied}/{cell.asked} = {cell.applied / n:.2f}, "
        f"passes {cell.passed}/{cell.asked}{lint}, "
        f"{statistics.median(cell.seconds or [0.0]):.1f} s/answer"
    )


def report(label: str, cells: dict[tuple[str, str, bool], Cell]) -> tuple[str, float]:
    """Print a model's table; its best format with grammar and that format's share."""
    best = ("", -1.0)
    for fmt in FORMATS:
        shares, costs = [], []
        for grammar in (False, True):
            both = [cells[s, fmt, grammar] for s in SUITES]
            applied, asked = sum(c.applied for c in both), sum(c.asked for c in both)
            shares.append(applied / max(asked, 1))
            costs.append(statistics.median([t for c in both for t in c.seconds] or [0.0]))
        print(
            f"{label:10} {fmt:15} applies {shares[0]:.2f} plain, {shares[1]:.2f} with grammar; "
            f"s/answer {costs[0]:.1f} plain, {costs[1]:.1f} with grammar "
            f"({costs[1] - costs[0]:+.1f})",
            flush=True,
        )
        if shares[1] > best[1]:
            best = (fmt, shares[1])
    return best


def main() -> None:
    """Measure each model and print its table; the best grammar-bound share last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=runner.MAX_TOKENS["review"])
    parser.add_argument("--limit", type=int, help="the first N tasks of each suite")
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--no-qwen", action="store_true", help="the embedded model only")
    parser.add_argument("--qwen-only", action="store_true", help="the Qwen test model only")
    args = parser.parse_args()
    print(f"threads {args.threads}, load average {os.getloadavg()[0]:.1f}")
    qwen = None if args.no_qwen else qwen_path()
    models = [("qwen0.5b", qwen)] if qwen is not None else []
    if not args.qwen_only:
        models.append(("smollm2", embedded_model_path()))
    best: dict[str, tuple[str, float]] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ["CODENOOK_HOME"] = home
        for label, path in models:
            with LlamaBackend(path, context_length=4096, threads=args.threads) as backend:
                cells = measure(backend, tokens=args.tokens, limit=args.limit)
            best[label] = report(label, cells)
            print(f"best_format: {label}/{best[label][0]} ({best[label][1]:.2f} with grammar)")
    label = "qwen0.5b" if "qwen0.5b" in best else next(iter(best))
    print(f"applicable_with_grammar: {best[label][1]:.2f}")


if __name__ == "__main__":
    main()
