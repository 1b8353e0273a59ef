"""The one splitter of a box that mixes a request and code."""

from __future__ import annotations

import pytest

from codenook.assist.tools.split import is_prose, split_code

PY = "import os\n\n\ndef mean(xs):\n    return sum(xs) / len(xs)\n"
ASKED = "Can you check my script?\nIt lists files."
SH = '#!/bin/bash\nfor f in $(ls); do\n  echo "$f"\ndone\n'


@pytest.mark.parametrize(
    ("box", "words", "code"),
    [
        (f"Please review this:\n{PY}", "Please review this:", PY),
        (f"Please review this:\n\n{PY}", "Please review this:", PY),
        (f"Can you check my script?\nIt lists files.\n{SH}", ASKED, SH),
        (f"fix this:\n{PY}", "fix this:", PY),
        (f"Please review this:\n```python\n{PY}```\nThanks.", "Please review this:\n\nThanks.", PY),
        (PY, "", PY),  # a paste: all code
        (SH, "", SH),
        ("# Mean of a list.\nx = 1\n", "", "# Mean of a list.\nx = 1\n"),
        ("echo Please review this.\nls\n", "", "echo Please review this.\nls\n"),
        ("Please review this:", "", "Please review this:"),  # no code: left to the job to say
        ("no fence here", "", "no fence here"),
    ],
)  # fmt: skip
def test_the_request_and_the_code_are_told_apart(box: str, words: str, code: str) -> None:
    assert split_code(box) == (words, code)


@pytest.mark.parametrize(
    "line",
    ["x = 1", "print(x)", "return total", "make all", "for f in *.py; do", "def f(x):",
     "ls -la", "import os", "Total", "assert ok"],
)  # fmt: skip
def test_lines_of_code_are_not_prose(line: str) -> None:
    assert not is_prose(line)
