"""Search a user's projects: FTS5 keywords (BM25), embeddings (cosine), fused by rank.

Reciprocal rank fusion adds ``1 / (60 + rank)`` over the two lists, so neither method's
scores need to be comparable; a passage both methods rank high wins.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codenook.assist.project.parse import words_of
from codenook.auth import User
from codenook.store import projects as store
from codenook.store.projects import ChunkRow

METHODS = ("combined", "keyword", "semantic")
RRF_K = 60
#: Candidates each method brings to the fusion.
POOL = 30
MAX_TERMS = 24
_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from",
        "has", "have", "how", "i", "in", "is", "it", "its", "of", "on", "or", "that", "the",
        "this", "to", "was", "what", "when", "where", "which", "who", "why", "will", "with",
        "would", "should", "there", "their", "my", "me", "we", "you", "your", "use", "used",
        "using", "into", "about", "code", "function", "file", "files", "project",
    }
)  # fmt: skip
_vectors: dict[tuple[str, int], tuple[int, np.ndarray, np.ndarray]] = {}
_vectors_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    """One passage found, with where it lives."""

    chunk: ChunkRow
    score: float

    @property
    def source(self) -> str:
        """``path:line`` (relative to the project's folder)."""
        return f"{self.chunk.path}:{self.chunk.start_line}"

    @property
    def file(self) -> Path:
        """The file on disk."""
        return Path(self.chunk.root) / self.chunk.path


def terms(text: str) -> list[str]:
    """The words of a question worth matching (identifiers also split into their words)."""
    found: dict[str, None] = {}
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+", text):
        for w in [token.lower(), *words_of(token).split()]:
            if len(w) > 1 and w not in _STOP:
                found.setdefault(w)
    return list(found)[:MAX_TERMS]


def fts_query(text: str) -> str | None:
    """An FTS5 expression matching any of the question's terms (None when it has none)."""
    words = terms(text)
    return " OR ".join(f'"{w}"' for w in words) if words else None


def project_ids(db: sqlite3.Connection, user: User, project: str | None) -> list[int] | None:
    """The ids to search: one named project, or None for all of the user's."""
    if project is None:
        return None
    from codenook.assist.project.index import find

    return [find(db, user, project).id]


def keyword(
    db: sqlite3.Connection,
    user: User,
    query: str,
    *,
    ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = POOL,
) -> list[ChunkRow]:
    """Passages by BM25 over names, paths and text."""
    match = fts_query(query)
    if match is None:
        return []
    return store.keyword_search(db, user.id, match, project_ids=ids, kinds=kinds, limit=limit)


def _db_key(db: sqlite3.Connection) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2])


def _matrix(db: sqlite3.Connection, user: User, project_id: int, version: int) -> tuple:
    """(chunk ids, vectors) of one project, cached until the project changes."""
    key = (_db_key(db), project_id)
    with _vectors_lock:
        cached = _vectors.get(key)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
    rows = store.embeddings(db, user.id, project_id)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    mat = (
        np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        if rows
        else np.zeros((0, 1), np.float32)
    )
    with _vectors_lock:
        _vectors[key] = (version, ids, mat)
    return ids, mat


def semantic(
    db: sqlite3.Connection,
    user: User,
    query: str,
    *,
    ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = POOL,
) -> list[ChunkRow]:
    """Passages nearest the question's embedding (none when the model cannot run)."""
    from codenook.assist.project import embed

    projects = [p for p in store.list_projects(db, user.id) if ids is None or p.id in ids]
    if not projects or embed.unavailable():
        return []
    parts = [_matrix(db, user, p.id, p.version) for p in projects]
    parts = [(i, m) for i, m in parts if len(i)]
    if not parts:
        return []
    model = embed.embedder()
    if model is None:
        return []
    q = model.embed([query])[0]
    all_ids = np.concatenate([i for i, _ in parts])
    scores = np.concatenate([m @ q for _, m in parts])
    order = np.argsort(-scores)
    want = limit * 3 if kinds else limit
    chunks = store.chunks_by_id(db, user.id, [int(all_ids[k]) for k in order[:want]])
    if kinds:
        chunks = [c for c in chunks if c.kind in kinds]
    return chunks[:limit]


def fuse(lists: Sequence[Sequence[ChunkRow]], *, k: int = RRF_K) -> list[Hit]:
    """Reciprocal rank fusion of ranked lists, best first."""
    scores: dict[int, float] = {}
    chunks: dict[int, ChunkRow] = {}
    for ranked in lists:
        for rank, c in enumerate(ranked, 1):
            scores[c.id] = scores.get(c.id, 0.0) + 1.0 / (k + rank)
            chunks[c.id] = c
    return [Hit(chunks[i], s) for i, s in sorted(scores.items(), key=lambda x: -x[1])]


def search(
    db: sqlite3.Connection,
    user: User,
    query: str,
    *,
    project: str | None = None,
    method: str = "combined",
    kinds: Sequence[str] | None = None,
    limit: int = 8,
) -> list[Hit]:
    """The passages of the user's projects that best answer ``query``."""
    if method not in METHODS:
        raise ValueError(f"unknown search method {method!r}")
    ids = project_ids(db, user, project)
    lists = []
    if method in ("combined", "keyword"):
        lists.append(keyword(db, user, query, ids=ids, kinds=kinds))
    if method in ("combined", "semantic"):
        lists.append(semantic(db, user, query, ids=ids, kinds=kinds))
    return fuse(lists)[:limit]
