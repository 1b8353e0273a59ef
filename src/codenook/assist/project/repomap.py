"""A repository map in the spirit of Aider's: files and their most-referenced definitions.

Each definition is ranked by how many other definitions call it by name (a stand-in for
Aider's graph rank that needs no language server), public before private; the map is the
longest ranked prefix whose rendering fits a token budget counted with the model's own
tokenizer (a binary search, so the tokenizer runs a handful of times, not per line).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from codenook.auth import User
from codenook.store import projects as store
from codenook.store.projects import ChunkRow

DEFINITION_KINDS = ("class", "function", "method")


@dataclass(frozen=True)
class RepoMap:
    """The map's text, its size in tokens, and how many definitions it shows of how many."""

    text: str
    tokens: int
    shown: int
    total: int


def ranked(chunks: Sequence[ChunkRow], *, focus: Sequence[str] = ()) -> list[ChunkRow]:
    """Definitions, most referenced first (names in ``focus`` ahead of their rank)."""
    calls: Counter[str] = Counter()
    for c in chunks:
        calls.update(set(c.calls.split()))
    wanted = {f.lower() for f in focus}
    defs = [c for c in chunks if c.kind in DEFINITION_KINDS]

    def score(c: ChunkRow) -> tuple[float, str, int]:
        short = c.name.rsplit(".", 1)[-1]
        s = float(calls[short])
        if short.startswith("_"):
            s -= 0.5
        if short.lower() in wanted or c.path in focus:
            s += 100
        if c.kind == "class":
            s += 0.25
        return (-s, c.path, c.start_line)

    return sorted(defs, key=score)


def render(defs: Sequence[ChunkRow]) -> str:
    """Definitions grouped by file, in the files' order of first appearance in ``defs``."""
    by_file: dict[str, list[ChunkRow]] = defaultdict(list)
    for c in defs:
        by_file[c.path].append(c)
    out = []
    for path, items in by_file.items():
        out.append(f"{path}:")
        for c in sorted(items, key=lambda c: c.start_line):
            indent = "    " if c.kind == "method" else "  "
            out.append(f"{indent}{c.start_line}: {c.signature or c.name}")
    return "\n".join(out) + ("\n" if out else "")


def build(
    chunks: Sequence[ChunkRow],
    *,
    count_tokens: Callable[[str], int],
    budget: int,
    focus: Sequence[str] = (),
) -> RepoMap:
    """The map of ``chunks`` cut to ``budget`` tokens."""
    order = ranked(chunks, focus=focus)
    lo, hi, best = 0, len(order), ("", 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        text = render(order[:mid])
        n = count_tokens(text)
        if n <= budget:
            lo, best = mid, (text, n)
        else:
            hi = mid - 1
    return RepoMap(best[0], best[1], lo, len(order))


def project_map(
    db: sqlite3.Connection,
    user: User,
    project_id: int,
    *,
    count_tokens: Callable[[str], int],
    budget: int,
    focus: Sequence[str] = (),
) -> RepoMap:
    """The map of one of the user's projects."""
    chunks = store.definitions(db, user.id, project_id)
    return build(chunks, count_tokens=count_tokens, budget=budget, focus=focus)
