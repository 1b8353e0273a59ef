"""Asking a model for code: the first closed code block ends the answer."""

from __future__ import annotations

from codenook.assist.eval.asking import _first_block_closed, code_of


def test_an_answer_is_read_up_to_its_first_closed_code_block() -> None:
    assert not _first_block_closed("Here:\n```python\ndef f():\n    return 1\n")
    assert _first_block_closed("Here:\n```python\ndef f():\n    return 1\n```\n")
    assert not _first_block_closed("```python\nx = '```'\n")  # a fence inside a line
    assert code_of("Text\n```bash\nls -l\n```\nMore\n```py\nx\n```", "bash") == "ls -l\n"
    assert code_of("no fence at all", "bash") == "no fence at all"
