"""Docstrings put into Python source, and comments into Bash, without touching the code.

Python: the syntax tree says where each module, class and function is and whether it
has a docstring; the tokenizer finds the colon that ends each header. Every change is
an insertion at one offset (or, with ``replace=True``, the swap of an old docstring
literal), so the file outside the docstrings stays byte for byte the same, CRLF line
endings and tabs included. The result is parsed and compared with the original's
syntax tree before it is returned.

Where a docstring goes:

- a module: before its first statement (after a shebang, an encoding line and any
  leading comments), followed by a blank line when code follows directly;
- a block ``def f():`` + body on the next lines: on the line after the header, with
  the body's own indentation;
- a one-line function ``def f(): return 1``: the line is split. The insertion goes
  right after the colon and ends with the body's indentation *less* the blanks that
  already stood between the colon and ``return``, so ``def f(): return 1`` becomes
  ``def f():`` / ``    \"\"\"Doc.\"\"\"`` / ``    return 1``, and removing the insertion
  gives back the original bytes. The new indentation is the file's indentation unit
  (its first indented block; a tab where the header is tab-indented; else four
  spaces). When the blanks do not fit that indentation, the insertion goes just
  before ``return`` instead and those blanks stay at the end of the header line.

Definitions inside function bodies are not documented (they are local helpers);
definitions inside ``if``/``try``/``with`` blocks at module or class level are. Names
are qualified like ``__qualname__`` without ``<locals>`` (``Outer.Inner.method``); the
module is ``<module>``; a name defined twice gets ``#2``, ``#3`` ... after the first.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
import warnings
from dataclasses import dataclass

from codenook.errors import CodenookError

MODULE = "<module>"
STYLES: tuple[str, ...] = ("google", "numpy", "sphinx")

_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class DocstringError(CodenookError):
    """Docstrings or comments cannot be inserted (the source does not parse, a bad name...)."""


@dataclass(frozen=True)
class Target:
    """Something that can carry a docstring: its kind, qualified name, place and source."""

    kind: str  # "module", "class", "function" or "method"
    name: str
    line: int
    indent: str
    source: str
    has_docstring: bool = False
    end_line: int = 0


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` with ``text`` (an insertion when ``start == end``)."""

    start: int
    end: int
    text: str
    name: str


# ---------------------------------------------------------------------- reading the source


