"""Markdown to display blocks: styled text runs and highlighted code blocks. No Tk here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from pygments import lex
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound

_MD = MarkdownIt("commonmark")
ALIASES = {
    "py": "python",
    "python3": "python",
    "sh": "bash",
    "shell": "bash",
    "zsh": "bash",
    "console": "bash",
}


# Unfenced shell in an answer: a `# comment` line would be a Markdown heading and the
# indentation would be lost. A run of lines that reads as shell is fenced before parsing.
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_COMMENT = re.compile(r"^\s*#(?:!|\s|$)")
_SHELL_WORDS = (
    "if|then|elif|else|fi|for|while|until|do|done|case|esac|function|echo|printf|export|"
    "local|return|exit|cd|ls|grep|sed|awk|mkdir|rm|cp|mv|cat|set|read|shift|source|test|"
    "declare|readonly|trap|sudo|chmod|chown|find|xargs|tar|curl|wget|git|pip|python3?|make|"
    "touch|head|tail|sort|uniq|wc|cut|tr|apt|apt-get|docker|ssh|systemctl|npm|kill"
)
_SHELL_LINE = re.compile(
    rf"^\s*(?:(?:{_SHELL_WORDS})\b|[A-Za-z_]\w*=\S|[A-Za-z_][\w-]*\s*\(\)\s*\{{|[{{}}]\s*$|;;)"
    r"|\$\(|\$\{|\s(?:&&|\|\|)\s|\s\|\s|\\$"
)


def _is_shell(lines: list[str]) -> bool:
    """Whether a paragraph's lines read as shell: a shebang, or comments among lines that
    are all shell commands (a heading followed by prose is not)."""
    if lines[0].startswith("#!"):
        return True
    commands = [x for x in lines if not _COMMENT.match(x)]
    return bool(commands) and len(commands) < len(lines) and all(map(_SHELL_LINE.search, commands))


def fence_shell(markdown: str) -> str:
    """``markdown`` with each unfenced paragraph of shell code put in a ``bash`` fence.

    Outside fences only; shell paragraphs with only blank lines between are one block.
    """
    out: list[str] = []
    para: list[str] = []
    fenced: str | None = None
    shell_end = -1  # where the last shell block's closing fence is in ``out``

    def flush() -> None:
        nonlocal shell_end
        if para and _is_shell(para):
            if shell_end >= 0 and not any(x.strip() for x in out[shell_end + 1 :]):
                del out[shell_end]  # only blank lines since the last shell block: one block
            else:
                out.append("```bash")
            out.extend(para)
            shell_end = len(out)
            out.append("```")
        elif para:
            shell_end = -1
            out.extend(para)
        para.clear()

    for line in markdown.split("\n"):
        m = _FENCE_LINE.match(line)
        if fenced is not None or m:
            flush()
            shell_end = -1
            out.append(line)
            if fenced is None:
                fenced = m.group(1)[0] * 3 if m else None
            elif line.strip().startswith(fenced):
                fenced = None
        elif line.strip():
            para.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


@dataclass(frozen=True)
class Run:
    """A piece of text with its style tags (bold, italic, code, h1..h3, link, ...)."""

    text: str
    tags: tuple[str, ...] = ()
    href: str | None = None


@dataclass
class TextBlock:
    """Flowing text: paragraphs, headings, lists, quotes."""

    runs: list[Run] = field(default_factory=list)


@dataclass
class CodeBlock:
    """A fenced or indented code block, highlighted by Pygments."""

    language: str | None
    code: str
    runs: list[tuple[str, str]] = field(default_factory=list)  # (pygments token tag, text)


Block = TextBlock | CodeBlock


def token_tag(ttype: _TokenType) -> str:
    """The Tk tag name for a Pygments token type."""
    return "pyg" + str(ttype).removeprefix("Token")


def highlight(code: str, language: str | None) -> list[tuple[str, str]]:
    """Pygments runs for ``code``; plain text when the language is unknown."""
    name = ALIASES.get((language or "").lower(), (language or "").lower())
    lexer = _lexer(name) if name else None
    if lexer is None:
        return [(token_tag(Token.Text), code)]
    runs: list[tuple[str, str]] = []
    for ttype, text in lex(code, lexer):
        tag = token_tag(ttype)
        if runs and runs[-1][0] == tag:
            runs[-1] = (tag, runs[-1][1] + text)
        else:
            runs.append((tag, text))
    # Pygments adds a final newline; the block's own text decides.
    if runs and not code.endswith("\n") and runs[-1][1].endswith("\n"):
        tag, text = runs[-1]
        runs[-1] = (tag, text[:-1])
    return [r for r in runs if r[1]]


@lru_cache(maxsize=32)
def _lexer(name: str) -> Lexer | None:
    # Looking a lexer up scans installed plugins: slow enough to matter per code block.
    try:
        return get_lexer_by_name(name, stripnl=False)
    except ClassNotFound:
        return None


def _inline(children: list, base: tuple[str, ...]) -> list[Run]:
    runs: list[Run] = []
    styles: list[str] = []
    href: str | None = None
    for t in children:
        if t.type in ("strong_open", "em_open"):
            styles.append("bold" if t.type == "strong_open" else "italic")
        elif t.type in ("strong_close", "em_close"):
            if styles:
                styles.pop()
        elif t.type == "link_open":
            href = t.attrs.get("href")
        elif t.type == "link_close":
            href = None
        elif t.type == "code_inline":
            runs.append(Run(t.content, (*base, *styles, "code"), href))
        elif t.type in ("softbreak", "hardbreak"):
            runs.append(Run("\n", base))
        elif t.type in ("text", "html_inline"):
            tags = (*base, *styles, *(("link",) if href else ()))
            runs.append(Run(t.content, tags, href))
        elif t.type == "image":
            runs.append(Run(f"[image: {t.content}]", base))
    return runs


def to_blocks(markdown: str) -> list[Block]:
    """Parse Markdown into display blocks, in order."""
    blocks: list[Block] = []
    text = TextBlock()
    base: list[str] = []
    lists: list[list[int]] = []  # per open list: [is_ordered, next_number]

    def flush() -> None:
        nonlocal text
        if text.runs:
            blocks.append(text)
            text = TextBlock()

    def newline() -> None:
        if text.runs and not text.runs[-1].text.endswith("\n"):
            text.runs.append(Run("\n"))

    for t in _MD.parse(fence_shell(markdown)):
        if t.type == "heading_open":
            newline()
            base.append(t.tag if t.tag in ("h1", "h2", "h3") else "h3")
        elif t.type == "heading_close":
            base.pop()
            text.runs.append(Run("\n"))
        elif t.type in ("bullet_list_open", "ordered_list_open"):
            newline()
            start = int(t.attrs.get("start", 1) or 1)
            lists.append([t.type == "ordered_list_open", start])
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t.type == "list_item_open":
            newline()
            indent = "    " * (len(lists) - 1)
            ordered, number = lists[-1]
            bullet = f"{number}. " if ordered else "• "
            lists[-1][1] = number + 1
            text.runs.append(Run(indent + bullet, ("bullet",)))
        elif t.type == "blockquote_open":
            base.append("quote")
        elif t.type == "blockquote_close":
            base.remove("quote")
        elif t.type == "inline":
            text.runs.extend(_inline(t.children or [], tuple(base)))
        elif t.type == "paragraph_close":
            text.runs.append(Run("\n" if lists else "\n\n"))
        elif t.type in ("fence", "code_block"):
            flush()
            language = (t.info or "").strip().split(" ")[0] or None
            blocks.append(CodeBlock(language, t.content, highlight(t.content, language)))
        elif t.type == "hr":
            newline()
            text.runs.append(Run("—" * 20 + "\n"))
        elif t.type == "html_block":
            text.runs.append(Run(t.content))
    flush()
    # Trailing blank lines add nothing on screen.
    if blocks and isinstance(blocks[-1], TextBlock):
        runs = blocks[-1].runs
        while runs and not runs[-1].text.strip():
            runs.pop()
    return blocks
