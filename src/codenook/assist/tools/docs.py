"""Local documentation that grounds an answer: pydoc, Bash's ``help``, and ``man``.

Names are picked from the question (see :func:`names_in`) and looked up in
subprocesses with a timeout and a small, fixed environment. Python documentation
comes from ``python -I -m pydoc NAME`` with codenook's own interpreter: pydoc imports
the module it documents, which runs that module's code, so it happens in a throwaway
isolated process (no user site, no current folder on ``sys.path``), and only for
standard-library modules and builtins, minus the few that act on import
(``antigravity`` opens a browser). Each excerpt is bounded, and so is their total.
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from codenook.assist.tools.language import normalise_language

EXCERPT_CHARS = 1500
TOTAL_CHARS = 4000
MAX_NAMES = 4
LOOKUP_TIMEOUT_S = 10.0

# Standard-library modules that do something when imported, or are not documentation.
_NO_IMPORT = {"antigravity", "this", "__hello__", "__phello__", "idlelib", "turtledemo", "test"}
# Module names that are also everyday English: they count only when written as code
# (`time`, time.sleep, time(...)), not as a bare word in a sentence.
_ENGLISH_PY = {
    "abc", "array", "ast", "base64", "calendar", "code", "codecs", "copy", "dis", "email",
    "glob", "io", "keyword", "math", "numbers", "operator", "platform", "queue", "random",
    "resource", "secrets", "select", "signal", "site", "string", "struct", "test", "this",
    "time", "token", "trace", "types", "wave", "warnings",
}  # fmt: skip
BASH_BUILTINS = {
    ".", ":", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
    "complete", "compopt", "continue", "declare", "dirs", "disown", "echo", "enable", "eval",
    "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash", "help", "history", "jobs",
    "kill", "let", "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read",
    "readarray", "readonly", "return", "set", "shift", "shopt", "source", "suspend", "test",
    "times", "trap", "true", "type", "typeset", "ulimit", "umask", "unalias", "unset", "wait",
    # keywords, which ``help`` documents too
    "case", "for", "function", "if", "select", "until", "while", "[[", "coproc",
}  # fmt: skip
# Builtins that are everyday English: only when written as code. ``read`` is not here:
# in a shell question it nearly always means the builtin.
_ENGLISH_BASH = {
    "alias", "bind", "break", "builtin", "caller", "case", "command", "continue", "enable",
    "exit", "false", "for", "function", "hash", "help", "history", "if", "jobs", "kill", "let",
    "local", "return", "select", "set", "shift", "source", "suspend", "test", "times", "trap",
    "true", "type", "until", "wait", "while", "export",
}  # fmt: skip
# Commands worth a man page even when named as a bare word in a shell question.
COMMON_COMMANDS = {
    "awk", "basename", "cat", "chmod", "chown", "cp", "curl", "cut", "date", "dd", "df", "diff",
    "dirname", "du", "find", "gawk", "grep", "gzip", "head", "jq", "ln", "ls", "mkdir", "mktemp",
    "mv", "nohup", "ps", "readlink", "realpath", "rm", "rsync", "scp", "sed", "seq", "sort",
    "ssh", "stat", "tail", "tar", "tee", "timeout", "touch", "tr", "uniq", "wc", "wget",
    "xargs", "zip",
}  # fmt: skip


@dataclass(frozen=True)
class DocExcerpt:
    """A bounded excerpt of local documentation and where it came from."""

    source: str
    name: str
    text: str


def _stdlib_roots() -> set[str]:
    names = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
    return {n for n in names if not n.startswith("_")} - _NO_IMPORT


def _code_spans(question: str) -> list[str]:
    return re.findall(r"`+([^`]+?)`+", question)


def _python_names(question: str) -> list[str]:
    roots = _stdlib_roots()
    builtin_names = {n for n in dir(builtins) if not n.startswith("_")}
    found: list[tuple[int, str]] = []
    code = " ".join(_code_spans(question))

    for m in re.finditer(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b", question):
        name = m.group()
        root = name.split(".")[0]
        if root in roots or root in builtin_names:
            found.append((m.start(), name))
    for m in re.finditer(r"\b([A-Za-z_]\w*)\(", question):
        if m.group(1) in builtin_names or m.group(1) in roots:
            found.append((m.start(), m.group(1)))
    for m in re.finditer(r"\b[A-Za-z_]\w*\b", question):
        word = m.group()
        in_code = re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", code) is not None
        module = word in roots and (in_code or word not in _ENGLISH_PY)
        if module or (word in builtin_names and in_code):
            found.append((m.start(), word))
    names = _ordered(found)
    # "subprocess" adds nothing when "subprocess.run" is asked about.
    return [n for n in names if not any(o.startswith(n + ".") for o in names)]


def _ordered(found: list[tuple[int, str]]) -> list[str]:
    seen: list[str] = []
    for _, name in sorted(found):
        if name not in seen:
            seen.append(name)
    return seen


def _bash_names(question: str) -> list[tuple[str, str]]:
    found: list[tuple[int, str]] = []
    code_words = set()
    for span in _code_spans(question):
        code_words.update(re.findall(r"(?:^|[\s;|&(])([A-Za-z_][\w.+-]*|\[\[)", span))
    for m in re.finditer(r"(?<![\w$-])([A-Za-z_][\w.+-]*|\[\[)", question):
        word = m.group(1).rstrip(".")
        wanted = (
            word in code_words
            or (word in BASH_BUILTINS and word not in _ENGLISH_BASH)
            or word in COMMON_COMMANDS
            # "grep -r": a word followed by an option is a command
            or re.match(rf"{re.escape(word)}\s+--?[A-Za-z]", question[m.start() :]) is not None
        )
        if wanted:
            found.append((m.start(), word))
    out = []
    for name in _ordered(found):
        out.append(("help" if name in BASH_BUILTINS else "man", name))
    return out


def names_in(question: str, *, language: str) -> list[tuple[str, str]]:
    """(tool, name) pairs to look up for ``question``: ``pydoc``, ``help`` or ``man``."""
    if normalise_language(language) == "python":
        return [("pydoc", n) for n in _python_names(question)][:MAX_NAMES]
    return _bash_names(question)[:MAX_NAMES]


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PAGER": "cat",
        "MANPAGER": "cat",
        "COLUMNS": "80",
        "MANWIDTH": "80",
        "HOME": tempfile.gettempdir(),
    }


def _run(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=LOOKUP_TIMEOUT_S,
            env=_env(),
            cwd=tempfile.gettempdir(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return proc.stdout


def _bounded(text: str, limit: int) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text.strip())
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 6)
    if cut < limit // 2:
        cut = limit - 6
    return text[:cut].rstrip() + "\n[...]"


def pydoc_text(name: str) -> str | None:
    """pydoc's text for a standard-library name, from an isolated subprocess."""
    if not re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", name):
        return None
    out = _run([sys.executable, "-I", "-m", "pydoc", name])
    if out is None or out.startswith("No Python documentation found"):
        return None
    return out


