"""Unified diffs: make one, find one in a model's answer, apply one all or nothing.

Applying is done by GNU ``patch``, the tool that has handled moved context, fuzz and
whitespace differences for decades, rather than by a hand-written matcher. It runs on
a copy in a temporary folder and writes to another file there; the caller's text is
only replaced when every hunk applied, so a diff is never half-applied.

Before ``patch`` sees it, the diff is rebuilt from its hunks alone (see
:func:`normalise_diff`): file names are dropped (``patch`` only ever touches the temp
copy), line counts in ``@@`` headers are recounted (models miscount them), and blank
lines inside a hunk become the empty context lines that editors strip.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from codenook.assist.tools.code_blocks import extract_code_blocks
from codenook.errors import CodenookError

PATCH_TIMEOUT_S = 30.0
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_HUNK_LOOSE = re.compile(r"^@@(?:\s.*)?$")
_FILE_HEADER = re.compile(r"^\+\+\+ (\S+)")
_NO_NEWLINE = "\\ No newline at end of file"


class DiffError(CodenookError):
    """A diff is malformed or does not apply; the text it was meant for is unchanged."""

    def __init__(self, message: str, *, failed_hunks: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.failed_hunks = failed_hunks


@dataclass(frozen=True)
class Hunk:
    """One hunk: where it claims to start in the old text, and its body lines."""

    old_start: int
    new_start: int
    lines: tuple[str, ...]

    @property
    def old_count(self) -> int:
        """Lines the hunk reads from the old text (context and removed)."""
        return sum(1 for ln in self.lines if ln[:1] in (" ", "-"))

    @property
    def new_count(self) -> int:
        """Lines the hunk leaves in the new text (context and added)."""
        return sum(1 for ln in self.lines if ln[:1] in (" ", "+"))

    def header(self) -> str:
        """The hunk's ``@@ -a,b +c,d @@`` line with counts taken from its body."""
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"

    def first_line(self) -> str:
        """The first old-side line, to name the hunk in a message."""
        for ln in self.lines:
            if ln[:1] in (" ", "-") and ln[1:].strip():
                return ln[1:].strip()
        return ""


@dataclass(frozen=True)
class HunkReport:
    """How one hunk applied: at which line, moved by how many lines, with what fuzz."""

    number: int
    line: int
    offset: int = 0
    fuzz: int = 0


@dataclass(frozen=True)
class Applied:
    """The changed text and, for hunks that did not apply exactly, how they applied."""

    text: str
    inexact: list[HunkReport] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        """Whether every hunk applied where it said, with all its context."""
        return not self.inexact


