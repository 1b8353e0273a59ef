"""The Bash suite: a request in words for a prepared folder; the answer runs in the sandbox.

One Bash program does it all inside the sandbox: it lays out the task's folder, runs the
answer there (its output kept in a file), and then runs the check. The program is one
function read whole before it starts, so an answer that rewrites or deletes the program's
file cannot change the check; whatever the answer does stays in the sandbox.
"""

from __future__ import annotations

import base64
import shlex
import threading
import time

from codenook.assist.eval.asking import chat_code
from codenook.assist.eval.bash_tasks import TASKS, BashTask
from codenook.assist.eval.tasks import Generated, Task, Verdict, clip
from codenook.assist.tools.sandbox import Ended, Language, Limits, run_code
from codenook.engine.backend import Backend, GenerationOptions

SYSTEM = "You are an expert in Bash on Linux. You reply with a correct script only."
REQUEST = (
    "Write a Bash script that does this, run in the current folder:\n\n{request}\n\n"
    "The current folder holds:\n{listing}\n\n"
    "Reply with only the script, in one ```bash code block."
)
PASS_MARK = "codenook-eval: passed"
#: Lines of each file shown to the model (enough to see a file's format).
SHOWN_LINES = 3

_HELPERS = """\
_norm() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$1"; }
out_is() { [ "$(_norm "$OUT")" = "$1" ]; }
out_lines_are() { [ "$(_norm "$OUT" | sort)" = "$(printf '%s\\n' "$1" | sort)" ]; }
file_is() { [ -f "$1" ] && [ "$(cat -- "$1")" = "$2" ]; }
"""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def program(task: BashTask, answer: str) -> str:
    """The sandbox program: lay out the folder, run ``answer`` there, then the check."""
    lines = [
        "codenook_eval() {",
        'base="$PWD"',
        "mkdir task && cd task || exit 90",
    ]
    for path, content in task.files.items():
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        if folder:
            lines.append(f"mkdir -p {shlex.quote(folder)}")
        lines.append(f"printf %s {_b64(content)} | base64 -d > {shlex.quote(path)}")
    if task.setup:
        lines.append(f"{{ {task.setup}\n}} >/dev/null 2>&1")
    lines += [
        f'printf %s {_b64(answer)} | base64 -d > "$base/answer.sh"',
        'OUT="$base/out.txt"',
        '( bash "$base/answer.sh" ) >"$OUT" 2>"$base/err.txt" </dev/null',
        "STATUS=$?",
        'cd "$base/task" 2>/dev/null || { echo "the task folder is gone"; exit 1; }',
        _HELPERS,
        f"if ( {task.check}\n) >/dev/null 2>&1; then echo {shlex.quote(PASS_MARK)}; exit 0; fi",
        'echo "check failed; exit status $STATUS; output:"; head -c 1500 "$OUT"',
        'echo "stderr:"; head -c 1500 "$base/err.txt"',
        "exit 1",
        "}",
        'codenook_eval "$@"',
        "exit $?",
    ]
    return "\n".join(lines) + "\n"


def listing(task: BashTask) -> str:
    """The folder as the model is told about it: each file with its first lines."""
    if not task.files:
        return "(nothing: the folder is empty)"
    out = []
    for path, content in sorted(task.files.items()):
        lines = content.splitlines()
        head = "\n".join(f"    {ln[:120]}" for ln in lines[:SHOWN_LINES])
        more = (
            f"\n    … ({len(lines) - SHOWN_LINES} more lines)" if len(lines) > SHOWN_LINES else ""
        )
        out.append(f"- {path}" + (f":\n{head}{more}" if head else " (empty)"))
    if task.setup:
        out.append("(and what this prepared: " + task.setup.split(";")[0].strip()[:80] + " …)")
    return "\n".join(out)


class BashSuite:
    """The Bash suite: tasks written for codenook, each checked in the sandbox."""

    name = "bash"
    description = (
        f"Bash: {len(TASKS)} requests in words on a prepared folder, checked in the sandbox"
    )
    runs_code = True

    def tasks(self) -> list[Task]:
        """Every Bash task, in a stable order."""
        return [Task(t.id, self.name, {"task": t}) for t in TASKS]

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The model's script for the request."""
        t: BashTask = task.data["task"]
        code, answer, seconds, tokens = chat_code(
            backend,
            system=SYSTEM,
            request=REQUEST.format(request=t.request, listing=listing(t)),
            language="bash",
            options=options,
        )
        return Generated(code, seconds, tokens, answer)

    def reference(self, task: Task) -> str:
        """The task's known-good script."""
        return task.data["task"].solution + "\n"

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Run the answer in the task's folder in the sandbox, then the task's check."""
        started = time.perf_counter()
        result = run_code(
            program(task.data["task"], completion),
            language=Language.BASH,
            limits=limits,
            cancel=cancel,
            filename="eval.sh",
        )
        seconds = time.perf_counter() - started
        if result.ended is Ended.KILLED and cancel is not None and cancel.is_set():
            return Verdict(False, 0.0, "cancelled", "", seconds)
        passed = (
            result.ended is Ended.EXIT
            and result.exit_code == 0
            and result.stdout.strip().endswith(PASS_MARK)
        )
        if passed:
            return Verdict(True, 1.0, "passed", "", seconds)
        outcome = "wrong" if result.ended is Ended.EXIT else str(result.ended)
        detail = clip(f"{result.detail}\n{result.stdout}\n{result.stderr}".strip())
        return Verdict(False, 0.0, outcome, detail, seconds)
