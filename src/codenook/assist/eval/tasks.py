"""What every evaluation suite shares: a task, a model's answer to it, and the verdict."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions
from codenook.errors import CodenookError

#: Stored detail of one verdict (the sandbox's output tail), so a row stays small.
DETAIL_CHARS = 2000


class EvalError(CodenookError):
    """An evaluation cannot run as asked (unknown suite or run, wrong model for a resume)."""


@dataclass(frozen=True)
class Task:
    """One task of a suite; ``data`` holds what the suite needs (prompt, tests, files)."""

    id: str
    suite: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Generated:
    """A completion for a task, and what producing it cost."""

    completion: str
    seconds: float = 0.0
    tokens: int = 0
    #: The model's whole answer where the completion was taken out of it.
    raw: str = ""


@dataclass(frozen=True)
class Verdict:
    """How a completion fared: pass or fail, a score in [0, 1], and why."""

    passed: bool
    score: float
    outcome: str
    detail: str = ""
    seconds: float = 0.0


class Suite(Protocol):
    """A set of tasks, a way to ask a model for each, and a check of the answers."""

    name: str
    description: str
    #: Whether checks run code (so they go through the sandbox, ``--jobs`` at once).
    runs_code: bool

    def tasks(self) -> list[Task]:
        """Every task of the suite, in a stable order."""
        ...

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The model's completion for ``task``."""
        ...

    def reference(self, task: Task) -> str:
        """A known-good completion (the honesty check: it must pass)."""
        ...

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Judge ``completion`` (running it in the sandbox where the suite runs code)."""
        ...


def clip(text: str, limit: int = DETAIL_CHARS) -> str:
    """``text`` cut to its last ``limit`` characters (the end of an output says most)."""
    return text if len(text) <= limit else "…" + text[-limit:]
