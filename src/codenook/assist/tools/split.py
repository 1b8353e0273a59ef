"""The code in a box that mixes a request and code: "Please review this:" and then code.

One splitter for every face: the window's input box and the command line's stdin. The
code is what the linters and the jobs read; the words are the user's request, for the
model.
"""

from __future__ import annotations

import ast
import keyword
import re
import warnings

# One fenced block: ```lang\n...\n``` (or ~~~).
_FENCE = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+-]*)[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)
# A sentence: words and the punctuation of prose, nothing that code needs.
_SENTENCE = re.compile(r"^[^\W\d_][\w'’-]*(?:[ \t]+[\w'’,;.!?/-]+)+[ \t]*[:.?!]?$")
# Words a line of code (Python or a shell) starts with, never a request.
_CODE_WORDS = frozenset(keyword.kwlist) | {
    "alias", "awk", "bash", "case", "cat", "cd", "chmod", "cp", "declare", "do", "done",
    "echo", "elif", "esac", "eval", "exec", "exit", "export", "fi", "function", "grep",
    "local", "ls", "mkdir", "mv", "print", "printf", "read", "readonly", "rm", "sed", "set",
    "shift", "source", "sudo", "test", "then", "trap", "unset", "until",
}  # fmt: skip


def _parses_as_python(line: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(line.strip())
    except (SyntaxError, ValueError):
        return False
    return True


def is_prose(line: str) -> bool:
    """Whether ``line`` reads as a sentence of a request, not as a line of code."""
    s = line.strip()
    if not _SENTENCE.match(s) or s.split()[0].lower() in _CODE_WORDS:
        return False
    capital = s[0].isupper()
    words = len(s.split())
    # "fix this:" is a request; "make all" (a command) is not: lowercase needs an ending.
    if not (capital or s[-1] in ":.?!") or (words < 3 and s[-1] not in ":.?!"):
        return False
    return not _parses_as_python(s)


def split_code(text: str) -> tuple[str, str]:
    """``(words, code)`` of a box: the first fenced block is the code, the rest the words.

    Without a fence, the sentences before the first line of code are the words and the
    rest is the code; text with no such sentences is all code (a paste) and no words.
    """
    m = _FENCE.search(text)
    if m is not None:
        words = (text[: m.start()] + text[m.end() :]).strip()
        return words, m.group(3)
    lines = text.split("\n")
    head = 0
    while head < len(lines) and (not lines[head].strip() or is_prose(lines[head])):
        head += 1
    words = "\n".join(lines[:head]).strip()
    code = "\n".join(lines[head:])
    if not words or not code.strip():
        return "", text
    return words, code.lstrip("\n")
