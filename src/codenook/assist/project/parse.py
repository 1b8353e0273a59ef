"""Turn one file's text into chunks: Python definitions, Bash functions, doc sections, Q&A.

Python comes from the syntax tree (``ast``): modules, classes, functions and methods with
their signatures, docstrings, line ranges and the names they call. Bash functions are
found by their ``name() {`` lines; documentation is cut at its headings (Markdown, rst)
or into paragraphs (text). A JSONL of question/answer pairs gives one chunk per pair.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from dataclasses import dataclass

from codenook.store.projects import Chunk

#: Characters of one chunk's text kept (its head: signature and docstring come first).
MAX_CHUNK_CHARS = 4000
#: Lines of plain text per chunk.
TEXT_LINES = 40
#: Names in a chunk's list of calls at most.
MAX_CALLS = 60


@dataclass
class ParseNotes:
    """What parsing one file could not do."""

    syntax_error: bool = False
    bad_lines: int = 0


def words_of(name: str) -> str:
    """An identifier split into words for search: ``load_JSONConfig`` -> load json config."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    parts = re.split(r"[^A-Za-z0-9]+", spaced)
    return " ".join(p.lower() for p in parts if p)


def _cut(text: str) -> str:
    if len(text) <= MAX_CHUNK_CHARS:
        return text
    return text[:MAX_CHUNK_CHARS].rsplit("\n", 1)[0] + "\n[...]"


def _lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.split("\n")[start - 1 : end])


# ---------------------------------------------------------------------- Python


def _calls(node: ast.AST) -> str:
    names: dict[str, None] = {}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            f = sub.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name:
                names.setdefault(name)
    return " ".join(list(names)[:MAX_CALLS])


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        return f"class {node.name}({bases})" if bases else f"class {node.name}"
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    ret = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){ret}"


def python_chunks(text: str, module: str, notes: ParseNotes) -> list[Chunk]:
    """Module, classes, functions and methods of one Python file."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        notes.syntax_error = True
        return text_chunks(text, module, kind="text")
    lines = text.count("\n") + 1
    doc = ast.get_docstring(tree) or ""
    top = [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    # Module-level constants and settings are answers too ("what is the default port?").
    assigned = [
        _lines(text, n.lineno, n.end_lineno or n.lineno)
        for n in tree.body
        if isinstance(n, ast.Assign | ast.AnnAssign)
    ]
    head = "\n\n".join(
        x for x in (doc, "\n".join(assigned), "Defines: " + ", ".join(top) if top else "") if x
    )
    out = [
        Chunk("module", module, words_of(module), "", 1, lines, _cut(head or _lines(text, 1, 30)))
    ]

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            qual = f"{prefix}{node.name}"
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            sig = _signature(node)
            if isinstance(node, ast.ClassDef):
                kind = "class"
                members = [
                    _signature(m)
                    for m in node.body
                    if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                body_text = _lines(text, start, node.body[0].lineno - 1 if node.body else end)
                doc = ast.get_docstring(node) or ""
                shown = "\n".join(
                    x for x in (body_text.rstrip(), doc and f'    """{doc}"""', *members) if x
                )
                calls = " ".join(
                    n.id if isinstance(n, ast.Name) else ast.unparse(n) for n in node.bases
                )
            else:
                kind = "method" if in_class else "function"
                shown = _lines(text, start, end)
                calls = _calls(node)
            words = f"{words_of(node.name)} {words_of(prefix)}".strip()
            out.append(Chunk(kind, qual, words, sig, start, end, _cut(shown), calls))
            visit(node.body, qual + ".", isinstance(node, ast.ClassDef))

    visit(tree.body, "", False)
    return out


# ---------------------------------------------------------------------- Bash

_BASH_FN = re.compile(
    r"^\s*(?:function\s+([A-Za-z_][\w:.-]*)\s*(?:\(\s*\))?|([A-Za-z_][\w:.-]*)\s*\(\s*\))\s*\{?\s*$"
)
_BASH_WORD = re.compile(r"(?:^|[\s;|&(`$])([A-Za-z_][\w:.-]*)")
_BASH_KEYWORDS = frozenset(
    {
        "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case",
        "esac", "in", "function", "return", "local", "declare", "export", "readonly", "set",
        "shift", "true", "false",
    }
)  # fmt: skip


def bash_chunks(text: str, script: str) -> list[Chunk]:
    """A Bash script's head (its usage comment) and each of its functions."""
    lines = text.split("\n")
    head_end = min(len(lines), 30)
    out = [
        Chunk(
            "script",
            script,
            words_of(script),
            "",
            1,
            len(lines),
            _cut("\n".join(lines[:head_end])),
        )
    ]
    i = 0
    while i < len(lines):
        m = _BASH_FN.match(lines[i])
        if not m:
            i += 1
            continue
        name = m.group(1) or m.group(2)
        start = i
        depth, j, opened = 0, i, False
        while j < len(lines):
            code = lines[j].split("#", 1)[0] if not lines[j].lstrip().startswith("#") else ""
            depth += code.count("{") - code.count("}")
            opened = opened or "{" in code
            if opened and depth <= 0:
                break
            j += 1
        end = min(j, len(lines) - 1)
        # A comment block right above the function describes it.
        while start > 0 and lines[start - 1].lstrip().startswith("#"):
            start -= 1
        body = "\n".join(lines[start : end + 1])
        said = _BASH_WORD.findall("\n".join(lines[i + 1 : end + 1]))
        calls = {w for w in said if w != name and w not in _BASH_KEYWORDS}
        out.append(
            Chunk(
                "function",
                name,
                words_of(name),
                f"{name}()",
                start + 1,
                end + 1,
                _cut(body),
                " ".join(sorted(calls)[:MAX_CALLS]),
            )
        )
        i = end + 1
    return out


