"""Unified diffs: made, found in answers, applied cleanly, fuzzily, or not at all."""

import pytest

from codenook.assist.tools.diffs import (
    DiffError,
    HunkReport,
    apply_diff,
    extract_diff,
    make_diff,
    normalise_diff,
    parse_patch_output,
)

OLD = "".join(f"line {i}\n" for i in range(1, 21))
NEW = OLD.replace("line 5\n", "line five\n").replace("line 15\n", "line fifteen\n")


def test_make_diff_headers_and_hunks() -> None:
    diff = make_diff(OLD, NEW, "app.py")
    assert diff.startswith("--- a/app.py\n+++ b/app.py\n@@ -2,7 +2,7 @@\n")
    assert "-line 5\n+line five\n" in diff
    assert make_diff(OLD, OLD, "app.py") == ""


def test_clean_apply_round_trips() -> None:
    applied = apply_diff(OLD, make_diff(OLD, NEW, "app.py"))
    assert applied.text == NEW
    assert applied.exact


def test_no_newline_at_end_of_file_round_trips() -> None:
    old, new = "a\nb\nc", "a\nB\nc"
    diff = make_diff(old, new, "x")
    assert diff.endswith(" c\n\\ No newline at end of file\n")
    assert apply_diff(old, diff).text == new


def test_fuzzy_moved_context_is_reported_as_offset() -> None:
    moved = "new 1\nnew 2\nnew 3\n" + OLD
    applied = apply_diff(moved, make_diff(OLD, NEW, "app.py"))
    assert applied.text == "new 1\nnew 2\nnew 3\n" + NEW
    assert applied.inexact == [HunkReport(1, 5, offset=3), HunkReport(2, 15, offset=3)]


def test_fuzzy_changed_outer_context_line() -> None:
    # The first context line of hunk 1 was edited since the diff was made: fuzz 1.
    edited = OLD.replace("line 2\n", "line two\n")
    applied = apply_diff(edited, make_diff(OLD, NEW, "app.py"))
    assert applied.text == NEW.replace("line 2\n", "line two\n")
    assert applied.inexact[0].fuzz >= 1


def test_fuzzy_whitespace_differences_keep_the_files_own_whitespace() -> None:
    spaced = OLD.replace("line 4\n", "line  4   \n")
    applied = apply_diff(spaced, make_diff(OLD, NEW, "app.py"))
    assert applied.text == NEW.replace("line 4\n", "line  4   \n")
    with pytest.raises(DiffError):
        apply_diff(spaced, make_diff(OLD, NEW, "app.py"), ignore_whitespace=False, fuzz=0)


def test_failing_hunk_leaves_the_text_unchanged() -> None:
    # Hunk 1 would apply; hunk 2 cannot. All or nothing: the caller's text stays as it was.
    diff = make_diff(OLD, NEW, "app.py")
    changed = OLD.replace("line 14\nline 15\nline 16\n", "something else entirely\n")
    before = changed
    with pytest.raises(DiffError, match=r"hunk 2 of 2 \(starting 'line 12'\).*Nothing was changed"):
        apply_diff(changed, diff, name="app.py")
    assert changed == before
    try:
        apply_diff(changed, diff)
    except DiffError as e:
        assert e.failed_hunks == (2,)


def test_already_applied_diff() -> None:
    with pytest.raises(DiffError, match="applied already"):
        apply_diff(NEW, make_diff(OLD, NEW, "app.py"))


def test_crlf_text_stays_crlf() -> None:
    text = "a\r\nb\r\nc\r\n"
    diff = "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
    assert apply_diff(text, diff).text == "a\r\nB\r\nc\r\n"


def test_mixed_line_endings_are_not_normalised() -> None:
    text = "a\r\nb\nc\n"
    assert apply_diff(text, "@@ -2,2 +2,2 @@\n b\n-c\n+C\n").text == "a\r\nb\nC\n"


def test_model_mistakes_are_repaired() -> None:
    # Wrong counts in the header, a stripped blank context line, prose after the diff.
    text = "def f():\n\n    return 1\n"
    diff = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,9 +1,9 @@\n"
        " def f():\n\n-    return 1\n+    return 2\nThat's it!\n"
    )
    assert normalise_diff(diff) == (
        "--- original\n+++ original\n@@ -1,3 +1,3 @@\n def f():\n \n-    return 1\n+    return 2\n"
    )
    assert apply_diff(text, diff).text == "def f():\n\n    return 2\n"


def test_hunk_without_line_numbers_is_located() -> None:
    text = "a\nb\nc\nd\n"
    assert apply_diff(text, "@@\n c\n-d\n+D\n").text == "a\nb\nc\nD\n"


def test_malformed_and_multi_file_diffs() -> None:
    with pytest.raises(DiffError, match="no hunks"):
        apply_diff("x\n", "just words")
    two = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-x\n+y\n--- a/z\n+++ b/z\n@@ -1 +1 @@\n-x\n+y\n"
    with pytest.raises(DiffError, match="changes 2 files"):
        apply_diff("x\n", two)


def test_parse_patch_output() -> None:
    out = (
        "patching file result (read from original)\n"
        "Hunk #1 succeeded at 5 (offset 3 lines).\n"
        "Hunk #2 succeeded at 9 with fuzz 1 (offset -1 lines).\n"
        "Hunk #3 succeeded at 20 with fuzz 2.\n"
        "Hunk #4 FAILED at 30.\n"
        "1 out of 4 hunks FAILED\n"
    )
    inexact, failed = parse_patch_output(out)
    assert inexact == [HunkReport(1, 5, 3, 0), HunkReport(2, 9, -1, 1), HunkReport(3, 20, 0, 2)]
    assert failed == [(4, 30)]


def test_extract_diff_from_a_diff_block() -> None:
    md = "Change:\n\n```diff\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n```\nDone."
    assert extract_diff(md) == "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"


def test_extract_diff_from_an_unlabeled_block_or_raw_text() -> None:
    assert extract_diff("```\n@@ -1 +1 @@\n-a\n+b\n```") == "@@ -1 +1 @@\n-a\n+b\n"
    raw = "I propose:\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n c\nThis fixes it.\n"
    assert extract_diff(raw) == "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n"
    assert extract_diff("No change needed.\n\n```python\nx = 1\n```") is None
