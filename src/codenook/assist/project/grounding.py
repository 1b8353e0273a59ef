"""What of the user's projects goes into a job's prompt, counted against the context first.

Each job asks for its own kind of context: ``ask`` the passages that answer the question
(and the closest Q&A pairs as examples), ``review``/``debug`` the definitions the code
calls and the places that call it, ``gen`` the project's conventions (its map and similar
functions), ``complete`` the definitions of the names near the cursor. The budget is what
the context has left once the system prompt, the kept history, the request and the
answer's room are counted with the model's own tokenizer; passages are added best first
while they fit, the first one is shortened rather than dropped, and every passage left
out is named, so nothing disappears silently.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codenook.assist.budget import answer_room
from codenook.assist.project import repomap, search
from codenook.assist.session import ChatSession, for_model
from codenook.auth import User
from codenook.engine.backend import Message
from codenook.store import projects as store
from codenook.store.projects import ChunkRow

CountTokens = Callable[[str], int]
#: Tokens kept free for the wording around the passages and tokenizer seams.
MARGIN = 32
#: Share of the room (context less answer) kept for context before the code is cut.
SHARE = 4
PASSAGES = 8
EXAMPLES = 2
#: The shortest cut-down passage worth sending.
MIN_TOKENS = 48
HEADER = "From the user's project (cite the path:line of what you use):"
EXAMPLES_HEADER = "Examples from the user's Q&A set:"
_NOT_QA = ("module", "class", "function", "method", "script", "section", "text")


@dataclass(frozen=True)
class Passage:
    """One piece of the project as the prompt shows it."""

    source: str
    title: str
    text: str
    tokens: int
    file: str = ""
    line: int = 0
    example: bool = False


@dataclass
class Context:
    """What a job adds: passages and examples that fit, and what was left out."""

    budget: int
    passages: list[Passage] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    #: The repository map (gen), counted like a passage.
    repo_map: str = ""
    map_tokens: int = 0

    @property
    def tokens(self) -> int:
        """Tokens of everything added."""
        return sum(p.tokens for p in self.passages) + self.map_tokens

    @property
    def sources(self) -> list[str]:
        """``path:line`` of every passage added, in order."""
        return [p.source for p in self.passages]

    @property
    def empty(self) -> bool:
        """Whether nothing is added."""
        return not self.passages and not self.repo_map

    def block(self) -> str:
        """The text appended to the request."""
        parts = []
        if self.repo_map:
            parts += ["The project's map (files, then line: definition):", self.repo_map]
        code = [p for p in self.passages if not p.example]
        if code:
            parts += [HEADER, *(p.text for p in code)]
        examples = [p for p in self.passages if p.example]
        if examples:
            parts += [EXAMPLES_HEADER, *(p.text for p in examples)]
        return "\n\n".join(parts)

    def note(self) -> str:
        """One line on what was left out for room, or "" when nothing was."""
        if not self.cut:
            return ""
        return (
            f"Project context: {len(self.passages)} passage(s), {self.tokens:,} of "
            f"{self.budget:,} tokens; left out for room: {'; '.join(self.cut)}."
        )

    def describe(self) -> str:
        """Exactly what is added, with token counts (codenook context show)."""
        head = f"Context budget: {self.budget:,} tokens; used {self.tokens:,}."
        rows = [head]
        if self.repo_map:
            rows.append(f"- repository map ({self.map_tokens:,} tokens)")
        for p in self.passages:
            what = "example" if p.example else "passage"
            rows.append(f"- {what} {p.source} {p.title} ({p.tokens:,} tokens)")
        rows += [f"- left out: {c}" for c in self.cut]
        if self.empty:
            rows.append("(nothing would be added)")
        return "\n".join(rows) + "\n\n" + self.block()


def with_context(request: str, context: Context | None) -> str:
    """``request`` with the context's block after it (unchanged when there is none)."""
    if context is None or context.empty:
        return request
    return f"{request.rstrip()}\n\n{context.block()}"


def has_projects(db: sqlite3.Connection, user: User) -> bool:
    """Whether the user has any indexed project (else grounding costs nothing)."""
    return bool(store.list_projects(db, user.id))


