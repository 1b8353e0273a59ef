"""Markdown to display blocks: no display needed."""

from codenook.gui.markdown import CodeBlock, TextBlock, highlight, to_blocks


def text_of(block: TextBlock) -> str:
    return "".join(r.text for r in block.runs)


def test_headings_emphasis_code_and_links() -> None:
    [block] = to_blocks("# Title\n\nSome **bold**, *it*, `x = 1` and [docs](https://d.org).")
    runs = {r.text: r for r in block.runs}
    assert runs["Title"].tags == ("h1",)
    assert "bold" in runs["bold"].tags
    assert "italic" in runs["it"].tags
    assert "code" in runs["x = 1"].tags
    assert runs["docs"].href == "https://d.org" and "link" in runs["docs"].tags


def test_lists_are_bulleted_and_numbered() -> None:
    [block] = to_blocks("- a\n- b\n\n3. c\n4. d\n")
    assert text_of(block) == "• a\n• b\n3. c\n4. d"


def test_fenced_code_is_a_highlighted_block() -> None:
    blocks = to_blocks(
        "Here:\n\n```python\ndef f():\n    return 1\n```\nand bash:\n\n```sh\necho hi\n```"
    )
    codes = [b for b in blocks if isinstance(b, CodeBlock)]
    assert [c.language for c in codes] == ["python", "sh"]
    assert codes[0].code == "def f():\n    return 1\n"
    assert ("pyg.Keyword", "def") in codes[0].runs
    assert "".join(t for _, t in codes[0].runs) == codes[0].code
    assert any(tag.startswith("pyg.Name.Builtin") for tag, _ in codes[1].runs)


def test_unknown_language_and_unterminated_fence() -> None:
    [code] = to_blocks("```klingon\nqapla'\n```")
    assert code.runs == [("pyg.Text", "qapla'\n")]
    blocks = to_blocks("Start\n\n```python\nprint(1)")  # an answer cut off mid-block
    assert isinstance(blocks[-1], CodeBlock) and blocks[-1].code == "print(1)"


def test_highlight_keeps_text_exactly() -> None:
    code = 'for f in *.txt; do\n  wc -l "$f"\ndone'
    assert "".join(t for _, t in highlight(code, "bash")) == code


UNFENCED_BASH = """Save this as backup.sh:

#!/usr/bin/env bash
# Copy every text file
for f in *.txt; do
    # keep the original
    cp "$f" "$f.bak"
done

# Notes
The loop above copies files.
"""


def test_unfenced_bash_keeps_its_comments_and_indentation() -> None:
    from codenook.gui.markdown import CodeBlock, TextBlock

    blocks = to_blocks(UNFENCED_BASH)
    [code] = [b for b in blocks if isinstance(b, CodeBlock)]
    assert code.language == "bash"
    assert "# Copy every text file\n" in code.code
    assert '    # keep the original\n    cp "$f" "$f.bak"\n' in code.code
    headings = [
        r.text for b in blocks if isinstance(b, TextBlock) for r in b.runs if "h1" in r.tags
    ]
    assert headings == ["Notes"]  # a real heading over prose is still a heading


def test_a_heading_needs_prose_or_nothing_after_it_not_shell() -> None:
    from codenook.gui.markdown import fence_shell

    assert fence_shell("# Title\nSome words.\n") == "# Title\nSome words.\n"
    assert fence_shell("# make it\nmake all\n").startswith("```bash\n# make it\nmake all\n```")
    fenced = "```python\n# a comment\nx = 1\n```\n"
    assert fence_shell(fenced) == fenced
