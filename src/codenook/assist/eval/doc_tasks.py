"""The doc suite's tasks: Python files whose definitions have no docstrings.

Most are two of the other suites' correct programs put together (a debug task's fixed
code and a review task's fixed file), so each has two or more definitions; a few hold
classes with methods. The module and every class, function and method must get a
docstring, and nothing but docstrings may change.
"""

from __future__ import annotations

from dataclasses import dataclass

from codenook.assist.eval.debug_tasks import TASKS as DEBUG_TASKS
from codenook.assist.eval.review_tasks import TASKS as REVIEW_TASKS


@dataclass(frozen=True)
class DocTask:
    """One file to document."""

    id: str
    source: str


def _t(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


_CLASSES: tuple[DocTask, ...] = (
    DocTask(
        "class-stack",
        _t(
            "class Stack:",
            "    def __init__(self):",
            "        self._items = []",
            "",
            "    def push(self, item):",
            "        self._items.append(item)",
            "",
            "    def pop(self):",
            "        if not self._items:",
            '            raise IndexError("pop from an empty stack")',
            "        return self._items.pop()",
            "",
            "    def __len__(self):",
            "        return len(self._items)",
        ),
    ),
    DocTask(
        "class-account",
        _t(
            "from dataclasses import dataclass, field",
            "",
            "",
            "@dataclass",
            "class Account:",
            "    owner: str",
            "    balance: float = 0.0",
            "    history: list = field(default_factory=list)",
            "",
            "    def deposit(self, amount):",
            "        if amount <= 0:",
            '            raise ValueError("amount must be positive")',
            "        self.balance += amount",
            '        self.history.append(("deposit", amount))',
            "",
            "    def withdraw(self, amount):",
            "        if amount > self.balance:",
            '            raise ValueError("insufficient funds")',
            "        self.balance -= amount",
            '        self.history.append(("withdraw", amount))',
            "",
            "",
            "def total_balance(accounts):",
            "    return sum(a.balance for a in accounts)",
        ),
    ),
)

TASKS: tuple[DocTask, ...] = (
    *(
        DocTask(f"{d.id}+{r.id}", f"{d.fixed}\n\n{r.fixed}")
        for d, r in zip(DEBUG_TASKS, REVIEW_TASKS, strict=False)
    ),
    *_CLASSES,
)
