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

The sandbox runs a file by its name first (``name_first=True``) and never guesses from
content (``by_content=False``): a ``.py`` file is run with Python whatever its first line
says. This is the one :class:`Language` type and the one alias table of codenook.
"""

from __future__ import annotations

import ast
import re
import warnings
from enum import StrEnum
from pathlib import PurePath

from codenook.errors import CodenookError


class Language(StrEnum):
    """Python or Bash: the languages codenook writes, checks and runs (equal to their names)."""

    PYTHON = "python"
    BASH = "bash"


LANGUAGES: tuple[Language, ...] = (Language.PYTHON, Language.BASH)

#: Names and fence labels that mean one of codenook's languages. ``zsh``, ``console``
#: and ``shell-session`` are left out on purpose: they are not Bash or hold prompts.
ALIASES: dict[str, Language] = {
    "python": Language.PYTHON,
    "py": Language.PYTHON,
    "python3": Language.PYTHON,
    "py3": Language.PYTHON,
    "bash": Language.BASH,
    "sh": Language.BASH,
    "shell": Language.BASH,
}
EXTENSIONS: dict[str, Language] = {
    ".py": Language.PYTHON,
    ".pyw": Language.PYTHON,
    ".sh": Language.BASH,
    ".bash": Language.BASH,
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
    # python3, python3.12, python3-dbg; pypy3.
    if re.fullmatch(r"(?:python|pypy)[\w.-]*", prog):
        return Language.PYTHON
    if prog in _SHELLS:
        return Language.BASH
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


def detect_language(
    text: str,
    *,
    path: str | None = None,
    override: str | None = None,
    name_first: bool = False,
    by_content: bool = True,
) -> Language:
    """Tell Python from Bash: override, then shebang, then extension, then content.

    ``name_first``: the extension before the shebang; ``by_content=False``: never from
    the code's signs (how the sandbox picks the interpreter for a file).
    """
    if override:
        return normalise_language(override)
    by_ext = from_extension(path)
    if name_first and by_ext:
        return by_ext
    by_shebang = from_shebang(text)
    if by_shebang:
        return by_shebang
    if not by_content:
        if by_ext:
            return by_ext
        raise LanguageError(f"Cannot tell whether {path or 'this'} is Python or Bash.")
    return _by_content(text, path, by_ext)


def _by_content(text: str, path: str | None, by_ext: Language | None) -> Language:
    """The extension unless the content clearly disagrees; without one, the content."""
    parses, py, sh = content_signs(text)
    clearly_bash = not parses and sh >= 2 and sh > py
    clearly_python = parses and py >= 2 and sh == 0
    if by_ext == Language.PYTHON:
        return Language.BASH if clearly_bash else Language.PYTHON
    if by_ext == Language.BASH:
        return Language.PYTHON if clearly_python else Language.BASH
    if parses and py > sh:
        return Language.PYTHON
    if sh > py or (sh and not parses):
        return Language.BASH
    where = f"{path}: " if path else ""
    if not text.strip():
        raise LanguageError(f"{where}the text is empty, so its language cannot be told.")
    raise LanguageError(
        f"{where}cannot tell whether this is Python or Bash. "
        "Name the language (--lang python or --lang bash)."
    )
