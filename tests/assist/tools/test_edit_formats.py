"""The three edit formats' appliers on hand-written answers."""

import ast

import pytest

from codenook.assist.tools.edit_formats import FORMATS, apply_edit, edit_request, function_names
from tests.assist.tools.flawed_files import FLAWED

SOURCE = (
    "def to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 23\n\n\n"
    "def to_celsius(fahrenheit):\n    return (fahrenheit - 32) * 5 / 9\n"
)
FIXED = SOURCE.replace("+ 23", "+ 32")


def test_search_replace_applies_and_refuses_text_not_in_the_file() -> None:
    good = (
        "<<<<<<< SEARCH\n    return celsius * 9 / 5 + 23\n=======\n"
        "    return celsius * 9 / 5 + 32\n>>>>>>> REPLACE\n"
    )
    assert apply_edit("search_replace", SOURCE, good) == FIXED
    assert apply_edit("search_replace", SOURCE, good.replace("+ 23\n=", "+ 24\n=")) is None
    assert apply_edit("search_replace", SOURCE, "no blocks") is None


def test_function_rewrite_replaces_the_named_function_only() -> None:
    answer = "```python\ndef to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32\n```"
    assert apply_edit("function", SOURCE, answer) == FIXED
    assert apply_edit("function", SOURCE, "```python\ndef nope():\n    pass\n```") is None
    assert apply_edit("function", SOURCE, "```python\ndef to_celsius(:\n```") is None


def test_diff_applies_and_a_diff_that_changes_nothing_does_not_count() -> None:
    diff = (
        "```diff\n--- a/t.py\n+++ b/t.py\n@@ -1,2 +1,2 @@\n def to_fahrenheit(celsius):\n"
        "-    return celsius * 9 / 5 + 23\n+    return celsius * 9 / 5 + 32\n```"
    )
    assert apply_edit("diff", SOURCE, diff) == FIXED
    same = "```diff\n--- a/t.py\n+++ b/t.py\n@@ -1,1 +1,1 @@\n def to_fahrenheit(celsius):\n```"
    assert apply_edit("diff", SOURCE, same) is None


@pytest.mark.parametrize(("name", "source", "problem"), FLAWED, ids=[f[0] for f in FLAWED])
def test_every_flawed_file_parses_and_has_requests(name: str, source: str, problem: str) -> None:
    ast.parse(source)
    assert function_names(source)
    for fmt in FORMATS:
        req = edit_request(fmt, source, name=name)
        assert name in req.instruction and req.grammar.startswith("root ::=")