def _split_lines(text: str) -> list[str]:
    """Physical lines with their endings, split only where Python's tokenizer splits."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text)


def _newline_of(line: str, default: str) -> str:
    for nl in ("\r\n", "\n", "\r"):
        if line.endswith(nl):
            return nl
    return default


def _dominant_newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _leading_ws(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t\f"))]


def _parse(text: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError) as e:
        where = f" (line {e.lineno})" if isinstance(e, SyntaxError) and e.lineno else ""
        raise DocstringError(
            f"The file does not parse as Python{where}: {e}. Fix the syntax error first."
        ) from None


def _docstring_node(node: ast.Module | _Def) -> ast.Expr | None:
    body = node.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[0]
    return None


class _Source:
    """A source text with its lines, their offsets, its tokens and its tree."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tree = _parse(text)
        self.lines = _split_lines(text)
        self.starts = [0]
        for ln in self.lines:
            self.starts.append(self.starts[-1] + len(ln))
        self.newline = _dominant_newline(text)
        self.tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.COMMENT)
        ]
        # NAME only: a DEDENT token starts where the next statement's first token does.
        self._token_at = {t.start: i for i, t in enumerate(self.tokens) if t.type == tokenize.NAME}
        indents = [t.string for t in self.tokens if t.type == tokenize.INDENT]
        self.unit = indents[0] if indents else "    "

    def line(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    def offset(self, lineno: int, col_bytes: int) -> int:
        """Character offset of an ast position (whose column counts UTF-8 bytes)."""
        line = self.line(lineno)
        col = len(line.encode("utf-8")[:col_bytes].decode("utf-8", errors="ignore"))
        return self.starts[lineno - 1] + col

    def char_col(self, lineno: int, col_bytes: int) -> int:
        return self.offset(lineno, col_bytes) - self.starts[lineno - 1]


@dataclass
class _Found:
    target: Target
    node: ast.Module | _Def


def _walk(src: _Source) -> list[_Found]:
    found = [
        _Found(
            Target("module", MODULE, 1, "", src.text, _docstring_node(src.tree) is not None, 0),
            src.tree,
        )
    ]
    seen: dict[str, int] = {}

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        for stmt in body:
            if isinstance(stmt, _Def):
                qual = prefix + stmt.name
                seen[qual] = seen.get(qual, 0) + 1
                name = qual if seen[qual] == 1 else f"{qual}#{seen[qual]}"
                if isinstance(stmt, ast.ClassDef):
                    kind = "class"
                else:
                    kind = "method" if in_class else "function"
                first = min([stmt.lineno, *(d.lineno for d in stmt.decorator_list)])
                end = stmt.end_lineno or stmt.lineno
                code = "".join(src.lines[first - 1 : end])
                target = Target(
                    kind,
                    name,
                    stmt.lineno,
                    _body_indent(src, stmt),
                    code,
                    _docstring_node(stmt) is not None,
                    end,
                )
                found.append(_Found(target, stmt))
                if isinstance(stmt, ast.ClassDef):
                    visit(stmt.body, qual + ".", True)
                continue
            for field_name in ("body", "orelse", "finalbody"):
                visit(getattr(stmt, field_name, []), prefix, in_class)
            for handler in getattr(stmt, "handlers", []):
                visit(handler.body, prefix, in_class)
            for case in getattr(stmt, "cases", []):
                visit(case.body, prefix, in_class)

    visit(src.tree.body, "", False)
    return found


def _header(src: _Source, node: _Def) -> tuple[tokenize.TokenInfo, tokenize.TokenInfo]:
    """The colon that ends a def/class header, and the token after it."""
    i = src._token_at.get((node.lineno, src.char_col(node.lineno, node.col_offset)))
    if i is None:
        raise DocstringError(f"Cannot find the header of {node.name} at line {node.lineno}.")
    depth = 0
    for j in range(i, len(src.tokens)):
        tok = src.tokens[j]
        if tok.type == tokenize.OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == ":" and depth == 0:
                return tok, src.tokens[j + 1]
    raise DocstringError(f"Cannot find the end of the header of {node.name}.")


def _body_indent(src: _Source, node: _Def) -> str:
    _, after = _header(src, node)
    if after.type == tokenize.NEWLINE:
        return _leading_ws(src.line(node.body[0].lineno))
    return _one_line_indent(src, node)


def _one_line_indent(src: _Source, node: _Def) -> str:
    header = _leading_ws(src.line(node.lineno))
    unit = "\t" if "\t" in header else src.unit
    return header + unit


# ---------------------------------------------------------------------- Python


def missing_docstrings(source: str, *, all_: bool = False) -> list[Target]:
    """The module, classes and functions without a docstring (every one with ``all_``)."""
    text = source.removeprefix("\ufeff")
    return [f.target for f in _walk(_Source(text)) if all_ or not f.target.has_docstring]


def _clean_doc(doc: str, name: str) -> str:
    s = doc.replace("\r\n", "\n").replace("\r", "\n").strip()
    m = re.fullmatch(r'(?s)[rRuU]?("""|\'\'\')(.*)\1', s)
    if m:
        s = m.group(2)
    s = inspect.cleandoc(s).strip()
    if not s:
        raise DocstringError(f"The docstring for {name} is empty.")
    return s


def _escape(s: str) -> str:
    s = s.replace("\\", "\\\\")
    # Quotes at the very end would run into the closing quotes: escape each of them.
    s = re.sub(r'"+\Z', lambda m: '\\"' * len(m.group()), s)
    s = s.replace('"""', '""\\"')
    # Control characters other than tab and newline would make the source unreadable.
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", s)


def format_docstring(doc: str, *, indent: str, newline: str = "\n", name: str = "") -> str:
    """A docstring literal in PEP 257 layout, continuation lines indented by ``indent``."""
    lines = _escape(_clean_doc(doc, name or "this definition")).split("\n")
    if len(lines) == 1:
        return f'"""{lines[0]}"""'
    rest = [indent + ln if ln.strip() else "" for ln in lines[1:]]
    return newline.join([f'"""{lines[0]}', *rest, f'{indent}"""'])


def _module_edit(src: _Source, doc: str) -> Edit:
    body = src.tree.body
    if body:
        first = body[0]
        decorators = getattr(first, "decorator_list", [])
        lineno = min([first.lineno, *(d.lineno for d in decorators)])
        at = src.starts[lineno - 1]
        nl = _newline_of(src.line(lineno), src.newline)
        literal = format_docstring(doc, indent="", newline=nl, name=MODULE)
        return Edit(at, at, literal + nl + nl, MODULE)
    nl = src.newline
    literal = format_docstring(doc, indent="", newline=nl, name=MODULE)
    at = len(src.text)
    lead = nl if src.text and not src.text.endswith(("\n", "\r")) else ""
    return Edit(at, at, lead + literal + nl, MODULE)


def _def_edit(src: _Source, node: _Def, name: str, doc: str) -> Edit:
    colon, after = _header(src, node)
    if after.type == tokenize.NEWLINE:
        indent = _leading_ws(src.line(node.body[0].lineno))
        nl = _newline_of(src.line(colon.start[0]), src.newline)
        literal = format_docstring(doc, indent=indent, newline=nl, name=name)
        at = src.starts[colon.start[0]]  # the start of the line after the header
        return Edit(at, at, indent + literal + nl, name)
    # A one-line body: split it off onto its own line after the docstring.
    indent = _one_line_indent(src, node)
    nl = _newline_of(src.line(colon.start[0]), src.newline)
    literal = format_docstring(doc, indent=indent, newline=nl, name=name)
    colon_end = src.starts[colon.end[0] - 1] + colon.end[1]
    body_start = src.starts[after.start[0] - 1] + after.start[1]
    blanks = src.text[colon_end:body_start]
    if blanks and re.fullmatch(r"[ \t]+", blanks) and indent.endswith(blanks):
        text = nl + indent + literal + nl + indent[: len(indent) - len(blanks)]
        return Edit(colon_end, colon_end, text, name)
    return Edit(body_start, body_start, nl + indent + literal + nl + indent, name)


def _replace_edit(src: _Source, found: _Found, doc: str) -> Edit:
    node = _docstring_node(found.node)
    assert node is not None
    start = src.offset(node.lineno, node.col_offset)
    end = src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
    line = src.line(node.lineno)
    col = start - src.starts[node.lineno - 1]
    indent = line[:col] if not line[:col].strip() else found.target.indent
    nl = _newline_of(line, src.newline)
    return Edit(
        start,
        end,
        format_docstring(doc, indent=indent, newline=nl, name=found.target.name),
        found.target.name,
    )


def plan_docstrings(
    source: str, docs: dict[str, str], *, style: str = "google", replace: bool = False
) -> list[Edit]:
    """The edits that put ``docs`` (qualified name -> text) into ``source``, in order."""
    if style not in STYLES:
        raise DocstringError(f"Unknown docstring style {style!r}; use google, numpy or sphinx.")
    bom = "\ufeff" if source.startswith("\ufeff") else ""
    src = _Source(source[len(bom) :])
    found = {f.target.name: f for f in _walk(src)}
    unknown = sorted(set(docs) - set(found))
    if unknown:
        raise DocstringError(f"No such definition in the file: {', '.join(unknown)}.")
    edits = []
    for name, doc in docs.items():
        f = found[name]
        if f.target.has_docstring:
            if replace:
                edits.append(_replace_edit(src, f, doc))
            continue
        if isinstance(f.node, ast.Module):
            edits.append(_module_edit(src, doc))
        else:
            edits.append(_def_edit(src, f.node, name, doc))
    shift = len(bom)
    return sorted(
        (Edit(e.start + shift, e.end + shift, e.text, e.name) for e in edits),
        key=lambda e: (e.start, e.end),
    )


def apply_edits(source: str, edits: list[Edit]) -> str:
    """``source`` with non-overlapping ``edits`` made (they are sorted by position)."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(source[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(source[pos:])
    return "".join(out)


def _without_docstrings(tree: ast.Module) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module):
            if _docstring_node(node) is not None:
                node.body = node.body[1:]
        elif isinstance(node, _Def) and _docstring_node(node) is not None:
            node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def insert_docstrings(
    source: str, docs: dict[str, str], *, style: str = "google", replace: bool = False
) -> str:
    """``source`` with each ``docs[name]`` inserted as that definition's docstring.

    Definitions that already have a docstring keep it unless ``replace`` is true.
    """
    result = apply_edits(source, plan_docstrings(source, docs, style=style, replace=replace))
    # The guarantee, checked rather than hoped: the result parses, and apart from
    # docstrings its syntax tree is the original's.
    before = _without_docstrings(_parse(source.removeprefix("\ufeff")))
    try:
        after_tree = _parse(result.removeprefix("\ufeff"))
    except DocstringError:
        after_tree = None
    if after_tree is None or _without_docstrings(after_tree) != before:
        raise DocstringError(
            "Inserting the docstrings would change the code; nothing was changed. "
            "This is a bug in codenook: please report it with the file."
        )
    return result


# ---------------------------------------------------------------------- Bash

_BASH_FUNC = re.compile(
    r"^(?P<indent>[ \t]*)"
    r"(?:function[ \t]+(?P<kw>[A-Za-z_][\w:.-]*)(?:[ \t]*\([ \t]*\))?"
    r"|(?P<plain>[A-Za-z_][\w:.-]*)[ \t]*\([ \t]*\))"
    r"[ \t]*(?:[{(]|#|$)"
)
_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_]\w*)\2")


def _bash_function_lines(source: str) -> list[tuple[str, int, str]]:
    """(name, line index, indentation) of each function definition, outside heredocs."""
    found = []
    lines = _split_lines(source)
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r\n")
        i += 1
        if line.lstrip().startswith("#"):
            continue
        m = _BASH_FUNC.match(line)
        if m:
            found.append((m.group("kw") or m.group("plain"), i - 1, m.group("indent")))
        for h in _HEREDOC.finditer(line):
            strip_tabs, word = h.group(1) == "-", h.group(3)
            while i < len(lines):
                body = lines[i].rstrip("\r\n")
                i += 1
                if (body.lstrip("\t") if strip_tabs else body) == word:
                    break
    return found


def bash_functions(source: str) -> list[str]:
    """The names of the functions a Bash script defines, in order."""
    return [name for name, _, _ in _bash_function_lines(source)]


def _comment_block(text: str, indent: str, nl: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    return "".join(
        f"{indent}# {ln.rstrip()}{nl}" if ln.strip() else f"{indent}#{nl}" for ln in lines
    )


def insert_bash_header(source: str, usage: str, functions: dict[str, str]) -> str:
    """``source`` with a usage comment after the shebang and a comment above each function."""
    nl = _dominant_newline(source)
    lines = _split_lines(source)
    defs: dict[str, tuple[int, str]] = {}
    for name, index, indent in _bash_function_lines(source):
        defs.setdefault(name, (index, indent))
    unknown = sorted(set(functions) - set(defs))
    if unknown:
        raise DocstringError(f"No such function in the script: {', '.join(unknown)}.")
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))
    edits = []
    if usage.strip():
        if source.startswith("#!"):
            first = lines[0]
            at = len(first)
            lead = "" if first.endswith(("\n", "\r")) else nl
            edits.append(Edit(at, at, lead + _comment_block(usage, "", nl), "<usage>"))
        else:
            edits.append(Edit(0, 0, _comment_block(usage, "", nl), "<usage>"))
    for name, text in functions.items():
        if not text.strip():
            continue
        index, indent = defs[name]
        at = starts[index]
        edits.append(Edit(at, at, _comment_block(text, indent, nl), name))
    return apply_edits(source, edits)
