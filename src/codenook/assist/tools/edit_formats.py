"""Three ways to ask a model for a change to a file, each with its grammar and its applier.

- ``diff``: one unified diff (what ``review --apply`` reads);
- ``search_replace``: search/replace blocks, as Aider asks for them;
- ``function``: the one function that changes, rewritten whole.

Each format says how to ask, which GBNF grammar keeps the answer well formed (for runtimes
that take grammars), and how to apply an answer; :func:`apply_edit` returns the new text, or
None when the answer does not apply or changes nothing.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from codenook.assist.tools.code_blocks import extract_code_blocks
from codenook.assist.tools.diffs import DiffError, apply_diff, extract_diff
from codenook.engine.grammars import (
    search_replace_grammar,
    unified_diff_grammar,
    whole_function_grammar,
)

FORMATS = ("diff", "search_replace", "function")

_INSTRUCTIONS = {
    "diff": (
        "Answer with one unified diff of {name} in a ```diff block: '--- a/{name}', "
        "'+++ b/{name}', then hunks starting '@@ -start,count +start,count @@' whose lines "
        "start with ' ' (unchanged), '-' (removed) or '+' (added)."
    ),
    "search_replace": (
        "Answer with search/replace blocks only, each:\n<<<<<<< SEARCH\n(lines copied "
        "exactly from {name})\n=======\n(the lines that replace them)\n>>>>>>> REPLACE"
    ),
    "function": (
        "Answer with the one function of {name} that needs the fix, rewritten whole, in one "
        "```python block, and nothing else."
    ),
}
_BLOCK = re.compile(r"<<<<<<< SEARCH\n(.*?)=======\n(.*?)>>>>>>> REPLACE", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class EditRequest:
    """What to ask for a change to one file, in one format."""

    format: str
    instruction: str
    grammar: str


def function_names(text: str) -> list[str]:
    """Top-level functions and methods defined in a Python file (none if it does not parse)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def edit_request(fmt: str, text: str, *, name: str) -> EditRequest:
    """How to ask for a change to ``text`` (called ``name``) in format ``fmt``."""
    if fmt == "diff":
        grammar = unified_diff_grammar(text, name=name)
    elif fmt == "search_replace":
        grammar = search_replace_grammar(text)
    elif fmt == "function":
        grammar = whole_function_grammar(function_names(text))
    else:
        raise ValueError(f"unknown edit format {fmt!r}; the formats are {', '.join(FORMATS)}")
    return EditRequest(fmt, _INSTRUCTIONS[fmt].format(name=name), grammar)


def _apply_search_replace(text: str, answer: str) -> str | None:
    blocks = _BLOCK.findall(answer)
    if not blocks:
        return None
    out = text
    for search, replacement in blocks:
        if not search or search not in out:
            return None
        out = out.replace(search, replacement, 1)
    return out


def _apply_function(text: str, answer: str) -> str | None:
    blocks = [b.code for b in extract_code_blocks(answer) if b.code.strip()]
    if not blocks:
        return None
    new = blocks[0]
    try:
        tree = ast.parse(new)
    except SyntaxError:
        return None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if len(defs) != 1:
        return None
    target = next(
        (
            n
            for n in ast.walk(ast.parse(text))
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == defs[0].name
        ),
        None,
    )
    if target is None or target.end_lineno is None:
        return None
    lines = text.splitlines(keepends=True)
    first = min([target.lineno, *(d.lineno for d in target.decorator_list)]) - 1
    indent = re.match(r"[ \t]*", lines[first]).group(0)  # type: ignore[union-attr]
    body = "".join(
        (indent + ln if ln.strip() else ln) for ln in new.rstrip("\n").splitlines(keepends=True)
    )
    return "".join(lines[:first]) + body + "\n" + "".join(lines[target.end_lineno :])


def apply_edit(fmt: str, text: str, answer: str) -> str | None:
    """The file after the answer's change, or None when it does not apply or changes nothing."""
    try:
        if fmt == "diff":
            diff = extract_diff(answer)
            new = apply_diff(text, diff).text if diff else None
        elif fmt == "search_replace":
            new = _apply_search_replace(text, answer)
        else:
            new = _apply_function(text, answer)
    except (DiffError, SyntaxError, ValueError):
        return None
    return new if new is not None and new != text else None
