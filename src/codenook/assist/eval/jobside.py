"""What the job suites share: the two sides, a private session for codenook's jobs, edits.

A job suite answers each task twice over, in two runs on the same tasks: the ``codenook``
side runs the job itself (its prompt, checks, repair, diff handling), the ``bare`` side
asks the model plainly once. ``eval compare`` then pairs the two runs task by task.

The answer side is pluggable: a suite's :meth:`ask` is one solver, and any callable
``Task -> Generated`` is another (:data:`codenook.assist.eval.runner.Solver`). For the
edit suites (review, debug, doc) a solver's completion is the whole file as changed, or
``""`` when its answer held no change that applies; :func:`edit_solver` builds one from a
prompt and an applier, so other answer formats (search/replace blocks, whole functions)
are measured by the same checks.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from codenook.assist.eval.asking import chat_code
from codenook.assist.eval.tasks import EvalError, Generated, Task
from codenook.assist.tools.diffs import DiffError, apply_diff, extract_diff
from codenook.engine.backend import Backend, GenerationOptions, Message

#: The sides a job suite runs: codenook's job, or the model asked plainly.
SIDES = ("codenook", "bare")
BARE_SYSTEM = "You are an expert Python programmer."


def check_side(side: str) -> str:
    """``side`` when it is one of :data:`SIDES`, else a clear error."""
    if side not in SIDES:
        raise EvalError(f"Unknown side {side!r}; the sides are: {', '.join(SIDES)}.")
    return side


class PrivateSession:
    """A throwaway database with one user, for the jobs' conversations during a run.

    A run never writes into the user's own history; :meth:`close` deletes it all.
    """

    def __init__(self) -> None:
        self._made: tuple[Any, Any, Path] | None = None
        self._lock = threading.Lock()

    def session(self, backend: Backend, options: GenerationOptions) -> Any:
        """A new chat session (a new conversation) in the private database."""
        from codenook.assist.session import ChatSession

        with self._lock:
            if self._made is None:
                from codenook.auth import Auth
                from codenook.store.db import open_database

                folder = Path(tempfile.mkdtemp(prefix="codenook-eval-jobs-"))
                db = open_database(folder / "eval.db")
                user = Auth(db).create_user("evaluator", secrets.token_urlsafe(16))
                self._made = (db, user, folder)
            db, user, _ = self._made
        return ChatSession(db, user, backend, options)

    def folder(self) -> Path:
        """A fresh folder to write a task's file into."""
        return Path(tempfile.mkdtemp(prefix="codenook-eval-file-"))

    def close(self) -> None:
        """Drop the private database."""
        with self._lock:
            if self._made is not None:
                db, _, folder = self._made
                with contextlib.suppress(sqlite3.ProgrammingError):
                    db.close()  # made in another thread: the file goes anyway
                shutil.rmtree(folder, ignore_errors=True)
                self._made = None


class EditSuite:
    """What the edit suites (review, debug, doc) share: the side, the private session in
    which codenook's side runs its job, the task list and closing.

    A subclass sets :attr:`name` and :attr:`task_list` (records with an ``id``) and
    writes its own ``ask``, ``reference`` and ``check``.
    """

    name: str = ""
    task_list: Sequence[Any] = ()

    def __init__(self, side: str = "codenook") -> None:
        self.side = check_side(side)
        self._private = PrivateSession()

    def tasks(self) -> list[Task]:
        """Every task, in a stable order."""
        return [Task(t.id, self.name, {"task": t}) for t in self.task_list]

    def close(self) -> None:
        """Drop the private session's database."""
        self._private.close()


def ignore_text(_: str) -> None:
    """An ``on_text`` that shows nothing (the run's progress says enough)."""


def apply_unified_diff(original: str, answer: str) -> str | None:
    """The file after the answer's unified diff, or None when there is none that applies."""
    diff = extract_diff(answer)
    if diff is None:
        return None
    try:
        return apply_diff(original, diff, name="task.py").text
    except DiffError:
        return None


def whole_file(original: str, answer: str) -> str | None:
    """The answer's Python code block taken as the whole new file (None: no code)."""
    from codenook.assist.eval.asking import code_of

    code = code_of(answer, "python")
    return code if code.strip() else None


Applier = Callable[[str, str], "str | None"]
#: Builds the plain request for a task from its file's text.
Prompter = Callable[[Task], str]


def edit_solver(
    backend: Backend,
    options: GenerationOptions,
    *,
    original: Callable[[Task], str],
    request: Prompter,
    apply: Applier = apply_unified_diff,
    system: str = BARE_SYSTEM,
) -> Callable[[Task], Generated]:
    """A solver that asks ``request(task)`` once and applies the answer with ``apply``.

    The completion is the changed file, or ``""`` when the answer has no edit that applies
    (so it fails, as an empty answer must).
    """

    def solve(task: Task) -> Generated:
        started = time.perf_counter()
        stream = backend.stream_chat(
            [Message("system", system), Message("user", request(task))], options=options
        )
        try:
            answer = "".join(stream)
        finally:
            stream.close()
        seconds = time.perf_counter() - started
        new = apply(original(task), answer)
        return Generated(new or "", seconds, stream.result.completion_tokens, answer)

    return solve


def ask_code(backend: Backend, request: str, options: GenerationOptions) -> Generated:
    """The model asked plainly for Python code (the bare side of ``gen``)."""
    code, answer, seconds, tokens = chat_code(
        backend, system=BARE_SYSTEM, request=request, language="python", options=options
    )
    return Generated(code, seconds, tokens, answer)


def tokens_of(result: Any) -> int:
    """Tokens a job's answers took, all together."""
    return sum(a.result.completion_tokens for a in result.answers)