def _split_lines(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def parse_hunks(diff: str, *, text: str | None = None) -> list[Hunk]:
    """The hunks of a unified diff, tolerant of the ways models get the format wrong."""
    lines = diff.replace("\r\n", "\n").split("\n")
    targets: set[str] = set()
    hunks: list[Hunk] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m_file = _FILE_HEADER.match(line)
        if m_file and i > 0 and lines[i - 1].startswith("--- "):
            name = m_file.group(1)
            targets.add(re.sub(r"^[ab]/", "", name))
            i += 1
            continue
        m = _HUNK.match(line)
        if m is None and not _HUNK_LOOSE.match(line):
            i += 1
            continue
        body: list[str] = []
        i += 1
        while i < len(lines):
            ln = lines[i]
            if _HUNK.match(ln) or _HUNK_LOOSE.match(ln) or ln.startswith("diff "):
                break
            if ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
                break
            if ln == "":
                body.append(" ")  # an empty context line whose leading space was stripped
            elif ln[0] in " +-\\":
                body.append(ln)
            else:
                break  # prose after the diff
            i += 1
        while body and body[-1] == " ":
            body.pop()  # the blank lines that end a diff are not context
        if m is not None:
            old_start, new_start = int(m.group(1)), int(m.group(3))
        else:
            old_start = _guess_start(body, text)
            new_start = old_start
        if any(b[:1] in "+-" for b in body):
            hunks.append(Hunk(old_start, new_start, tuple(body)))
    if len(targets) > 1:
        names = ", ".join(sorted(targets))
        raise DiffError(f"The diff changes {len(targets)} files ({names}); give one file's diff.")
    return hunks


def _guess_start(body: list[str], text: str | None) -> int:
    """Where a hunk without line numbers starts: its old lines' first match, else line 1."""
    if text is None:
        return 1
    old = [b[1:] for b in body if b[:1] in (" ", "-")]
    if not old:
        return 1
    lines = [ln.rstrip("\n") for ln in _split_lines(text)]
    for n in range(len(lines) - len(old) + 1):
        if lines[n : n + len(old)] == old:
            return n + 1
    return 1


def normalise_diff(diff: str, *, text: str | None = None) -> str:
    """The diff rebuilt from its hunks, with one neutral file header and recounted ``@@``."""
    hunks = parse_hunks(diff, text=text)
    if not hunks:
        raise DiffError("The diff has no hunks (no @@ lines with changes); nothing to apply.")
    out = ["--- original", "+++ original"]
    for h in hunks:
        out.append(h.header())
        out.extend(h.lines)
    return "\n".join(out) + "\n"


_SUCCEEDED = re.compile(
    r"^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?(?: \(offset (-?\d+) lines?\))?\."
)
_FAILED = re.compile(r"^Hunk #(\d+) FAILED at (\d+)")


def parse_patch_output(output: str) -> tuple[list[HunkReport], list[tuple[int, int]]]:
    """From GNU patch's messages: hunks applied inexactly, and (hunk, line) of failures."""
    inexact, failed = [], []
    for line in output.splitlines():
        if m := _SUCCEEDED.match(line):
            n, at, fuzz, off = m.groups()
            inexact.append(HunkReport(int(n), int(at), int(off or 0), int(fuzz or 0)))
        elif m := _FAILED.match(line):
            failed.append((int(m.group(1)), int(m.group(2))))
    return inexact, failed


def patch_binary() -> str:
    """The path of GNU patch."""
    found = shutil.which("patch")
    if found is None:
        raise DiffError("GNU patch is not installed; install it (apt-get install patch).")
    return found


def apply_diff(
    text: str, diff: str, *, fuzz: int = 2, ignore_whitespace: bool = True, name: str = "the file"
) -> Applied:
    """Apply a unified diff to ``text``: every hunk, or none (raises :class:`DiffError`)."""
    # A CRLF file is patched as LF and turned back; a file with mixed endings is left as
    # it is, so that its LF lines do not silently become CRLF.
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    base = text.replace("\r\n", "\n") if crlf else text
    hunks = parse_hunks(diff, text=base)
    normal = normalise_diff(diff, text=base)
    argv = [
        patch_binary(),
        "--batch",
        "--forward",
        "--unified",
        f"--fuzz={max(fuzz, 0)}",
        "--no-backup-if-mismatch",
        "--reject-file=-",
        "--output=result",
        "--input=change.diff",
    ]
    if ignore_whitespace:
        argv.append("--ignore-whitespace")
    argv.append("original")
    with tempfile.TemporaryDirectory(prefix="codenook-patch-") as tmp:
        folder = Path(tmp)
        (folder / "original").write_bytes(base.encode("utf-8"))
        (folder / "change.diff").write_bytes(normal.encode("utf-8"))
        # English messages, which parse_patch_output reads; GNU behaviour, not POSIX.
        env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"}
        try:
            proc = subprocess.run(
                argv,
                cwd=folder,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=PATCH_TIMEOUT_S,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            msg = f"patch took over {PATCH_TIMEOUT_S:g} s on {name}; nothing was changed."
            raise DiffError(msg) from None
        output = proc.stdout + proc.stderr
        inexact, failed = parse_patch_output(output)
        if proc.returncode != 0 or failed:
            raise DiffError(
                _failure_message(output, failed, hunks, name), failed_hunks=_nums(failed)
            )
        result = (folder / "result").read_bytes().decode("utf-8")
    if crlf:
        result = result.replace("\n", "\r\n")
    return Applied(result, inexact)


def _nums(failed: list[tuple[int, int]]) -> tuple[int, ...]:
    return tuple(n for n, _ in failed)


def _failure_message(
    output: str, failed: list[tuple[int, int]], hunks: list[Hunk], name: str
) -> str:
    total = len(hunks)
    if failed:
        parts = []
        for n, at in failed:
            first = hunks[n - 1].first_line() if 0 < n <= total else ""
            what = f" (starting {first[:60]!r})" if first else ""
            parts.append(f"hunk {n} of {total}{what} does not match {name} near line {at}")
        return "The diff does not apply: " + "; ".join(parts) + ". Nothing was changed."
    if "Reversed (or previously applied) patch detected" in output:
        return "The diff seems to be applied already (or reversed); nothing was changed."
    detail = next((ln for ln in output.splitlines() if "****" in ln), output.strip()[:200])
    detail = detail.replace("patch: **** ", "")
    return f"The diff cannot be applied to {name} ({detail}); nothing was changed."


def make_diff(old: str, new: str, name: str, *, context: int = 3) -> str:
    """A unified diff from ``old`` to ``new`` with ``a/NAME`` and ``b/NAME`` headers."""
    out = []
    for line in difflib.unified_diff(
        _split_lines(old), _split_lines(new), f"a/{name}", f"b/{name}", n=context
    ):
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a text that does not end with a newline
            out.append(line + "\n" + _NO_NEWLINE + "\n")
    return "".join(out)


_DIFF_LABELS = {"diff", "patch", "udiff"}


def extract_diff(markdown: str) -> str | None:
    """The unified diff in a model's answer: a ```diff block, a block of hunks, or raw text."""
    blocks = extract_code_blocks(markdown)
    for b in blocks:
        if b.language in _DIFF_LABELS and b.code.strip():
            return b.code
    for b in blocks:
        if re.search(r"^@@", b.code, re.MULTILINE) and re.search(r"^[+-]", b.code, re.MULTILINE):
            return b.code
    return _raw_diff(markdown)


def _raw_diff(text: str) -> str | None:
    lines = text.replace("\r\n", "\n").split("\n")
    start = None
    for i, ln in enumerate(lines):
        header = ln.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
        if header or _HUNK.match(ln):
            start = i
            break
    if start is None:
        return None
    end = start
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln == "" or ln[0] in " +-@\\" or ln.startswith(("diff ", "index ")):
            if ln != "":
                end = i + 1
            continue
        break
    return "\n".join(lines[start:end]) + "\n"
