"""Cursor context trimmed around the cursor, and completions cut at the end of their block."""

import pytest

from codenook.assist.tools.cursor import (
    CursorContext,
    CursorError,
    cursor_context,
    cursor_offset,
    end_of_block,
)

BODY = "".join(f"    total += {i}  # step {i}\n" for i in range(200))
SOURCE = (
    "import os\nfrom pathlib import (\n    Path,\n)\n\n"
    + "".join(f"X{i} = {i}\n" for i in range(100))
    + "\n\nclass Summer:\n    def add(self, values):\n        total = 0\n"
    + BODY.replace("    total", "        total")
    + "        return total\n\n\ndef other():\n    pass\n"
    + "".join(f"Y{i} = {i}\n" for i in range(100))
)


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_small_file_is_not_trimmed() -> None:
    ctx = cursor_context("def f():\n    return 1\n", 2, 5, budget_chars=1000)
    assert ctx == CursorContext("def f():\n    ", "return 1\n", False)


def test_positions_and_bounds() -> None:
    text = "ab\ncd\n"
    assert cursor_offset(text, 1, 1) == 0
    assert cursor_offset(text, 2, 3) == 5  # end of line 2
    assert cursor_offset(text, 3, 1) == 6  # the empty line after the final newline
    assert cursor_offset("", 1, 1) == 0
    with pytest.raises(CursorError, match="count from 1"):
        cursor_offset(text, 0, 1)
    with pytest.raises(CursorError, match="count from 1"):
        cursor_offset(text, 1, 0)
    with pytest.raises(CursorError, match="Line 4 is past the end of the file, which has 3 lines"):
        cursor_offset(text, 4, 1)
    with pytest.raises(CursorError, match=r"Column 4 is past the end of line 1.*column 3\)"):
        cursor_offset(text, 1, 4)
    with pytest.raises(CursorError):
        cursor_context(text, 9, 1, budget_chars=10)


def test_trimmed_keeps_nearest_lines_within_budget() -> None:
    line = line_of(SOURCE, "        total += 150  # step 150")
    ctx = cursor_context(SOURCE, line, 9, budget_chars=1200)
    assert ctx.trimmed
    assert len(ctx.prefix) + len(ctx.suffix) <= 1200
    assert ctx.prefix.endswith("        total += 149  # step 149\n        ")
    assert ctx.suffix.startswith("total += 150  # step 150\n        total += 151  # step 151\n")
    assert "step 100\n" not in ctx.prefix and "step 199\n" not in ctx.suffix
    # About two lines above for each one below.
    above = ctx.prefix.count("# step ")
    below = ctx.suffix.count("# step ") - 1
    assert 1.5 <= above / below <= 2.5


def test_trimmed_keeps_imports_and_the_enclosing_headers() -> None:
    line = line_of(SOURCE, "        total += 150  # step 150")
    ctx = cursor_context(SOURCE, line, 9, budget_chars=1200)
    assert ctx.prefix.startswith("import os\nfrom pathlib import (\n    Path,\n)\n")
    assert "class Summer:\n    def add(self, values):\n" in ctx.prefix
    assert "X50 = 50" not in ctx.prefix
    assert "def other" not in ctx.suffix


def test_enclosing_header_found_from_a_blank_line() -> None:
    text = "def f(a,\n      b):\n" + "    x = 1\n" * 50 + "\n" + "y = 2\n" * 50
    ctx = cursor_context(text, 53, 1, budget_chars=200)
    assert ctx.prefix.startswith("def f(a,\n      b):\n")
    assert len(ctx.prefix) + len(ctx.suffix) <= 200


def test_bash_function_header_kept() -> None:
    text = "source ./lib.sh\n\nmain() {\n" + '  echo "$1"\n' * 80 + "}\n"
    ctx = cursor_context(text, 60, 3, budget_chars=150)
    assert ctx.prefix.startswith("source ./lib.sh\nmain() {\n")


def test_a_cursor_line_longer_than_the_budget() -> None:
    text = "x = '" + "a" * 500 + "'\n" + "y = 1\n" * 10
    ctx = cursor_context(text, 1, 300, budget_chars=100)
    assert ctx.trimmed and len(ctx.prefix) == 75 and len(ctx.suffix) == 25
    assert (text[:299]).endswith(ctx.prefix) and text[299:].startswith(ctx.suffix)


def test_end_of_block_at_a_dedent() -> None:
    completion = "total = 0\n    for v in values:\n        total += v\n    return total\nprint(1)\n"
    assert end_of_block(completion, language="python", indent="    ") == (
        "total = 0\n    for v in values:\n        total += v\n    return total\n"
    )


def test_end_of_block_at_a_blank_line_before_a_new_definition() -> None:
    completion = "(a, b):\n    return a + b\n\n\ndef main():\n    print(add(1, 2))\n"
    assert end_of_block(completion, language="python", indent="") == ("(a, b):\n    return a + b\n")
    # A blank line inside the block is kept.
    inner = "x = 1\n\ny = 2\n"
    assert end_of_block(inner, language="py") == inner


def test_end_of_block_bash_and_fences() -> None:
    completion = '  echo "$1"\n  shift\n}\n\nother() {\n'
    assert end_of_block(completion, language="bash") == '  echo "$1"\n  shift\n'
    fenced = "return 1\n```\nThis returns one."
    assert end_of_block(fenced, language="python", indent="    ") == "return 1\n"
    assert end_of_block("", language="python") == ""
