"""The fill-in-the-middle suite: lines and blocks held out of a repository's own files.

Tasks are drawn with a seed from the Python and Bash files of ``--repo``: a line held out
after its indentation, or a block of two to four lines. The model gets the text before
and after the gap through the same fill path the editor's completion uses; an answer
passes on an exact match (ends of lines ignored) and scores its edit similarity.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

from codenook.assist.eval.tasks import EvalError, Generated, Task, Verdict
from codenook.assist.jobs.complete import BlockCutter, start_fill
from codenook.assist.prompts import system_prompt
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions

#: Files read from the repository, and how much of each (larger files are left out).
MAX_FILES = 2000
MAX_FILE_BYTES = 200_000
#: Characters of context each side of the gap.
CONTEXT_CHARS = 3000
DEFAULT_TASKS = 100
_SUFFIXES = {".py": "python", ".sh": "bash", ".bash": "bash"}
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox"}


def _repo_files(repo: Path) -> list[Path]:
    """The repository's Python and Bash files: git's list where it is a repository."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-z"],
            capture_output=True,
            timeout=30,
            check=True,
        )
        names = [n for n in proc.stdout.decode("utf-8", "replace").split("\0") if n]
        files = [repo / n for n in names]
    except (OSError, subprocess.SubprocessError):
        files = []
        for root, dirs, names in os.walk(repo):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
            files += [Path(root) / n for n in sorted(names)]
    chosen = [f for f in files if f.suffix in _SUFFIXES and f.is_file() and not f.is_symlink()]
    return sorted(chosen)[:MAX_FILES]


def _gap_lines(lines: list[str]) -> list[int]:
    """Lines worth holding out: some code on them, not just brackets or a comment."""
    good = []
    for i, line in enumerate(lines):
        body = line.strip()
        if len(body) >= 4 and not body.startswith("#") and body.strip("()[]{}:,;") == body:
            good.append(i)
    return good


def draw_tasks(repo: Path, *, count: int = DEFAULT_TASKS, seed: int = 0) -> list[Task]:
    """``count`` gaps drawn from ``repo``'s files with ``seed``, alternating lines and blocks."""
    if not repo.is_dir():
        raise EvalError(f"{repo} is not a folder; give a repository with --repo DIR.")
    texts: list[tuple[str, list[str], str]] = []
    for file in _repo_files(repo):
        try:
            if file.stat().st_size > MAX_FILE_BYTES:
                continue
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines = text.splitlines(keepends=True)
        if _gap_lines(lines):
            texts.append((str(file.relative_to(repo)), lines, _SUFFIXES[file.suffix]))
    if not texts:
        raise EvalError(f"{repo} holds no Python or Bash file with code to hold out.")
    rng = random.Random(seed)
    tasks: list[Task] = []
    seen: set[tuple[str, int, int]] = set()
    for k in range(count * 5):
        if len(tasks) >= count:
            break
        name, lines, language = rng.choice(texts)
        start = rng.choice(_gap_lines(lines))
        size = 1 if k % 2 == 0 else rng.randint(2, 4)
        end = min(start + size, len(lines))
        if (name, start, end) in seen:
            continue
        seen.add((name, start, end))
        first = lines[start]
        indent = first[: len(first) - len(first.lstrip(" \t"))]
        # The cursor stands after the first line's indentation, as a person would leave it.
        prefix = "".join(lines[:start]) + indent
        middle = "".join(lines[start:end])[len(indent) :].rstrip("\n")
        suffix = "\n" + "".join(lines[end:]) if "".join(lines[start:end]).endswith("\n") else ""
        kind = "line" if end - start == 1 else "block"
        tasks.append(
            Task(
                f"{name}:{start + 1}-{end}",
                "fim",
                {
                    "prefix": prefix[-CONTEXT_CHARS:],
                    "suffix": suffix[:CONTEXT_CHARS],
                    "middle": middle,
                    "kind": kind,
                    "language": language,
                },
            )
        )
    return tasks


def edit_similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / the longer length (1.0 for two empty texts)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


class FimSuite:
    """Held-out lines and blocks of a repository; exact match and edit similarity."""

    name = "fim"
    description = "Fill-in-the-middle: lines and blocks held out of --repo's files"
    runs_code = False

    def __init__(self, repo: Path, *, count: int = DEFAULT_TASKS, seed: int = 0) -> None:
        self.repo, self.count, self.seed = repo, count, seed

    def tasks(self) -> list[Task]:
        """The gaps drawn with this suite's seed."""
        return draw_tasks(self.repo, count=self.count, seed=self.seed)

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The model's middle, through the fill path the editor uses."""
        started = time.perf_counter()
        lines = 1 if task.data["kind"] == "line" else 4
        prefix, suffix, language = task.data["prefix"], task.data["suffix"], task.data["language"]
        stream = start_fill(
            backend,
            prefix,
            suffix,
            options=GenerationOptions(
                max_tokens=min(options.max_tokens, 48 * lines),
                temperature=options.temperature,
                top_p=options.top_p,
                seed=options.seed,
            ),
            system=system_prompt("complete", language),
        )
        # Without FIM the answer comes through the complete job's chat request: cut as the
        # editor's completion cuts it (fence, echo, end of the block).
        cutter = None
        if not backend.info.can_fill:
            indent = prefix.rsplit("\n", 1)[-1]
            cutter = BlockCutter(
                language=language, indent=indent, on_text=lambda _: None, prefix=prefix
            )
        try:
            # A held-out line ends at its newline: what comes after is the suffix's business.
            text = raw = ""
            for piece in stream:
                raw += piece
                if cutter is not None:
                    cutter.feed(piece)
                    text = cutter.sent
                else:
                    text = raw
                if cutter is not None and cutter.done:
                    break
                if lines == 1 and text.strip() and "\n" in text.lstrip("\n"):
                    break
        finally:
            stream.close()
        if cutter is not None:
            text = cutter.finish()
        middle = text.lstrip("\n").split("\n", 1)[0] if lines == 1 else text
        return Generated(
            middle, time.perf_counter() - started, stream.result.completion_tokens, raw
        )

    def reference(self, task: Task) -> str:
        """The held-out text itself."""
        return task.data["middle"]

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Exact match (ends of lines ignored) and edit similarity of the middle."""
        want, got = _norm(task.data["middle"]), _norm(completion)
        score = edit_similarity(want, got)
        passed = want == got
        return Verdict(passed, score, "exact" if passed else "differs", "" if passed else got)
