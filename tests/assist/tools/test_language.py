"""Language detection: override, shebang, extension, content, and a Bash file named .py."""

import pytest

from codenook.assist.tools.language import LanguageError, detect_language

BASH_SCRIPT = """\
for f in *.txt; do
  if [[ -s "$f" ]]; then
    echo "$f"
  fi
done
"""
PYTHON_SCRIPT = """\
import sys


def main() -> None:
    print(sys.argv)
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a.py", "python"), ("a.pyw", "python"), ("a.sh", "bash"), ("b.bash", "bash")],
)
def test_extension(path: str, expected: str) -> None:
    assert detect_language("x = 1\n", path=path) == expected


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        ("#!/usr/bin/env python3", "python"),
        ("#!/usr/bin/python3.11 -u", "python"),
        ("#!/bin/bash", "bash"),
        ("#!/usr/bin/env bash", "bash"),
        ("#!/bin/sh -e", "bash"),
        ("#!/usr/bin/env -S bash -eu", "bash"),
    ],
)
def test_shebang(first: str, expected: str) -> None:
    assert detect_language(first + "\nwhatever\n") == expected


def test_shebang_wins_over_extension() -> None:
    assert detect_language("#!/bin/bash\necho hi\n", path="tool.py") == "bash"
    assert detect_language("#!/usr/bin/env python3\nprint(1)\n", path="tool.sh") == "python"


def test_bash_file_with_python_extension() -> None:
    assert detect_language(BASH_SCRIPT, path="backup.py") == "bash"


def test_python_with_a_syntax_error_stays_python() -> None:
    assert detect_language("def f(:\n    return 1\n", path="broken.py") == "python"


def test_python_file_with_sh_extension() -> None:
    assert detect_language(PYTHON_SCRIPT, path="run.sh") == "python"


def test_content_alone() -> None:
    assert detect_language(PYTHON_SCRIPT) == "python"
    assert detect_language(BASH_SCRIPT) == "bash"


def test_override_and_aliases() -> None:
    assert detect_language(BASH_SCRIPT, path="x.sh", override="py") == "python"
    assert detect_language("", override="shell") == "bash"
    with pytest.raises(LanguageError, match="Unknown language 'ruby'"):
        detect_language("x", override="ruby")


def test_undecidable() -> None:
    with pytest.raises(LanguageError, match="--lang"):
        detect_language("hello world\n")
    with pytest.raises(LanguageError, match="empty"):
        detect_language("   \n", path="notes.txt")


def test_one_language_type_and_one_alias_table_for_every_caller() -> None:
    from codenook.assist.tools import code_blocks, language, sandbox

    assert sandbox.Language is language.Language
    assert code_blocks.LANGUAGE_ALIASES is language.ALIASES
    assert language.Language.PYTHON == "python" and f"{language.Language.BASH}" == "bash"
    assert code_blocks.canonical_language("PY3") == "python"


def test_the_sandbox_rule_puts_the_name_first_and_never_guesses() -> None:
    """A file runs with what its name says; the jobs believe its shebang first."""
    text = "#!/bin/bash\necho hi\n"
    assert detect_language(text, path="odd.py") == "bash"
    assert detect_language(text, path="odd.py", name_first=True, by_content=False) == "python"
    assert detect_language("#!/bin/zsh\n", path="t", name_first=True, by_content=False) == "bash"
    with pytest.raises(LanguageError):
        detect_language("def f():\n    pass\n", path="tool", name_first=True, by_content=False)
    assert detect_language("def f():\n    pass\n", path="tool") == "python"
