"""Code blocks in a model's Markdown answer, found by a real CommonMark parser.

Only fenced blocks count (```` ``` ```` and ``~~~``, any length): an indented block is
too easily a list item's continuation in a model's prose. A fence left open at the
end of the text (a streamed answer that was stopped) runs to the end, as CommonMark
says, and is marked ``closed=False``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

from codenook.assist.tools.language import ALIASES

#: Fence labels that mean one of codenook's languages: the one alias table.
LANGUAGE_ALIASES = ALIASES

_md = MarkdownIt("commonmark")


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: its label's language (``None`` if unlabeled) and its code."""

    language: str | None
    code: str
    closed: bool = True


def _label(info: str) -> str | None:
    # "python title=x.py", "{.python}", "Python" -> "python"
    words = info.strip().strip("{}").split()
    if not words:
        return None
    return words[0].lstrip(".").lower() or None


def _is_closing(line: str, markup: str) -> bool:
    s = line.strip()
    return len(s) >= len(markup) and set(s) == {markup[0]}


def extract_code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced code block in ``markdown``, in order (nested in lists and quotes too)."""
    # Split as markdown-it does (not str.splitlines, which also breaks at \x0c and U+2028).
    lines = re.split(r"\r\n|\r|\n", markdown)
    blocks = []
    for tok in _md.parse(markdown):
        if tok.type != "fence":
            continue
        closed = True
        if tok.map is not None:
            start, end = tok.map
            last = lines[end - 1] if 0 < end <= len(lines) else ""
            # Strip a blockquote's or list's prefix before looking for the closing fence.
            last = re.sub(r"^[\s>]*", "", last)
            closed = end - 1 > start and _is_closing(last, tok.markup)
        blocks.append(CodeBlock(_label(tok.info), tok.content, closed))
    return blocks


def canonical_language(label: str | None) -> str | None:
    """The codenook language a fence label means (``py`` -> ``python``), else the label."""
    if label is None:
        return None
    return LANGUAGE_ALIASES.get(label.lower(), label.lower())


def first_block(markdown: str, language: str) -> CodeBlock | None:
    """The first block labeled ``language`` (or an alias), else the first unlabeled one."""
    want = canonical_language(language)
    blocks = extract_code_blocks(markdown)
    for b in blocks:
        if canonical_language(b.language) == want:
            return b
    for b in blocks:
        if b.language is None:
            return b
    return None
