"""Code blocks found in Markdown answers by a real CommonMark parser."""

from codenook.assist.tools.code_blocks import CodeBlock, extract_code_blocks, first_block


def test_fence_with_language() -> None:
    md = "Here you go:\n\n```python\nprint('hi')\n```\n\nDone."
    assert extract_code_blocks(md) == [CodeBlock("python", "print('hi')\n")]


def test_fence_without_language_and_info_words() -> None:
    md = "```\nls -l\n```\n\n```Python title=x.py\nx = 1\n```\n\n```{.bash}\necho\n```\n"
    assert [b.language for b in extract_code_blocks(md)] == [None, "python", "bash"]


def test_tilde_fence() -> None:
    md = "~~~bash\necho '```'\n~~~\n"
    assert extract_code_blocks(md) == [CodeBlock("bash", "echo '```'\n")]


def test_nested_backticks_inside_a_longer_fence() -> None:
    md = "````markdown\nUse this:\n```python\nx = 1\n```\n````\n"
    blocks = extract_code_blocks(md)
    assert blocks == [CodeBlock("markdown", "Use this:\n```python\nx = 1\n```\n")]


def test_blocks_in_lists_and_quotes() -> None:
    md = "1. step\n\n   ```sh\n   make\n   ```\n\n> ```py\n> y = 2\n> ```\n"
    assert extract_code_blocks(md) == [CodeBlock("sh", "make\n"), CodeBlock("py", "y = 2\n")]


def test_no_block_at_all() -> None:
    md = "Just prose, with `inline code` and\n\n    an indented line.\n"
    assert extract_code_blocks(md) == []
    assert first_block(md, "python") is None


def test_unterminated_fence_of_a_stopped_stream() -> None:
    md = "Sure:\n\n```python\ndef f():\n    return"
    assert extract_code_blocks(md) == [CodeBlock("python", "def f():\n    return", closed=False)]
    assert extract_code_blocks("```bash\n") == [CodeBlock("bash", "", closed=False)]
    assert extract_code_blocks("```bash\nls\n```")[0].closed


def test_first_block_in_requested_language_with_aliases() -> None:
    md = "```text\nout\n```\n```sh\necho 1\n```\n```py\nx = 1\n```\n```python3\ny = 2\n```\n"
    assert first_block(md, "python") == CodeBlock("py", "x = 1\n")
    assert first_block(md, "bash") == CodeBlock("sh", "echo 1\n")
    assert first_block(md, "shell") == CodeBlock("sh", "echo 1\n")


def test_first_block_falls_back_to_unlabeled() -> None:
    md = "```zsh\nsetopt x\n```\n```\necho 2\n```\n"
    assert first_block(md, "bash") == CodeBlock(None, "echo 2\n")
    assert first_block("```ruby\nputs 1\n```\n", "python") is None
