"""Which language a piece of source is: Python or Bash.

The rule, in order:

1. ``override`` (what the user said) wins, always.
2. A shebang names the interpreter: ``#!/usr/bin/env python3`` is Python,
   ``#!/bin/bash`` (or sh, dash, ksh, zsh) is Bash. A shebang is what the system runs
   the file with, so it wins over the file name.
3. The extension (.py, .pyw; .sh, .bash) decides, unless the content *clearly*
   disagrees: a ``.py`` file that does not parse as Python and has at least two
   Bash-only constructs (``fi``, ``done``, ``$(...)``, ``[[ ]]``, ``name() {`` ...) is
   Bash; a ``.sh`` file that parses as Python, has Python-only constructs and no Bash
   ones is Python. A Python file with a syntax error stays Python.
4. Without either, the content decides by the same signs, or :class:`LanguageError`.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import PurePath
from typing import Literal

from codenook.errors import CodenookError

Language = Literal["python", "bash"]
LANGUAGES: tuple[Language, ...] = ("python", "bash")

ALIASES: dict[str, Language] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "py3": "python",
    "bash": "bash",
    "sh": "bash",
    "shell": "bash",
}
EXTENSIONS: dict[str, Language] = {
    ".py": "python",
    ".pyw": "python",
    ".sh": "bash",
    ".bash": "bash",
}

_SHEBANG = re.compile(r"#!\s*(?:\S*/)?(?:env\s+(?:-\S+\s+)*)?(\S+)")
_SHELLS = {"bash", "sh", "dash", "ksh", "zsh", "ash", "mksh"}

# Constructs that mean Bash and cannot be Python (a Python file could only hold them
# inside strings, and then it parses).
_BASH_SIGNS = [
    re.compile(p, re.MULTILINE)
    for p in (
        r"^\s*(?:fi|done|esac)\s*(?:[;#].*)?$",
        r"^\s*(?:if|elif|while|until)\s+.*;\s*(?:then|do)\s*$",
        r"^\s*then\s*$|^\s*do\s*$",
        r"\$\(|\$\{|\$[A-Za-z_@#?*0-9]",
        r"\[\[\s.*\s\]\]",
        r"^\s*[A-Za-z_][\w-]*\s*\(\)\s*\{",
        r"^\s*function\s+[A-Za-z_][\w-]*",
        r"^\s*(?:echo|printf|export|local|readonly|source|set\s+-[euxo])\b",
        r"^\s*for\s+\w+\s+in\s+[^:]*$",
    )
]
_PYTHON_SIGNS = [
    re.compile(p, re.MULTILINE)
    for p in (
        r"^\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?:",
        r"^\s*class\s+\w+\s*(?:\(.*\))?\s*:",
        r"^\s*import\s+[\w.]+|^\s*from\s+[\w.]+\s+import\s",
        r"^\s*(?:if|elif|while|for|with|try|except|else|finally)\b.*:\s*(?:#.*)?$",
        r"\bprint\(|\bself\.|__name__|\bNone\b|\bTrue\b|\bFalse\b",
    )
]


class LanguageError(CodenookError):
    """The language cannot be told, or a language codenook does not know was named."""


def normalise_language(name: str) -> Language:
    """Return the language for a name or alias (``py``, ``sh``, ``shell`` ...)."""
    lang = ALIASES.get(name.strip().lower())
    if lang is None:
        raise LanguageError(f"Unknown language {name!r}; codenook knows python and bash.")
    return lang


def from_shebang(text: str) -> Language | None:
    """The language a ``#!`` first line names, if any."""
    text = text.removeprefix("\ufeff")
    if not text.startswith("#!"):
        return None
    m = _SHEBANG.match(text.split("\n", 1)[0])
    if m is None:
        return None
    prog = m.group(1)
    if re.fullmatch(r"python[\d.]*", prog) or prog in ("pypy", "pypy3"):
        return "python"
    if prog in _SHELLS:
        return "bash"
    return None


def from_extension(path: str | None) -> Language | None:
    """The language a file name's extension names, if any."""
    if not path:
        return None
    return EXTENSIONS.get(PurePath(path).suffix.lower())


def _parses_as_python(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            ast.parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError):
        return False
    return True


def content_signs(text: str) -> tuple[bool, int, int]:
    """Whether ``text`` parses as Python, and how many Python and Bash signs it has."""
    py = sum(1 for p in _PYTHON_SIGNS if p.search(text))
    sh = sum(1 for p in _BASH_SIGNS if p.search(text))
    return _parses_as_python(text), py, sh


def detect_language(text: str, *, path: str | None = None, override: str | None = None) -> Language:
    """Tell Python from Bash: override, then shebang, then extension, then content."""
    if override:
        return normalise_language(override)
    by_shebang = from_shebang(text)
    if by_shebang:
        return by_shebang
    by_ext = from_extension(path)
    parses, py, sh = content_signs(text)
    clearly_bash = not parses and sh >= 2 and sh > py
    clearly_python = parses and py >= 2 and sh == 0
    if by_ext == "python":
        return "bash" if clearly_bash else "python"
    if by_ext == "bash":
        return "python" if clearly_python else "bash"
    if parses and py > sh:
        return "python"
    if sh > py or (sh and not parses):
        return "bash"
    where = f"{path}: " if path else ""
    if not text.strip():
        raise LanguageError(f"{where}the text is empty, so its language cannot be told.")
    raise LanguageError(
        f"{where}cannot tell whether this is Python or Bash. "
        "Name the language (--lang python or --lang bash)."
    )
