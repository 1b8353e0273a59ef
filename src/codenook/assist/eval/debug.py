"""The debug suite: does ``debug --verify`` fix buggy programs better than the bare model?

Each task is a small buggy Python program whose own tests fail (:mod:`debug_tasks`). The
``codenook`` side runs the debug job with ``verify``: the file runs in the sandbox, the
model sees the real error, and its diff is applied to a copy that runs again. The
``bare`` side asks the model plainly for a fix as a diff, with the code and no error. The
completion is the fixed file (``""``: no fix that applies); it passes when it runs in
the sandbox with the task's tests appended again and exits 0.
"""

from __future__ import annotations

import shutil
import threading
import time

from codenook.assist.eval import jobside
from codenook.assist.eval.debug_tasks import TASKS, DebugTask
from codenook.assist.eval.review import parses
from codenook.assist.eval.tasks import Generated, Task, Verdict, clip
from codenook.assist.tools.sandbox import Ended, Language, Limits, run_code
from codenook.engine.backend import Backend, GenerationOptions

NAME = "debug"
BARE_REQUEST = (
    "This Python program fails its tests. Find the bug and fix it. Reply with the fix as a "
    "unified diff against the file in one ```diff block.\n\n```python\n{source}```"
)
#: The job's own sandbox run of a task's file, seconds.
JOB_TIMEOUT = 10.0


def program(task: DebugTask, completion: str) -> str:
    """What the check runs: the answer, then the task's tests again."""
    return f"{completion}\n\n# The task's own tests, again.\n{task.tests}"


class DebugSuite(jobside.EditSuite):
    """Buggy programs with tests; ``debug --verify`` or the bare model's fix; tests judge."""

    name = NAME
    task_list = TASKS
    description = f"debug: {len(TASKS)} buggy programs with tests; fixes that pass, vs bare"
    runs_code = True

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The program after this side's fix (``""`` when none applies)."""
        if self.side == "bare":
            solve = jobside.edit_solver(backend, options, original=source_of, request=bare_request)
            return solve(task)
        from codenook.assist.jobs.debug import debug

        t: DebugTask = task.data["task"]
        folder = self._private.folder()
        path = folder / (t.id.replace("-", "_") + ".py")
        path.write_text(t.source, encoding="utf-8")
        started = time.perf_counter()
        try:
            r = debug(
                self._private.session(backend, options),
                path=path,
                language="python",
                verify=True,
                limits=Limits(timeout=JOB_TIMEOUT),
                context=False,
                on_text=jobside.ignore_text,
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        raw = r.answer.text if r.answer else ""
        new = r.text if r.text is not None else ""
        return Generated(new, time.perf_counter() - started, jobside.tokens_of(r), raw)

    def reference(self, task: Task) -> str:
        """The program with its bug fixed."""
        return task.data["task"].fixed_source

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Run the fixed program with the task's tests appended in the sandbox."""
        started = time.perf_counter()
        t: DebugTask = task.data["task"]
        if not completion.strip() or completion == t.source:
            return Verdict(False, 0.0, "no-change", "no fix that applies")
        if not parses(completion):
            return Verdict(False, 0.0, "syntax", "the fixed file does not parse")
        result = run_code(
            program(t, completion),
            language=Language.PYTHON,
            limits=limits,
            cancel=cancel,
            filename="task.py",
        )
        seconds = time.perf_counter() - started
        if result.ended is Ended.KILLED and cancel is not None and cancel.is_set():
            return Verdict(False, 0.0, "cancelled", "", seconds)
        if result.ended is Ended.EXIT and result.exit_code == 0:
            return Verdict(True, 1.0, "passed", "", seconds)
        outcome = "wrong" if result.ended is Ended.EXIT else str(result.ended)
        detail = clip(f"{result.detail}\n{result.stderr}".strip())
        return Verdict(False, 0.0, outcome, detail, seconds)


def source_of(task: Task) -> str:
    """The buggy file a task starts from."""
    return task.data["task"].source


def bare_request(task: Task) -> str:
    """The plain request of the bare side."""
    return BARE_REQUEST.format(source=source_of(task))