# ---------------------------------------------------------------------- documentation

_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


def _sections(text: str, headings: list[tuple[int, int, str]], doc: str) -> list[Chunk]:
    """Chunks from (line index, level, title) headings; text before the first is its own."""
    lines = text.split("\n")
    out: list[Chunk] = []
    trail: list[tuple[int, str]] = []
    starts = [*headings, (len(lines), 0, "")]
    if not headings or headings[0][0] > 0:
        first = headings[0][0] if headings else len(lines)
        body = "\n".join(lines[:first]).strip()
        if body:
            out.append(Chunk("section", doc, words_of(doc), "", 1, max(first, 1), _cut(body)))
    for (at, level, title), (nxt, _, _) in itertools.pairwise(starts):
        trail = [t for t in trail if t[0] < level] + [(level, title)]
        name = " > ".join(t[1] for t in trail)
        body = "\n".join(lines[at:nxt]).strip()
        out.append(Chunk("section", name, words_of(name), "", at + 1, max(nxt, at + 1), _cut(body)))
    return out


def markdown_chunks(text: str, doc: str) -> list[Chunk]:
    """One chunk per Markdown heading (fenced code is not searched for headings)."""
    headings, fenced = [], False
    for n, line in enumerate(text.split("\n")):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _MD_HEADING.match(line)):
            headings.append((n, len(m.group(1)), m.group(2)))
    return _sections(text, headings, doc)


def rst_chunks(text: str, doc: str) -> list[Chunk]:
    """One chunk per reStructuredText section (title over an underline of one character)."""
    lines = text.split("\n")
    headings, levels = [], []
    for n in range(1, len(lines)):
        title, under = lines[n - 1].strip(), lines[n]
        m = _RST_UNDERLINE.match(under)
        if m and title and len(under.strip()) >= len(title) and not _RST_UNDERLINE.match(title):
            if m.group(1) not in levels:
                levels.append(m.group(1))
            headings.append((n - 1, levels.index(m.group(1)) + 1, title))
    return _sections(text, headings, doc)


def text_chunks(text: str, doc: str, *, kind: str = "section") -> list[Chunk]:
    """Plain text in runs of paragraphs of about ``TEXT_LINES`` lines."""
    lines = text.split("\n")
    out, start = [], 0
    while start < len(lines):
        end = min(start + TEXT_LINES, len(lines))
        # End at a blank line where there is one in the second half.
        for k in range(end, start + TEXT_LINES // 2, -1):
            if k < len(lines) and not lines[k].strip():
                end = k
                break
        body = "\n".join(lines[start:end]).strip()
        if body:
            out.append(Chunk(kind, doc, words_of(doc), "", start + 1, end, _cut(body)))
        start = end + 1 if end > start else start + TEXT_LINES
    return out


_QA_KEYS = (("question", "answer"), ("prompt", "completion"), ("instruction", "output"))


def qa_chunks(text: str, notes: ParseNotes) -> list[Chunk]:
    """One chunk per question/answer pair of a JSONL file; other lines are counted bad."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            notes.bad_lines += 1
            continue
        pair = None
        if isinstance(row, dict):
            pair = next(
                ((row[q], row[a]) for q, a in _QA_KEYS if isinstance(row.get(q), str)), None
            )
        if pair is None or not isinstance(pair[1], str):
            notes.bad_lines += 1
            continue
        q, a = pair
        name = " ".join(q.split())[:200]
        out.append(Chunk("qa", name, words_of(name), "", n, n, _cut(f"Q: {q}\nA: {a}")))
    return out


def chunks_for(kind: str, text: str, rel: str, notes: ParseNotes) -> list[Chunk]:
    """The chunks of one file of ``kind``."""
    if kind == "python":
        module = rel.removesuffix(".py").removesuffix(".pyi").replace("/", ".")
        return python_chunks(text, module.removesuffix(".__init__"), notes)
    if kind == "bash":
        return bash_chunks(text, rel)
    if kind == "markdown":
        return markdown_chunks(text, rel)
    if kind == "rst":
        return rst_chunks(text, rel)
    if kind == "qa":
        return qa_chunks(text, notes)
    return text_chunks(text, rel)


def script_kind(first_line: str) -> str | None:
    """A file without a suffix is a script when its shebang names a shell or Python."""
    if not first_line.startswith("#!"):
        return None
    if re.search(r"\b(ba|da|k|z)?sh\b", first_line):
        return "bash"
    if "python" in first_line:
        return "python"
    return None
