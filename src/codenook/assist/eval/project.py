"""The project suite: 20 questions about a known repository, grounded or not.

Each question's answer lives in one known file and definition of the fixture repository
(``tests/assist/project/fixture_repo``, a small stock-keeping service). The model is
asked the question with the passages the ask job would add (``for_question``, within the
context left after the question and the answer's room) or, with ``--no-context``, bare.
An answer passes when it names the right file or the right function; its score is half
for each of the two it names. The repository is indexed into a private, throwaway
database, so a run never touches the user's own projects.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from codenook.assist.budget import answer_room
from codenook.assist.eval.tasks import EvalError, Generated, Task, Verdict
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import Backend, GenerationOptions, Message

NAME = "project"
SYSTEM = (
    "You are a coding assistant who knows the user's project. Answer in two or three "
    "sentences and name the file and the function that do what is asked."
)
REQUEST = "Question about my project: {question}\nName the file and the function."
#: (id, question, file, function): the answers the fixture repository holds.
QUESTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("config-load", "How is the TOML settings file read?", "stockroom/config.py", "load_config"),
    (
        "config-env",
        "Which environment variables override the port and the database path?",
        "stockroom/config.py",
        "apply_environment",
    ),
    (
        "db-connect",
        "How do I open the database with foreign keys switched on?",
        "stockroom/db.py",
        "connect",
    ),
    ("db-migrate", "Where are the missing tables created?", "stockroom/db.py", "migrate"),
    (
        "db-add",
        "How do I add a new item to stock, or raise its quantity when it exists?",
        "stockroom/db.py",
        "add_item",
    ),
    (
        "db-remove",
        "What stops the stock of an item from going below zero?",
        "stockroom/db.py",
        "remove_item",
    ),
    ("db-find", "Look up an item by its SKU", "stockroom/db.py", "find_by_sku"),
    (
        "db-movement",
        "Where is each stock movement appended to the audit table?",
        "stockroom/db.py",
        "record_movement",
    ),
    (
        "db-low",
        "Which items need to be reordered because their quantity is low?",
        "stockroom/db.py",
        "low_stock",
    ),
    (
        "price-round",
        "How are amounts rounded to whole cents?",
        "stockroom/pricing.py",
        "round_currency",
    ),
    (
        "price-discount",
        "Apply a percentage discount to a price",
        "stockroom/pricing.py",
        "apply_discount",
    ),
    (
        "price-tax",
        "How is the VAT on a net amount computed?",
        "stockroom/pricing.py",
        "compute_tax",
    ),
    (
        "price-gross",
        "What does the customer pay in the end, with discount and tax?",
        "stockroom/pricing.py",
        "gross_price",
    ),
    ("export-csv", "Write the stock list out as CSV rows", "stockroom/export.py", "export_csv"),
    ("export-json", "Export all items to a JSON file", "stockroom/export.py", "export_json"),
    ("auth-hash", "How are staff passwords hashed?", "stockroom/auth.py", "hash_password"),
    (
        "auth-verify",
        "Check a password against the stored hash in constant time",
        "stockroom/auth.py",
        "verify_password",
    ),
    (
        "cli-args",
        "Which subcommands and options does the command line accept?",
        "stockroom/cli.py",
        "parse_args",
    ),
    (
        "backup-rotate",
        "How many backups are kept, and how are the older ones deleted?",
        "scripts/backup.sh",
        "rotate_backups",
    ),
    (
        "deploy-health",
        "How does the deploy script wait until the service answers its health endpoint?",
        "scripts/deploy.sh",
        "check_health",
    ),
)


def default_repo() -> Path | None:
    """The fixture repository of a source checkout, where there is one."""
    here = Path(__file__).resolve()
    for up in here.parents:
        candidate = up / "tests" / "assist" / "project" / "fixture_repo"
        if candidate.is_dir():
            return candidate
    return None


def names_file(answer: str, path: str) -> bool:
    """Whether ``answer`` names the file ``path`` (its base name is enough)."""
    base = re.escape(Path(path).name)
    return re.search(rf"(?<![\w.-]){base}(?![\w-])", answer) is not None


def names_function(answer: str, function: str) -> bool:
    """Whether ``answer`` names ``function`` as a whole word."""
    return re.search(rf"(?<![\w]){re.escape(function)}(?!\w)", answer) is not None


def judge(answer: str, path: str, function: str) -> Verdict:
    """Pass when the answer names the file or the function; half the score for each."""
    got_file, got_function = names_file(answer, path), names_function(answer, function)
    score = (got_file + got_function) / 2
    passed = got_file or got_function
    if got_file and got_function:
        outcome = "both"
    elif passed:
        outcome = "file" if got_file else "function"
    else:
        outcome = "wrong"
    detail = "" if got_file and got_function else f"expected {path} / {function}"
    return Verdict(passed, score, outcome, detail)


class ProjectSuite:
    """Questions about a repository's own code, answered with or without its passages."""

    name = NAME
    description = "20 questions about a known repository; scored on naming the file/function"
    runs_code = False

    def __init__(self, repo: Path | None = None, *, context: bool = True) -> None:
        found = repo or default_repo()
        if found is None or not (found / QUESTIONS[0][2]).is_file():
            raise EvalError(
                "The project suite asks about the fixture repository: give "
                "--repo tests/assist/project/fixture_repo (of codenook's source)."
            )
        self.repo = found.resolve()
        self.context = context
        self._index: tuple[Any, Any, Path] | None = None

    def tasks(self) -> list[Task]:
        """The 20 questions, in a stable order."""
        return [
            Task(qid, NAME, {"question": q, "file": f, "function": fn})
            for qid, q, f, fn in QUESTIONS
        ]

    def _indexed(self) -> tuple[Any, Any]:
        """A private database with one user who has the repository indexed (built once)."""
        if self._index is None:
            from codenook.assist.project import index
            from codenook.auth import Auth
            from codenook.store.db import open_database

            folder = Path(tempfile.mkdtemp(prefix="codenook-eval-project-"))
            db = open_database(folder / "eval.db")
            user = Auth(db).create_user("evaluator", secrets.token_urlsafe(16))
            index.add(db, user, self.repo, name="fixture")
            self._index = (db, user, folder)
        db, user, _ = self._index
        return db, user

    def request(self, backend: Backend, question: str, options: GenerationOptions) -> str:
        """The question as the model gets it: with the ask job's passages when grounded."""
        request = REQUEST.format(question=question)
        if not self.context:
            return request
        from codenook.assist.project import grounding

        db, user = self._indexed()
        info = backend.info
        used = backend.count_prompt([Message("system", SYSTEM), Message("user", request)])
        room = info.context_length - answer_room(info.context_length, options.max_tokens)
        budget = max(0, room - used - grounding.MARGIN)
        ctx = grounding.for_question(
            db, user, question, count_tokens=backend.count_tokens, budget=budget
        )
        return grounding.with_context(request, ctx)

    def ask(self, backend: Backend, task: Task, options: GenerationOptions) -> Generated:
        """The model's answer to the question (the whole text is judged)."""
        started = time.perf_counter()
        request = self.request(backend, task.data["question"], options)
        stream = backend.stream_chat(
            [Message("system", SYSTEM), Message("user", request)], options=options
        )
        try:
            answer = "".join(stream)
        finally:
            stream.close()
        seconds = time.perf_counter() - started
        return Generated(answer, seconds, stream.result.completion_tokens, answer)

    def reference(self, task: Task) -> str:
        """A right answer: the file and the function."""
        return f"See {task.data['function']} in {task.data['file']}."

    def check(
        self, task: Task, completion: str, *, limits: Limits, cancel: threading.Event | None
    ) -> Verdict:
        """Whether the answer names the right file or function (no code runs)."""
        return judge(completion, task.data["file"], task.data["function"])

    def close(self) -> None:
        """Drop the private database."""
        if self._index is not None:
            db, _, folder = self._index
            db.close()
            shutil.rmtree(folder, ignore_errors=True)
            self._index = None
