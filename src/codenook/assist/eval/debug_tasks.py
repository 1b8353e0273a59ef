"""The debug suite's tasks: small buggy Python programs with their tests, written for codenook.

Each program is ``code`` followed by ``tests`` (top-level asserts), so running the file
fails the way a user's failing program does. ``fixed`` is the code with the bug fixed
(the honesty check: it must pass). A fix is judged by running the answer with the task's
own tests appended again, so deleting the tests from the file does not pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DebugTask:
    """One buggy program: its code, its tests, and the code with the bug fixed."""

    id: str
    code: str
    tests: str
    fixed: str

    @property
    def source(self) -> str:
        """The file as the user has it: the code, then its tests."""
        return f"{self.code}\n\n{self.tests}"

    @property
    def fixed_source(self) -> str:
        """The known-good file."""
        return f"{self.fixed}\n\n{self.tests}"


def _t(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines)


def _bug(task_id: str, code: str, tests: str, wrong: str, right: str) -> DebugTask:
    """A task whose fix replaces the one text ``wrong`` in ``code`` with ``right``."""
    if code.count(wrong) != 1:
        raise ValueError(f"{task_id}: the wrong text must occur once")  # a mistake here
    return DebugTask(task_id, code, tests, code.replace(wrong, right))


TASKS: tuple[DebugTask, ...] = (
    _bug(
        "factorial-range",
        _t(
            "def factorial(n):",
            "    result = 1",
            "    for i in range(1, n):",
            "        result *= i",
            "    return result",
        ),
        _t("assert factorial(1) == 1", "assert factorial(5) == 120"),
        "range(1, n)",
        "range(1, n + 1)",
    ),
    _bug(
        "average-divisor",
        _t("def average(values):", "    return sum(values) / (len(values) - 1)"),
        _t("assert average([2, 4, 6]) == 4"),
        "(len(values) - 1)",
        "len(values)",
    ),
    _bug(
        "word-count-keyerror",
        _t(
            "def word_counts(text):",
            "    counts = {}",
            "    for word in text.split():",
            "        counts[word] += 1",
            "    return counts",
        ),
        _t('assert word_counts("a b a") == {"a": 2, "b": 1}'),
        "counts[word] += 1",
        "counts[word] = counts.get(word, 0) + 1",
    ),
    _bug(
        "pairs-index",
        _t(
            "def neighbours(xs):",
            "    pairs = []",
            "    for i in range(len(xs)):",
            "        pairs.append((xs[i], xs[i + 1]))",
            "    return pairs",
        ),
        _t("assert neighbours([1, 2, 3]) == [(1, 2), (2, 3)]"),
        "range(len(xs))",
        "range(len(xs) - 1)",
    ),
    _bug(
        "label-concat",
        _t("def label(n):", '    return "item " + n'),
        _t('assert label(3) == "item 3"'),
        '"item " + n',
        '"item " + str(n)',
    ),
    _bug(
        "mutable-default",
        _t(
            "def tag(name, tags=[]):",
            "    tags.append(name)",
            "    return tags",
        ),
        _t('assert tag("a") == ["a"]', 'assert tag("b") == ["b"]'),
        "def tag(name, tags=[]):\n    tags.append(name)",
        "def tag(name, tags=None):\n    tags = [] if tags is None else tags\n    tags.append(name)",
    ),
    _bug(
        "mean-empty",
        _t(
            "def mean(values):",
            '    """The mean of values; 0.0 for none."""',
            "    return sum(values) / len(values)",
        ),
        _t("assert mean([]) == 0.0", "assert mean([1, 3]) == 2"),
        "    return sum(values) / len(values)",
        "    if not values:\n        return 0.0\n    return sum(values) / len(values)",
    ),
    _bug(
        "maximum-start",
        _t(
            "def maximum(values):",
            "    best = 0",
            "    for v in values:",
            "        if v > best:",
            "            best = v",
            "    return best",
        ),
        _t("assert maximum([3, 7, 2]) == 7", "assert maximum([-5, -2, -9]) == -2"),
        "best = 0",
        "best = values[0]",
    ),
    _bug(
        "reverse-step",
        _t("def reverse(s):", "    return s[::1]"),
        _t('assert reverse("abc") == "cba"'),
        "s[::1]",
        "s[::-1]",
    ),
    _bug(
        "palindrome-case",
        _t(
            "def is_palindrome(s):",
            '    cleaned = "".join(c for c in s if c.isalnum())',
            "    return cleaned == cleaned[::-1]",
        ),
        _t('assert is_palindrome("Abba")', 'assert not is_palindrome("abc")'),
        "c for c in s if",
        "c.lower() for c in s if",
    ),
    _bug(
        "fizzbuzz-order",
        _t(
            "def fizzbuzz(n):",
            "    if n % 3 == 0:",
            '        return "Fizz"',
            "    if n % 5 == 0:",
            '        return "Buzz"',
            "    if n % 15 == 0:",
            '        return "FizzBuzz"',
            "    return str(n)",
        ),
        _t(
            'assert fizzbuzz(15) == "FizzBuzz"',
            'assert fizzbuzz(9) == "Fizz"',
            'assert fizzbuzz(10) == "Buzz"',
            'assert fizzbuzz(7) == "7"',
        ),
        "    if n % 3 == 0:",
        '    if n % 15 == 0:\n        return "FizzBuzz"\n    if n % 3 == 0:',
    ),
    _bug(
        "binary-search-bound",
        _t(
            "def find(xs, target):",
            "    lo, hi = 0, len(xs)",
            "    while lo <= hi:",
            "        mid = (lo + hi) // 2",
            "        if xs[mid] == target:",
            "            return mid",
            "        if xs[mid] < target:",
            "            lo = mid + 1",
            "        else:",
            "            hi = mid - 1",
            "    return -1",
        ),
        _t("assert find([1, 3, 5, 7], 7) == 3", "assert find([1, 3, 5, 7], 9) == -1"),
        "lo, hi = 0, len(xs)",
        "lo, hi = 0, len(xs) - 1",
    ),
    _bug(
        "prime-one",
        _t(
            "def is_prime(n):",
            "    for d in range(2, int(n**0.5) + 1):",
            "        if n % d == 0:",
            "            return False",
            "    return True",
        ),
        _t("assert not is_prime(1)", "assert is_prime(13)", "assert not is_prime(9)"),
        "def is_prime(n):\n",
        "def is_prime(n):\n    if n < 2:\n        return False\n",
    ),
    _bug(
        "fibonacci-offset",
        _t(
            "def fib(n):",
            '    """The n-th Fibonacci number: fib(0) == 0, fib(1) == 1."""',
            "    a, b = 0, 1",
            "    for _ in range(n + 1):",
            "        a, b = b, a + b",
            "    return a",
        ),
        _t("assert fib(0) == 0", "assert fib(1) == 1", "assert fib(10) == 55"),
        "range(n + 1)",
        "range(n)",
    ),
    _bug(
        "fahrenheit-formula",
        _t("def to_fahrenheit(c):", "    return c * 9 / 5 - 32"),
        _t("assert to_fahrenheit(100) == 212", "assert to_fahrenheit(0) == 32"),
        "- 32",
        "+ 32",
    ),
    _bug(
        "dict-changed-in-loop",
        _t(
            "def drop_zeros(counts):",
            "    for key in counts:",
            "        if counts[key] == 0:",
            "            del counts[key]",
            "    return counts",
        ),
        _t('assert drop_zeros({"a": 0, "b": 2}) == {"b": 2}'),
        "for key in counts:",
        "for key in list(counts):",
    ),
    _bug(
        "middle-index",
        _t("def middle(xs):", "    return xs[len(xs) / 2]"),
        _t("assert middle([1, 2, 3]) == 2"),
        "len(xs) / 2",
        "len(xs) // 2",
    ),
    _bug(
        "missing-return",
        _t(
            "def squares(n):",
            "    out = [i * i for i in range(n)]",
            "",
            "",
            "def total_of_squares(n):",
            "    return sum(squares(n))",
        ),
        _t("assert total_of_squares(3) == 5"),
        "    out = [i * i for i in range(n)]",
        "    return [i * i for i in range(n)]",
    ),
    _bug(
        "csv-separator",
        _t("def fields(line):", '    return [f.strip() for f in line.split(" ")]'),
        _t('assert fields("a, b,c") == ["a", "b", "c"]'),
        'line.split(" ")',
        'line.split(",")',
    ),
    _bug(
        "chunks-last",
        _t(
            "def chunks(xs, size):",
            "    return [xs[i : i + size] for i in range(0, len(xs) - size, size)]",
        ),
        _t("assert chunks([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]"),
        "range(0, len(xs) - size, size)",
        "range(0, len(xs), size)",
    ),
    _bug(
        "vowels-case",
        _t("def count_vowels(s):", '    return sum(1 for c in s if c in "aeiou")'),
        _t('assert count_vowels("Apple") == 2'),
        "for c in s if",
        "for c in s.lower() if",
    ),
    _bug(
        "leap-century",
        _t("def is_leap(year):", "    return year % 4 == 0"),
        _t("assert is_leap(2024)", "assert not is_leap(1900)", "assert is_leap(2000)"),
        "year % 4 == 0",
        "year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
    ),
    _bug(
        "clamp-swapped",
        _t("def clamp(x, low, high):", "    return max(high, min(low, x))"),
        _t("assert clamp(5, 0, 10) == 5", "assert clamp(-3, 0, 10) == 0"),
        "max(high, min(low, x))",
        "max(low, min(high, x))",
    ),
)
