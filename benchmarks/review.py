"""Time codenook spends outside the model when it reviews a 2,000-line Python file.

The model is replaced by an instant backend that answers with a review holding a
unified diff of four hunks spread over the file, so what is left is codenook's own
work on the review path, run for real through ``jobs.review(..., apply=True)``:
reading the file, ruff with the broad rule set, building the prompt (line numbers,
findings, context budget), storing both messages, finding the diff in the answer,
applying it with GNU patch, the backup and atomic write, and ruff again on the result.
The figure is the median of 5 runs (must be under 1 s); a breakdown of the parts,
timed apart, is printed before it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from codenook.assist import jobs
from codenook.assist.jobs.review import lint
from codenook.assist.prompts import code_budget, review_request
from codenook.assist.session import ChatSession
from codenook.assist.tools.diffs import apply_diff, extract_diff, make_diff
from codenook.assist.tools.files import read_source
from codenook.auth import Auth
from codenook.engine.backend import Backend, GenerationOptions, Message, ModelInfo, TokenStream
from codenook.store.db import open_database

RUNS = 5
LINES = 2000
LIMIT_S = 1.0


class InstantBackend(Backend):
    """Answers every chat at once with the same text: the model's share is zero."""

    def __init__(self, answer: str) -> None:
        super().__init__()
        self.answer = answer
        self.info = ModelInfo(
            path="instant",
            name="instant",
            architecture="none",
            backend="instant",
            context_length=4096,
            trained_context_length=None,
            gpu_layers=0,
            layer_count=None,
            threads=1,
            gpu_offload_supported=False,
        )

    def _pieces(self) -> Iterator[tuple[str, int]]:
        for line in self.answer.splitlines(keepends=True):
            yield line, 1

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """The canned review."""
        return TokenStream(self._pieces())

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """About four characters a token."""
        return sum(len(m.content) for m in messages) // 4

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """The canned review."""
        return TokenStream(self._pieces())

    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """The canned review."""
        return TokenStream(self._pieces())

    def count_tokens(self, text: str) -> int:
        """About four characters a token."""
        return len(text) // 4


def make_source(lines: int = LINES) -> str:
    """A Python module of ``lines`` lines with the usual findings sprinkled in."""
    out = ['"""A generated module for the review benchmark."""', "", "import os", "import sys", ""]
    n = 0
    while len(out) < lines - 12:
        out += [
            "",
            "",
            f"def function_{n}(items, limit=None):",
            f'    """Return the items of batch {n} up to limit."""',
            "    result = []",
            "    for item in items:",
            "        if limit == None:",
            "            result.append(item)",
            "        elif len(result) < limit:",
            "            result.append(item * 2)",
            f"    unused_{n} = len(items)",
            "    return result",
        ]
        n += 1
    out += ["", ""]
    while len(out) < lines:
        out.append(f"print(function_0([{len(out)}]))")
    return "\n".join(out[:lines]) + "\n"


def proposed_change(source: str) -> str:
    """A review answer whose diff touches four places spread over the file."""
    lines = source.splitlines(keepends=True)
    changed = list(lines)
    for at in (2, len(lines) // 3, len(lines) // 2, len(lines) - 40):
        i = next(j for j in range(at, len(lines)) if "limit == None" in lines[j])
        changed[i] = changed[i].replace("limit == None", "limit is None")
    diff = make_diff(source, "".join(changed), "module.py")
    return (
        f"The comparisons with None should use `is`.\n\n```diff\n{diff}```\n\nThe rest looks fine."
    )


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    source = make_source()
    assert source.count("\n") == LINES
    answer = proposed_change(source)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CODENOOK_HOME"] = str(Path(tmp) / "home")
        db = open_database()
        user = Auth(db).create_user("bench", "pumpkin-harbor-31")  # hashing is not timed
        backend = InstantBackend(answer)
        work = Path(tmp) / "module.py"
        options = GenerationOptions(max_tokens=512)

        def one_review() -> jobs.JobResult:
            work.write_text(source)
            for old in Path(tmp).glob("module.py.orig*"):
                old.unlink()
            session = ChatSession(db, user, backend, options)
            return jobs.review(session, path=work, apply=True, on_text=lambda _: None)

        result = one_review()  # warm caches (ruff's binary, patch) outside the figure
        if not result.applied or result.findings_after is None:
            sys.exit(f"the benchmark's diff did not apply: {result.notes}")
        before, after = len(result.findings), len(result.findings_after)
        runs = []
        for _ in range(RUNS):
            start = time.perf_counter()
            one_review()
            runs.append(time.perf_counter() - start)

        work.write_text(source)
        findings = lint(source, language="python", name="module.py")
        budget = code_budget(backend.info.context_length, options.max_tokens)
        parts = {
            "read": timed(lambda: read_source(work)),
            "ruff (broad rules)": timed(lambda: lint(source, language="python", name="module.py")),
            "prompt": timed(
                lambda: review_request(
                    "module.py", source, findings, language="python", budget_chars=budget
                )
            ),
            "extract diff": timed(lambda: extract_diff(answer)),
            "apply diff (patch)": timed(lambda: apply_diff(source, extract_diff(answer) or "")),
        }
        db.close()
    print(f"file: {LINES} lines, {len(source):,} characters")
    print(f"ruff findings: {before} before, {after} after applying a 4-hunk diff")
    for name, seconds in parts.items():
        print(f"  {name}: {seconds * 1000:.1f} ms")
    print("whole review path: " + ", ".join(f"{s:.3f}" for s in runs) + " s")
    median = statistics.median(runs)
    print(f"review_overhead_seconds: {median:.3f}")
    if median >= LIMIT_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
