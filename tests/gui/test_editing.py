"""The editor's rules, as pure functions: no window needed."""

from __future__ import annotations

import pytest

from codenook.gui.diff_view import line_kind
from codenook.gui.editing import (
    Indent,
    apply_line_edits,
    detect_indent,
    file_label,
    fit_suggestion,
    language_for,
    line_edits,
    next_indent,
    restart_line,
    split_newlines,
)

SPACES = Indent(width=4)
TABS = Indent(tabs=True)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("def f(x):", "    "),
        ("    if x:  # a comment", "        "),
        ("    return x", "    "),
        ("class A(B):", "    "),
        ("# a comment:", ""),
        ("x = {'a': 1}", ""),
        ("        else:", "            "),
    ],
)
def test_python_indents_after_a_colon(line: str, expected: str) -> None:
    assert next_indent(line, language="python", indent=SPACES) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("if [ -f x ]; then", "\t"),
        ("for f in *; do", "\t"),
        ("while read -r line; do", "\t"),
        ("\tif true; then", "\t\t"),
        ("main() {", "\t"),
        ("else", "\t"),
        ("echo done", ""),
        ("echo then", ""),
        ("# then", ""),
        ("\tfi", "\t"),
    ],
)
def test_bash_indents_after_then_do_and_braces(line: str, expected: str) -> None:
    assert next_indent(line, language="bash", indent=TABS) == expected


def test_indentation_comes_from_the_file() -> None:
    assert detect_indent("def f():\n\treturn 1\n\tpass\n") == TABS
    assert detect_indent("def f():\n  if x:\n    y\n  z\n") == Indent(width=2)
    assert detect_indent("def f():\n    return 1\n") == Indent(width=4)
    assert detect_indent("x = 1\n") == Indent(width=4)  # nothing indented: the default
    assert TABS.unit == "\t" and Indent(width=2).unit == "  "
    assert TABS.describe() == "Tabs" and SPACES.describe() == "Spaces: 4"


def test_multiline_suggestions_are_indented_to_the_block() -> None:
    # A model wrote the later lines from column 0: they move to the cursor's block.
    got = fit_suggestion("for x in xs:\n    total += x\nreturn total", block_indent="    ")
    assert got == "for x in xs:\n        total += x\n    return total"
    # Already at the block: left alone; one line: left alone; blank lines stay blank.
    same = "if x:\n        y()\n    z()"
    assert fit_suggestion(same, block_indent="    ") == same
    assert fit_suggestion("a + b", block_indent="    ") == "a + b"
    assert fit_suggestion("a\n\nb", block_indent="\t") == "a\n\n\tb"
    assert fit_suggestion("a\nb", block_indent="") == "a\nb"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\nc\n", "a\nc\n"),
        ("a\nb\nc\n", "x\na\nb\nc\ny\n"),
        ("a\nb", "a\nb\nc"),
        ("", "new\n"),
        ("one\ntwo\n", ""),
        ("def f():\n    return 1\n", 'def f():\n    """Doc."""\n    return 1\n'),
    ],
)
def test_line_edits_turn_old_into_new(old: str, new: str) -> None:
    edits = line_edits(old, new)
    assert apply_line_edits(old, edits) == new
    # Last first, so that applying in order keeps earlier line numbers valid.
    assert [e.first for e in edits] == sorted((e.first for e in edits), reverse=True)


def test_line_edits_touch_only_changed_lines() -> None:
    old = "".join(f"line {i}\n" for i in range(1000))
    new = old.replace("line 500\n", "line five hundred\n")
    (edit,) = line_edits(old, new)
    assert (edit.first, edit.last, edit.text) == (501, 502, "line five hundred\n")


def test_highlighting_restarts_above_a_multiline_string() -> None:
    # Lines 3 to 5 end inside a string: an edit on line 6 is lexed from line 3.
    in_string = {3, 4, 5}
    assert restart_line(6, lambda n: n in in_string) == 3
    assert restart_line(3, lambda n: n in in_string) == 3
    assert restart_line(2, lambda n: n in in_string) == 2
    assert restart_line(1, lambda n: True) == 1


def test_languages_and_labels() -> None:
    assert language_for("x.sh") == "bash"
    assert language_for("x.py") == "python"
    assert language_for("tool", "#!/usr/bin/env bash\necho\n") == "bash"
    assert language_for("tool", "#!/usr/bin/python3\n") == "python"
    assert language_for(None) == "python"
    assert file_label("/a/b/x.py", dirty=True) == "● x.py"
    assert file_label(None, dirty=False) == "untitled"


def test_crlf_files_are_held_with_lf_and_remember_their_line_end() -> None:
    assert split_newlines("a\r\nb\r\n") == ("a\nb\n", "\r\n")
    assert split_newlines("a\nb\n") == ("a\nb\n", "\n")
    # Mixed line ends are kept as they are (the CR stays a character).
    assert split_newlines("a\r\nb\n") == ("a\r\nb\n", "\n")


def test_diff_lines_are_coloured_by_kind() -> None:
    kinds = [line_kind(x) for x in ("--- a/x", "+++ b/x", "@@ -1 +1 @@", "+new", "-old", " same")]
    assert kinds == ["header", "header", "hunk", "added", "removed", "context"]
