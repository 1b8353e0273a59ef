"""The review suite's tasks: small Python files with real flaws, written for codenook.

Each file has flaws that ruff (with the review's rule set) or a test finds: unused
imports, mutable defaults, bare ``except``, ``== None``, an off-by-one that a test shows.
``fixed`` is a known-good version (the honesty check: it must pass), and ``test``, where
there is one, is Python run after the file in the sandbox: it guards the behaviour a
change must keep, or shows the bug a linter cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReviewTask:
    """One flawed file, its fixed version, and the test its behaviour must pass."""

    id: str
    source: str
    fixed: str
    test: str = ""


def _t(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


TASKS: tuple[ReviewTask, ...] = (
    ReviewTask(
        "unused-imports",
        _t("import os", "import sys", "", "", "def greet(name):", '    return "Hello, " + name'),
        _t("def greet(name):", '    return "Hello, " + name'),
        'assert greet("Ann") == "Hello, Ann"',
    ),
    ReviewTask(
        "mutable-default",
        _t("def add_item(item, items=[]):", "    items.append(item)", "    return items"),
        _t(
            "def add_item(item, items=None):",
            "    if items is None:",
            "        items = []",
            "    items.append(item)",
            "    return items",
        ),
        _t("assert add_item(1) == [1]", "assert add_item(2) == [2]"),
    ),
    ReviewTask(
        "bare-except",
        _t(
            "def to_int(text):",
            "    try:",
            "        return int(text)",
            "    except:",
            "        return None",
        ),
        _t(
            "def to_int(text):",
            "    try:",
            "        return int(text)",
            "    except ValueError:",
            "        return None",
        ),
        _t('assert to_int("3") == 3', 'assert to_int("x") is None'),
    ),
    ReviewTask(
        "none-compare",
        _t(
            "def describe(value):",
            "    if value == None:",
            '        return "nothing"',
            '    return "something"',
        ),
        _t(
            "def describe(value):",
            "    if value is None:",
            '        return "nothing"',
            '    return "something"',
        ),
        _t('assert describe(None) == "nothing"', 'assert describe(0) == "something"'),
    ),
    ReviewTask(
        "true-compare",
        _t(
            "def status(active):",
            "    if active == True:",
            '        return "on"',
            "    else:",
            '        return "off"',
        ),
        _t("def status(active):", '    return "on" if active else "off"'),
        _t('assert status(True) == "on"', 'assert status(False) == "off"'),
    ),
    ReviewTask(
        "unused-variable",
        _t(
            "def area(width, height):",
            "    perimeter = 2 * (width + height)",
            "    return width * height",
        ),
        _t("def area(width, height):", "    return width * height"),
        "assert area(3, 4) == 12",
    ),
    ReviewTask(
        "fstring-without-fields",
        _t("def banner(name):", '    title = f"Report"', '    return title + ": " + name'),
        _t("def banner(name):", '    return f"Report: {name}"'),
        'assert banner("sales") == "Report: sales"',
    ),
    ReviewTask(
        "type-compare",
        _t(
            "def kind(x):",
            "    if type(x) == int:",
            '        return "integer"',
            '    return "other"',
        ),
        _t(
            "def kind(x):",
            "    if isinstance(x, int):",
            '        return "integer"',
            '    return "other"',
        ),
        _t('assert kind(3) == "integer"', 'assert kind("3") == "other"'),
    ),
    ReviewTask(
        "dict-keys",
        _t(
            "def lookup(table, key):",
            "    if key in table.keys():",
            "        return table[key]",
            "    return 0",
        ),
        _t("def lookup(table, key):", "    return table.get(key, 0)"),
        _t('assert lookup({"a": 2}, "a") == 2', 'assert lookup({}, "b") == 0'),
    ),
    ReviewTask(
        "raise-without-from",
        _t(
            "def price(prices, item):",
            "    try:",
            "        return prices[item]",
            "    except KeyError:",
            '        raise ValueError("unknown item: " + item)',
        ),
        _t(
            "def price(prices, item):",
            "    try:",
            "        return prices[item]",
            "    except KeyError as exc:",
            '        raise ValueError("unknown item: " + item) from exc',
        ),
        _t(
            'assert price({"tea": 3}, "tea") == 3',
            "try:",
            '    price({}, "cake")',
            "except ValueError:",
            "    pass",
            "else:",
            '    raise SystemExit("no ValueError")',
        ),
    ),
    ReviewTask(
        "unused-loop-variable",
        _t(
            "def count_items(items):",
            "    total = 0",
            "    for i, item in enumerate(items):",
            "        total += 1",
            "    return total",
        ),
        _t("def count_items(items):", "    return len(items)"),
        "assert count_items([4, 5, 6]) == 3",
    ),
    ReviewTask(
        "eval-input",
        _t("def parse_number(text):", "    return eval(text)"),
        _t("import ast", "", "", "def parse_number(text):", "    return ast.literal_eval(text)"),
        _t('assert parse_number("42") == 42', 'assert parse_number("1.5") == 1.5'),
    ),
    ReviewTask(
        "percent-format",
        _t("def summary(name, count):", '    return "%s has %d items" % (name, count)'),
        _t("def summary(name, count):", '    return f"{name} has {count} items"'),
        'assert summary("box", 3) == "box has 3 items"',
    ),
    ReviewTask(
        "ambiguous-name",
        _t("def longest(words):", "    l = [len(w) for w in words]", "    return max(l)"),
        _t("def longest(words):", "    return max(len(w) for w in words)"),
        'assert longest(["a", "abc", "ab"]) == 3',
    ),
    ReviewTask(
        "redefined-function",
        _t(
            "def double(x):",
            "    return x + x",
            "",
            "",
            "def double(x):",
            "    return 2 * x",
        ),
        _t("def double(x):", "    return 2 * x"),
        "assert double(21) == 42",
    ),
    ReviewTask(
        "weak-hash",
        _t(
            "import hashlib",
            "",
            "",
            "def fingerprint(data):",
            "    return hashlib.md5(data).hexdigest()",
        ),
        _t(
            "import hashlib",
            "",
            "",
            "def fingerprint(data):",
            "    return hashlib.sha256(data).hexdigest()",
        ),
        'assert len(fingerprint(b"abc")) == 64',
    ),
    ReviewTask(
        "off-by-one-slice",
        _t("def last_n(items, n):", '    """The last n items."""', "    return items[-n - 1 :]"),
        _t("def last_n(items, n):", '    """The last n items."""', "    return items[-n:]"),
        _t("assert last_n([1, 2, 3, 4], 2) == [3, 4]", "assert last_n([5, 6], 1) == [6]"),
    ),
    ReviewTask(
        "needless-bool",
        _t(
            "def is_adult(age):",
            "    if age >= 18:",
            "        return True",
            "    else:",
            "        return False",
        ),
        _t("def is_adult(age):", "    return age >= 18"),
        _t("assert is_adult(18) is True", "assert is_adult(3) is False"),
    ),
    ReviewTask(
        "manual-comprehension",
        _t(
            "def doubled_positives(numbers):",
            "    result = []",
            "    for n in numbers:",
            "        if n > 0:",
            "            result.append(n * 2)",
            "    return result",
        ),
        _t("def doubled_positives(numbers):", "    return [n * 2 for n in numbers if n > 0]"),
        "assert doubled_positives([-1, 2, 0, 3]) == [4, 6]",
    ),
    ReviewTask(
        "assert-for-validation",
        _t(
            "def withdraw(balance, amount):",
            "    assert amount > 0",
            "    return balance - amount",
        ),
        _t(
            "def withdraw(balance, amount):",
            "    if amount <= 0:",
            '        raise ValueError("amount must be positive")',
            "    return balance - amount",
        ),
        _t(
            "assert withdraw(10, 3) == 7",
            "try:",
            "    withdraw(10, -1)",
            "except ValueError:",
            "    pass",
            "else:",
            '    raise SystemExit("no ValueError")',
        ),
    ),
    ReviewTask(
        "old-typing",
        _t(
            "from typing import List",
            "",
            "",
            "def evens(numbers: List[int]) -> List[int]:",
            "    return [n for n in numbers if n % 2 == 0]",
        ),
        _t(
            "def evens(numbers: list[int]) -> list[int]:",
            "    return [n for n in numbers if n % 2 == 0]",
        ),
        "assert evens([1, 2, 3, 4]) == [2, 4]",
    ),
    ReviewTask(
        "not-in",
        _t(
            "def missing(wanted, have):",
            "    return [w for w in wanted if not w in have]",
        ),
        _t(
            "def missing(wanted, have):",
            "    return [w for w in wanted if w not in have]",
        ),
        'assert missing(["a", "b"], {"a"}) == ["b"]',
    ),
    ReviewTask(
        "off-by-one-range",
        _t(
            "def sum_to(n):",
            '    """The sum 1 + 2 + ... + n."""',
            "    return sum(range(1, n))",
        ),
        _t(
            "def sum_to(n):",
            '    """The sum 1 + 2 + ... + n."""',
            "    return sum(range(1, n + 1))",
        ),
        _t("assert sum_to(3) == 6", "assert sum_to(1) == 1"),
    ),
    ReviewTask(
        "unused-import-and-none",
        _t(
            "import json",
            "",
            "",
            "def first_or_default(items, default=None):",
            "    if items == None or len(items) == 0:",
            "        return default",
            "    return items[0]",
        ),
        _t(
            "def first_or_default(items, default=None):",
            "    if not items:",
            "        return default",
            "    return items[0]",
        ),
        _t(
            "assert first_or_default([7, 8]) == 7",
            "assert first_or_default(None, 1) == 1",
            "assert first_or_default([], 2) == 2",
        ),
    ),
)
