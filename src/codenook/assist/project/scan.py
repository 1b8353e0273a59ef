"""Which files of a project folder are indexed: tracked by git, or not ignored, and readable.

A git work tree gives its tracked and untracked-but-not-ignored files (``git ls-files``);
any other folder is walked with its ``.gitignore`` files honoured (pathspec's gitignore
rules). Vendored folders, binary, minified and over-size files are skipped, and every
skip is counted under a reason, so the user sees what was left out instead of guessing.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

#: Largest file read; bigger ones are skipped (a 50 MB log is not documentation).
MAX_FILE_BYTES = 1_000_000
#: Files taken from one project at most.
MAX_FILES = 50_000
#: A line longer than this in a file whose lines average more than half of it: minified.
MINIFIED_LINE = 1000
GIT_TIMEOUT_S = 60.0

#: Folders of other people's code or of build output, never indexed.
VENDORED = frozenset(
    {
        "node_modules", "vendor", "vendored", "third_party", "site-packages", "dist-packages",
        ".venv", "venv", "env", ".tox", ".nox", "__pycache__", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".eggs", "build", "dist", ".git", ".hg", ".svn",
    }
)  # fmt: skip
SUFFIX_KINDS = {
    ".py": "python",
    ".pyi": "python",
    ".sh": "bash",
    ".bash": "bash",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".jsonl": "qa",
}


@dataclass(frozen=True)
class Candidate:
    """A file that may be indexed: where it is, what kind, and its stat."""

    path: Path
    rel: str
    kind: str | None  # None: decided by its first line (a shebang)
    size: int
    mtime_ns: int


@dataclass
class ScanReport:
    """How many files were found and, by reason, how many were left out."""

    skipped: Counter[str] = field(default_factory=Counter)
    #: A few examples per reason, for the message (paths relative to the root).
    examples: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, rel: str) -> None:
        """Count one file left out for ``reason``."""
        self.skipped[reason] += 1
        self.examples.setdefault(reason, [])
        if len(self.examples[reason]) < 3:
            self.examples[reason].append(rel)


def kind_of(name: str) -> str | None:
    """The kind a file name says, or None (maybe a script: its first line decides)."""
    suffix = os.path.splitext(name)[1].lower()
    if suffix in SUFFIX_KINDS:
        return SUFFIX_KINDS[suffix]
    if suffix == "" and name.upper().startswith(("README", "CHANGES", "NEWS")):
        return "text"
    return None if suffix == "" else "other"


def _git_files(root: Path) -> list[str] | None:
    """Tracked and not-ignored files of a git work tree at ``root``, or None if it is not one."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    try:
        proc = subprocess.run(
            [git, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    return sorted({n for n in names if n})


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = (folder / ".gitignore").read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _walk(root: Path, report: ScanReport) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` not ignored by a ``.gitignore``, symlinks followed inside it."""
    real_root = root.resolve()
    seen: set[tuple[int, int]] = set()
    # (folder, relative path, the .gitignore specs in force with the folder they came from)
    stack: list[tuple[Path, str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [(root, "", [])]
    while stack:
        folder, rel, specs = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            report.skip("vanished", rel or ".")
            continue
        if (st.st_dev, st.st_ino) in seen:
            report.skip("symlink_loop", rel)
            continue
        seen.add((st.st_dev, st.st_ino))
        spec = _ignore_spec(folder)
        if spec is not None:
            specs = [*specs, (rel, spec)]
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            report.skip("unreadable", rel or ".")
            continue
        subfolders = []
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                try:
                    target = Path(entry.path).resolve(strict=True)
                except RuntimeError:  # a link to itself, through any number of steps
                    report.skip("symlink_loop", child)
                    continue
                except OSError as exc:
                    loop = exc.errno == errno.ELOOP
                    report.skip("symlink_loop" if loop else "broken_link", child)
                    continue
                if not target.is_relative_to(real_root):
                    report.skip("outside_project", child)
                    continue
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = entry.is_file(follow_symlinks=True)
            except OSError:
                report.skip("unreadable", child)
                continue
            if _ignored(specs, child, is_dir):
                continue
            if is_dir:
                if entry.name in VENDORED or entry.name.endswith(".egg-info"):
                    report.skip("vendored", child)
                else:
                    subfolders.append((Path(entry.path), child, specs))
            elif is_file:
                yield Path(entry.path), child
        stack.extend(reversed(subfolders))


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], rel: str, is_dir: bool) -> bool:
    for base, spec in specs:
        sub = rel[len(base) + 1 :] if base else rel
        if spec.match_file(sub + "/" if is_dir else sub):
            return True
    return False


def candidates(root: Path, report: ScanReport) -> Iterator[Candidate]:
    """The files of ``root`` worth reading, with every other one counted in ``report``."""
    listed = _git_files(root)
    if listed is not None:
        pairs: Iterator[tuple[Path, str]] = ((root / n, n) for n in listed)
    else:
        pairs = _walk(root, report)
    taken = 0
    for path, rel in pairs:
        parts = rel.split("/")
        if any(p in VENDORED or p.endswith(".egg-info") for p in parts[:-1]):
            report.skip("vendored", rel)
            continue
        kind = kind_of(parts[-1])
        if kind == "other":
            report.skip("not_source", rel)
            continue
        try:
            st = path.stat()
        except FileNotFoundError:
            report.skip("vanished", rel)
            continue
        except OSError:
            report.skip("unreadable", rel)
            continue
        if not stat.S_ISREG(st.st_mode):
            report.skip("not_regular", rel)
            continue
        if st.st_size > MAX_FILE_BYTES:
            report.skip("too_large", rel)
            continue
        if taken >= MAX_FILES:
            report.skip("over_file_limit", rel)
            continue
        taken += 1
        yield Candidate(path, rel, kind, st.st_size, st.st_mtime_ns)


def looks_binary(data: bytes) -> bool:
    """A NUL byte near the start: not text."""
    return b"\0" in data[:8192]


def looks_minified(text: str) -> bool:
    """Very long lines that average long too: generated or minified, not for reading."""
    lines = text.split("\n")
    longest = max((len(x) for x in lines), default=0)
    return longest > MINIFIED_LINE and len(text) / max(len(lines), 1) > MINIFIED_LINE / 2
