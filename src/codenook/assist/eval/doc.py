"""The doc suite: does codenook's doc job add docstrings and change nothing else?

Each task is a Python file with undocumented definitions (:mod:`doc_tasks`). The
``codenook`` side runs the document job (one short request per definition, the
docstrings inserted by the syntax tree); the ``bare`` side asks the model plainly for the
whole file with docstrings. The completion is the new file (``""``: none). It passes when
its syntax tree, docstrings taken out, is the original's, and the module and every
class, function and method has a docstring.
"""

from __future__ import annotations

import ast
import threading
import time
import warnings

from codenook.assist.eval import jobside
from codenook.assist.eval.doc_tasks import TASKS, DocTask
from codenook.assist.eval.tasks import Generated, Task, Verdict
from codenook.assist.tools.docstrings import insert_docstrings, missing_docstrings
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions

NAME = "doc"
BARE_REQUEST = (
    "Add a docstring to the module and to every class, function and method of this Python "
    "file. Change nothing else. Reply with the whole file in one ```python block.\n\n"
    "```python\n{source}```"
)


def without_docstrings(text: str) -> str | None:
    """The syntax tree of ``text`` with every docstring taken out, dumped (None: no parse)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def judge(original: str, completion: str) -> Verdict:
    """Only docstrings changed, and every definition has one."""
    if not completion.strip() or completion == original:
        return Verdict(False, 0.0, "no-change", "no new file")
    new = without_docstrings(completion)
    if new is None:
        return Verdict(False, 0.0, "syntax", "the new file does not parse")
    if new != without_docstrings(original):
        return Verdict(False, 0.0, "code-changed", "more than docstrings changed")
    missing = [t.name for t in missing_docstrings(completion)]
    if missing:
        return Verdict(False, 0.0, "missing", "no docstring: " + ", ".join(missing[:10]))
    return Verdict(True, 1.0, "passed")


class DocSuite(jobside.EditSuite):
    """Undocumented files; codenook's doc job or the bare model's whole file; the AST judges."""

    name = NAME
    task_list = TASKS
    description = f"doc: {len(TASKS)} files; only docstrings changed and every definition got one"
    runs_code = False

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The file as this side documented it (``""`` when there is none)."""
        if self.side == "bare":
            solve = jobside.edit_solver(
                backend, options, original=source_of, request=bare_request, apply=jobside.whole_file
            )
            return solve(task)
        from codenook.assist.jobs.document import document

        started = time.perf_counter()
        r = document(
            self._private.session(backend, options),
            source=source_of(task),
            language="python",
            on_text=jobside.ignore_text,
        )
        raw = "\n\n".join(a.text for a in r.answers)
        new = r.text if r.text is not None else ""
        return Generated(new, time.perf_counter() - started, jobside.tokens_of(r), raw)

    def reference(self, task: Task) -> str:
        """The file with a docstring for every definition, inserted by codenook's tools."""
        source = source_of(task)
        docs = {t.name: f"What {t.name} is for." for t in missing_docstrings(source)}
        return insert_docstrings(source, docs)

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Compare the syntax trees without docstrings; count the definitions without one."""
        started = time.perf_counter()
        v = judge(source_of(task), completion)
        return Verdict(v.passed, v.score, v.outcome, v.detail, time.perf_counter() - started)


def source_of(task: Task) -> str:
    """The undocumented file a task starts from."""
    task_data: DocTask = task.data["task"]
    return task_data.source


def bare_request(task: Task) -> str:
    """The plain request of the bare side."""
    return BARE_REQUEST.format(source=source_of(task))