def room(session: ChatSession, request: str, *, extra: str = "") -> int:
    """Tokens the context has left for project context next to ``request``.

    Counts the system prompt, the history the session keeps, the request and the
    answer's room with the model's tokenizer.
    """
    b = session.backend
    info = b.info
    pairs = session.turns()[session._first_turn :]
    messages = [
        Message("system", session.system_prompt),
        *(m for pair in pairs for m in pair),
        Message("user", for_model(request + extra)),
    ]
    used = b.count_prompt(messages)
    left = info.context_length - answer_room(info.context_length, session.options.max_tokens)
    return max(0, left - used - MARGIN)


def share(session: ChatSession) -> int:
    """Tokens to hold back for context before a job sizes its code."""
    info = session.backend.info
    return (info.context_length - answer_room(info.context_length, session.options.max_tokens)) // (
        SHARE
    )


def _render(c: ChunkRow, text: str | None = None) -> str:
    if c.path.endswith((".py", ".pyi")):
        lang = "python"
    elif c.kind == "script" or c.path.endswith((".sh", ".bash")):
        lang = "bash"
    else:
        lang = ""
    body = c.text if text is None else text
    if c.kind == "qa":
        return body
    fence = "```" if "```" not in body else "~~~~"
    return (
        f"[{c.path}:{c.start_line}-{c.end_line}] {c.kind} {c.name}\n{fence}{lang}\n{body}\n{fence}"
    )


def _shortened(c: ChunkRow, count: CountTokens, room_left: int) -> tuple[str, int] | None:
    """The chunk cut to its first lines so it fits ``room_left``; None if too little fits."""
    lines = c.text.split("\n")
    lo, hi, best = 1, len(lines) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        text = _render(c, "\n".join(lines[:mid]) + f"\n[... {len(lines) - mid} more lines]")
        n = count(text)
        if n <= room_left:
            best, lo = (text, n), mid + 1
        else:
            hi = mid - 1
    if best is None or best[1] < min(MIN_TOKENS, room_left):
        return None
    return best


def fit(
    chunks: Sequence[ChunkRow],
    *,
    count_tokens: CountTokens,
    budget: int,
    context: Context | None = None,
    example: bool = False,
) -> Context:
    """Add ``chunks`` best first while they fit ``budget``; say which did not."""
    ctx = context or Context(budget)
    seen = {p.source for p in ctx.passages}
    header = count_tokens(EXAMPLES_HEADER if example else HEADER) + 2
    for c in chunks:
        source = f"{c.path}:{c.start_line}"
        if source in seen:
            continue
        seen.add(source)
        left = ctx.budget - ctx.tokens - (header if not _has(ctx, example) else 0)
        text = _render(c)
        n = count_tokens(text) + 2  # the blank line between passages
        title = f"{c.kind} {c.name}"
        if n <= left:
            ctx.passages.append(Passage(source, title, text, n, _file(c), c.start_line, example))
            continue
        if not ctx.passages and not example and left > MIN_TOKENS:
            # The best passage alone is too big: its head is better than nothing.
            short = _shortened(c, count_tokens, left - 2)
            if short is not None:
                ctx.passages.append(
                    Passage(source, title, short[0], short[1] + 2, _file(c), c.start_line)
                )
                ctx.cut.append(f"{source} shortened to fit ({n:,} tokens whole)")
                continue
        ctx.cut.append(f"{source} ({n:,} tokens)")
    return ctx


def _file(c: ChunkRow) -> str:
    return str(Path(c.root) / c.path)


def _has(ctx: Context, example: bool) -> bool:
    return any(p.example == example for p in ctx.passages)


# ---------------------------------------------------------------------- per job


def for_question(
    db: sqlite3.Connection,
    user: User,
    question: str,
    *,
    count_tokens: CountTokens,
    budget: int,
    project: str | None = None,
) -> Context:
    """ask: the passages that answer ``question``, then the closest Q&A pairs as examples."""
    pairs = search.search(db, user, question, project=project, kinds=("qa",), limit=EXAMPLES)
    # Examples get at most a quarter of the room, so they never crowd out the passages.
    examples = fit(
        [h.chunk for h in pairs], count_tokens=count_tokens, budget=budget // 4, example=True
    )
    hits = search.search(db, user, question, project=project, kinds=_NOT_QA, limit=PASSAGES)
    ctx = Context(budget - examples.tokens, cut=list(examples.cut))
    ctx = fit([h.chunk for h in hits], count_tokens=count_tokens, budget=0, context=ctx)
    ctx.budget = budget
    ctx.passages += examples.passages
    return ctx


