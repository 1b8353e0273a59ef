"""The review suite: does codenook's review job fix flawed files better than the bare model?

Each task is a small flawed Python file (:mod:`review_tasks`). The ``codenook`` side runs
the review job (ruff's findings first, the model's review, its diff applied all or
nothing); the ``bare`` side asks the model plainly for a diff. The completion is the file
after the edit (``""``: no edit that applies). A task passes when the edit applies, the
file parses, no more ruff findings are left than before (fewer, where ruff found any),
and the task's test passes in the sandbox.
"""

from __future__ import annotations

import ast
import functools
import threading
import time
import warnings

from codenook.assist.eval import jobside
from codenook.assist.eval.review_tasks import TASKS, ReviewTask
from codenook.assist.eval.tasks import Generated, Task, Verdict, clip
from codenook.assist.tools.lint import BROAD_RULES, ruff_findings
from codenook.assist.tools.sandbox import Ended, Language, Limits, run_code
from codenook.engine.backend import Backend, GenerationOptions

NAME = "review"
BARE_REQUEST = (
    "Review this Python file and fix its problems. Reply with the change as a unified "
    "diff against the file in one ```diff block.\n\n```python\n{source}```"
)


@functools.cache
def findings_before(task_id: str) -> int:
    """Ruff's findings on a task's flawed file (the review's rule set)."""
    return len(lint(_TASKS[task_id].source))


def lint(text: str) -> list[str]:
    """The codes of ruff's findings on ``text`` with the review's rule set."""
    return [f.code for f in ruff_findings(text, rules=BROAD_RULES, filename="task.py")]


def parses(text: str) -> bool:
    """Whether ``text`` is Python that parses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


def figures(task_id: str, completion: str) -> tuple[bool, int, int]:
    """(applied, ruff findings before, after) of an answer; no edit leaves them as they were."""
    before = findings_before(task_id)
    applied = bool(completion.strip()) and completion != _TASKS[task_id].source
    if not applied or not parses(completion):
        return applied, before, before
    return True, before, len(lint(completion))


_TASKS: dict[str, ReviewTask] = {t.id: t for t in TASKS}


class ReviewSuite(jobside.EditSuite):
    """Flawed files; codenook's review job or the bare model's diff; ruff and tests judge."""

    name = NAME
    task_list = TASKS
    description = f"review: {len(TASKS)} flawed Python files; diffs that apply and fix, vs bare"
    runs_code = True

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The file after this side's edit (``""`` when none applies)."""
        if self.side == "bare":
            solve = jobside.edit_solver(backend, options, original=source_of, request=bare_request)
            return solve(task)
        from codenook.assist.jobs.review import review

        started = time.perf_counter()
        r = review(
            self._private.session(backend, options),
            source=source_of(task),
            language="python",
            apply=True,
            context=False,
            on_text=jobside.ignore_text,
        )
        raw = r.answer.text if r.answer else ""
        new = r.text if r.applied and r.text is not None else ""
        return Generated(new, time.perf_counter() - started, jobside.tokens_of(r), raw)

    def reference(self, task: Task) -> str:
        """The fixed file."""
        return task.data["task"].fixed

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Applied, parses, fewer ruff findings (none more), and the task's test passes."""
        started = time.perf_counter()
        t: ReviewTask = task.data["task"]

        def verdict(passed: bool, outcome: str, detail: str = "") -> Verdict:
            seconds = time.perf_counter() - started
            return Verdict(passed, 1.0 if passed else 0.0, outcome, detail, seconds)

        if not completion.strip() or completion == t.source:
            return verdict(False, "no-change", "no edit that applies")
        if not parses(completion):
            return verdict(False, "syntax", "the edited file does not parse")
        before, after = findings_before(t.id), lint(completion)
        said = f"ruff {before} -> {len(after)} {' '.join(after)}".strip()
        if len(after) > before:
            return verdict(False, "worse", said)
        if before and len(after) == before:
            return verdict(False, "no-better", said)
        if t.test:
            result = run_code(
                f"{completion}\n\n{t.test}\n",
                language=Language.PYTHON,
                limits=limits,
                cancel=cancel,
                filename="task.py",
            )
            if result.ended is Ended.KILLED and cancel is not None and cancel.is_set():
                return verdict(False, "cancelled")
            if not (result.ended is Ended.EXIT and result.exit_code == 0):
                tail = clip(f"{result.detail}\n{result.stderr}".strip(), 1500)
                return verdict(False, "test-failed", f"{said}\n{tail}")
        return verdict(True, "passed", said)


def source_of(task: Task) -> str:
    """The flawed file a task starts from."""
    return task.data["task"].source


def bare_request(task: Task) -> str:
    """The plain request of the bare side."""
    return BARE_REQUEST.format(source=source_of(task))