def bash_help_text(name: str) -> str | None:
    """Bash's ``help`` text for a builtin or keyword."""
    bash = shutil.which("bash")
    if bash is None or name not in BASH_BUILTINS:
        return None
    # The name goes in as an argument, never as part of the command string.
    return _run([bash, "-c", 'help -- "$1"', "bash", name])


def man_text(name: str) -> str | None:
    """The man page of a command as plain text, when ``man`` and the page are installed."""
    man = shutil.which("man")
    if man is None or not re.fullmatch(r"[A-Za-z_][\w.+-]{0,40}", name):
        return None
    out = _run([man, "-P", "cat", name])
    if out is None:
        return None
    out = re.sub(r".\x08", "", out)  # overstrike bold and underline
    lines = out.splitlines()
    # Drop the "GREP(1)  User Commands  GREP(1)" title line.
    if lines and re.match(r"^\S+\(\w+\)\s", lines[0]):
        lines = lines[1:]
    return "\n".join(lines)


def lookup(
    question: str,
    *,
    language: str,
    excerpt_chars: int = EXCERPT_CHARS,
    total_chars: int = TOTAL_CHARS,
) -> list[DocExcerpt]:
    """Bounded excerpts of local docs for the names in ``question``; unknown names give none."""
    excerpts: list[DocExcerpt] = []
    left = total_chars
    for tool, name in names_in(question, language=language):
        if left < 200:
            break
        if tool == "pydoc":
            text, source = pydoc_text(name), f"pydoc {name}"
        elif tool == "help":
            text, source = bash_help_text(name), f"bash help {name}"
        else:
            text, source = man_text(name), f"man {name}"
        if not text:
            continue
        bounded = _bounded(text, min(excerpt_chars, left))
        excerpts.append(DocExcerpt(source, name, bounded))
        left -= len(bounded)
    return excerpts