def names_used(code: str, *, language: str) -> tuple[list[str], list[str]]:
    """(names the code calls, names it defines), from the syntax tree or Bash words."""
    calls: dict[str, None] = {}
    defined: dict[str, None] = {}
    if language == "python":
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                    if name:
                        calls.setdefault(name)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defined.setdefault(node.name)
            return [c for c in calls if c not in defined], list(defined)
        words = re.findall(r"\b([A-Za-z_]\w*)\s*\(", code)
        return list(dict.fromkeys(words)), []
    for m in re.finditer(r"^\s*(?:function\s+)?([A-Za-z_][\w:.-]*)\s*\(\s*\)", code, re.M):
        defined.setdefault(m.group(1))
    for w in re.findall(r"(?:^|[\s;|&(`$])([A-Za-z_][\w:.-]*)", code):
        if w not in defined:
            calls.setdefault(w)
    return list(calls), list(defined)


def _outside(chunks: Sequence[ChunkRow], path: str | None) -> list[ChunkRow]:
    """Chunks not from the file under work itself (it is in the prompt already)."""
    if path is None:
        return list(chunks)
    here = str(Path(path).resolve())
    return [c for c in chunks if str(Path(c.root) / c.path) != here]


def for_code(
    db: sqlite3.Connection,
    user: User,
    code: str,
    *,
    language: str,
    path: str | None,
    count_tokens: CountTokens,
    budget: int,
    project: str | None = None,
) -> Context:
    """review/debug: definitions the code calls, then the places that call its definitions."""
    ids = search.project_ids(db, user, project)
    calls, defined = names_used(code, language=language)
    called = _outside(store.chunks_named(db, user.id, calls[:40], project_ids=ids), path)
    # The order the code calls them in: the first calls are usually the ones that matter.
    rank = {n: i for i, n in enumerate(calls)}
    called.sort(key=lambda c: rank.get(c.name.rsplit(".", 1)[-1], len(rank)))
    callers: list[ChunkRow] = []
    for name in defined[:20]:
        callers += store.callers_of(db, user.id, name, project_ids=ids, limit=5)
    callers = _outside(callers, path)
    return fit([*called, *callers], count_tokens=count_tokens, budget=budget)


def for_generation(
    db: sqlite3.Connection,
    user: User,
    description: str,
    *,
    count_tokens: CountTokens,
    budget: int,
    project: str | None = None,
) -> Context:
    """gen: the project's conventions: its map (half the budget) and similar functions."""
    projects = store.list_projects(db, user.id)
    if project is not None:
        projects = [p for p in projects if p.name == project or p.root == project]
    ctx = Context(budget)
    if projects:
        # The most recently indexed project is the one being worked on.
        p = max(projects, key=lambda p: p.updated)
        m = repomap.project_map(
            db, user, p.id, count_tokens=count_tokens, budget=budget // 2,
            focus=search.terms(description),
        )  # fmt: skip
        if m.shown:
            ctx.repo_map, ctx.map_tokens = m.text, m.tokens + 16
            if m.shown < m.total:
                ctx.cut.append(f"the map shows {m.shown} of {m.total} definitions")
    hits = search.search(
        db, user, description, project=project, kinds=("function", "method"), limit=4
    )
    return fit([h.chunk for h in hits], count_tokens=count_tokens, budget=budget, context=ctx)


def for_completion(
    db: sqlite3.Connection,
    user: User,
    prefix: str,
    suffix: str,
    *,
    language: str,
    path: str | None,
    count_tokens: CountTokens,
    budget: int,
    project: str | None = None,
) -> Context:
    """complete: the definitions of the names used near the cursor."""
    near = "\n".join(prefix.split("\n")[-30:] + suffix.split("\n")[:10])
    words = list(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", near)))[-60:]
    ids = search.project_ids(db, user, project)
    found = _outside(store.chunks_named(db, user.id, words, project_ids=ids), path)
    # Signature and docstring are what a completion needs: the head of each definition.
    heads = [dataclasses.replace(c, text="\n".join(c.text.split("\n")[:8])) for c in found]
    return fit(heads, count_tokens=count_tokens, budget=budget)
