"""The one check of any code codenook writes, before it writes it.

Python must compile (``ast.parse``), Bash must pass ``bash -n`` (parse only, in a
subprocess with a time limit). Every path that writes code a model wrote (``complete
--apply``, ``gen --output``, ``doc --write``, ``review --apply``, the editor's accepted
completion) asks :func:`check_code` or goes through :func:`write_checked`: code that does
not parse is refused, kept aside as ``FILE.codenook-proposed``, and said in one line
that names the file and the error's line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codenook.assist.tools.language import normalise_language
from codenook.assist.tools.lint import LintError, bash_syntax_findings, python_syntax_finding
from codenook.errors import CodenookError
from codenook.safefile import PROPOSED_SUFFIX, keep_beside


@dataclass(frozen=True)
class ParseProblem:
    """Why code does not parse: the 1-based line and the parser's words."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class UnparsableCodeError(CodenookError):
    """Code to be written does not parse; nothing was written, the proposal went aside."""

    def __init__(
        self, message: str, *, path: Path | None, problem: ParseProblem, proposed: Path | None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.problem = problem
        self.proposed = proposed


def _problem(line: int, message: str) -> ParseProblem:
    # One line, whatever the tool printed: the message is said on one line.
    return ParseProblem(line, " ".join(message.split()))


def check_code(text: str, *, language: str) -> ParseProblem | None:
    """The first reason ``text`` does not parse as ``language``, or None when it parses."""
    if normalise_language(language) == "python":
        found = python_syntax_finding(text)
        return None if found is None else _problem(found.line, found.message)
    try:
        findings = bash_syntax_findings(text)
    except LintError as exc:  # no bash, or it hung: the code was not shown to parse
        return _problem(1, str(exc))
    return _problem(findings[0].line, findings[0].message) if findings else None


def breaks(new: str, *, language: str, old: str | None = None) -> ParseProblem | None:
    """Why writing ``new`` would leave code that does not parse, or None when it may be written.

    ``old`` is the text it replaces: an error the file had before, at the same place in
    lines the change did not write (the user's half-written code), is not held against
    the change; any other error is.
    """
    problem = check_code(new, language=language)
    if problem is None or old is None:
        return problem
    before = check_code(old, language=language)
    if before is None:
        return problem
    to_old = _line_map(old, new)
    line = to_old(problem.line)
    message = _LINE_REF.sub(lambda m: f"line {to_old(int(m[1]))}", problem.message)
    if line == before.line and message == before.message:
        return None  # the same error, at the same place, in lines the change left alone
    return problem


_LINE_REF = re.compile(r"\bline (\d+)")


def _line_map(old: str, new: str) -> Callable[[int], int | None]:
    """Maps a line of ``new`` to the same line of ``old`` (None: a line the change wrote)."""
    a, b = old.split("\n"), new.split("\n")
    same = min(len(a), len(b))
    head = 0
    while head < same and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < same - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1

    def to_old(n: int) -> int | None:
        if n <= head:
            return n
        if n > len(b) - tail:
            return n - (len(b) - len(a))
        return None

    return to_old


def refuse(path: str | Path | None, text: str, problem: ParseProblem) -> UnparsableCodeError:
    """The error for code that does not parse, its text kept as ``PATH.codenook-proposed``."""
    p = Path(path) if path is not None else None
    proposed = keep_beside(p, text.encode("utf-8"), PROPOSED_SUFFIX) if p is not None else None
    where = f"{p} was not written" if p is not None else "Not written"
    kept = f"; the proposal is kept as {proposed}" if proposed is not None else ""
    return UnparsableCodeError(
        f"{where}: the code would not parse ({problem}){kept}.",
        path=p,
        problem=problem,
        proposed=proposed,
    )


def ensure_parses(
    path: str | Path | None, new: str, *, language: str, old: str | None = None
) -> None:
    """Raise :class:`UnparsableCodeError` (the proposal kept aside) unless ``new`` may be
    written over ``old`` (see :func:`breaks`)."""
    problem = breaks(new, language=language, old=old)
    if problem is not None:
        raise refuse(path, new, problem)
