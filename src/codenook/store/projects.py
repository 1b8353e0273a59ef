"""A user's indexed projects: their files, chunks (definitions, sections, Q&A pairs), FTS5.

Every query names the user: another user's projects are never seen, whatever id is asked.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Project:
    """One indexed folder of one user."""

    id: int
    user_id: int
    name: str
    root: str
    stats: dict[str, Any]
    version: int
    created: float
    updated: float


@dataclass(frozen=True)
class FileRow:
    """What is known of an indexed file, to tell whether it changed."""

    id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str
    kind: str


@dataclass(frozen=True)
class Chunk:
    """One definition, section or Q&A pair, as it goes into the index."""

    kind: str
    name: str
    words: str
    signature: str
    start_line: int
    end_line: int
    text: str
    calls: str = ""


@dataclass(frozen=True)
class ChunkRow:
    """A stored chunk with its project."""

    id: int
    project_id: int
    project: str
    root: str
    path: str
    kind: str
    name: str
    signature: str
    start_line: int
    end_line: int
    text: str
    calls: str


def _project(row: sqlite3.Row) -> Project:
    return Project(
        row["id"],
        row["user_id"],
        row["name"],
        row["root"],
        json.loads(row["stats"] or "{}"),
        row["version"],
        row["created"],
        row["updated"],
    )


def add_project(db: sqlite3.Connection, user_id: int, *, name: str, root: str) -> Project:
    """Record a new project (the caller checked that name and root are free)."""
    now = time.time()
    cur = db.execute(
        "INSERT INTO projects (user_id, name, root, created, updated) VALUES (?, ?, ?, ?, ?)",
        (user_id, name, root, now, now),
    )
    found = get_project(db, user_id, int(cur.lastrowid or 0))
    assert found is not None
    return found


def get_project(db: sqlite3.Connection, user_id: int, project_id: int) -> Project | None:
    """One of the user's projects by id (None when it is someone else's)."""
    row = db.execute(
        "SELECT * FROM projects WHERE id = ? AND user_id = ?", (project_id, user_id)
    ).fetchone()
    return _project(row) if row else None


def find_project(db: sqlite3.Connection, user_id: int, key: str) -> Project | None:
    """One of the user's projects by name or root folder."""
    row = db.execute(
        "SELECT * FROM projects WHERE user_id = ? AND (name = ? OR root = ?)",
        (user_id, key, key),
    ).fetchone()
    return _project(row) if row else None


def list_projects(db: sqlite3.Connection, user_id: int) -> list[Project]:
    """The user's projects, by name."""
    rows = db.execute("SELECT * FROM projects WHERE user_id = ? ORDER BY name", (user_id,))
    return [_project(r) for r in rows]


def remove_project(db: sqlite3.Connection, user_id: int, project_id: int) -> bool:
    """Forget a project and everything indexed from it; False when it is not the user's."""
    db.execute("BEGIN IMMEDIATE")
    try:
        # Chunks first, so the FTS trigger sees each one go (not only the cascade).
        db.execute(
            "DELETE FROM project_chunks WHERE project_id IN "
            "(SELECT id FROM projects WHERE id = ? AND user_id = ?)",
            (project_id, user_id),
        )
        cur = db.execute("DELETE FROM projects WHERE id = ? AND user_id = ?", (project_id, user_id))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return cur.rowcount > 0


def set_stats(db: sqlite3.Connection, project_id: int, stats: dict[str, Any]) -> None:
    """Keep the last indexing's counts and mark the project changed."""
    db.execute(
        "UPDATE projects SET stats = ?, updated = ?, version = version + 1 WHERE id = ?",
        (json.dumps(stats, sort_keys=True), time.time(), project_id),
    )


def files(db: sqlite3.Connection, project_id: int) -> dict[str, FileRow]:
    """The project's indexed files by relative path."""
    rows = db.execute(
        "SELECT id, path, size, mtime_ns, sha256, kind FROM project_files WHERE project_id = ?",
        (project_id,),
    )
    return {r["path"]: FileRow(*tuple(r)) for r in rows}


def touch_file(db: sqlite3.Connection, file_id: int, *, size: int, mtime_ns: int) -> None:
    """A file whose time changed but whose content did not."""
    db.execute(
        "UPDATE project_files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
    )


def replace_file(
    db: sqlite3.Connection,
    project_id: int,
    *,
    path: str,
    size: int,
    mtime_ns: int,
    sha256: str,
    kind: str,
    chunks: Sequence[Chunk],
) -> int:
    """Store a (new or changed) file and its chunks in place of what was there."""
    old = db.execute(
        "SELECT id FROM project_files WHERE project_id = ? AND path = ?", (project_id, path)
    ).fetchone()
    if old is not None:
        db.execute("DELETE FROM project_chunks WHERE file_id = ?", (old["id"],))
        db.execute(
            "UPDATE project_files SET size = ?, mtime_ns = ?, sha256 = ?, kind = ? WHERE id = ?",
            (size, mtime_ns, sha256, kind, old["id"]),
        )
        file_id = int(old["id"])
    else:
        cur = db.execute(
            "INSERT INTO project_files (project_id, path, size, mtime_ns, sha256, kind) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (project_id, path, size, mtime_ns, sha256, kind),
        )
        file_id = int(cur.lastrowid or 0)
    db.executemany(
        "INSERT INTO project_chunks (project_id, file_id, path, kind, name, words, signature, "
        "start_line, end_line, text, calls) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                project_id,
                file_id,
                path,
                c.kind,
                c.name,
                c.words,
                c.signature,
                c.start_line,
                c.end_line,
                c.text,
                c.calls,
            )
            for c in chunks
        ],
    )
    return file_id


def delete_files(db: sqlite3.Connection, project_id: int, paths: Iterable[str]) -> int:
    """Forget files that are gone from the folder; returns how many."""
    n = 0
    for path in paths:
        row = db.execute(
            "SELECT id FROM project_files WHERE project_id = ? AND path = ?", (project_id, path)
        ).fetchone()
        if row is not None:
            db.execute("DELETE FROM project_chunks WHERE file_id = ?", (row["id"],))
            db.execute("DELETE FROM project_files WHERE id = ?", (row["id"],))
            n += 1
    return n


_CHUNK_COLUMNS = (
    "c.id, c.project_id, p.name AS project, p.root, c.path, c.kind, c.name, c.signature, "
    "c.start_line, c.end_line, c.text, c.calls"
)


def _chunk(row: sqlite3.Row) -> ChunkRow:
    return ChunkRow(*tuple(row)[:12])


def _scope(user_id: int, project_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    """SQL (on alias p) limiting rows to the user's projects, or some of them."""
    if project_ids is None:
        return "p.user_id = ?", [user_id]
    marks = ",".join("?" * len(project_ids)) or "NULL"
    return f"p.user_id = ? AND p.id IN ({marks})", [user_id, *project_ids]


def keyword_search(
    db: sqlite3.Connection,
    user_id: int,
    match: str,
    *,
    project_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    limit: int = 20,
) -> list[ChunkRow]:
    """Chunks matching an FTS5 ``match`` expression, best (BM25) first."""
    where, params = _scope(user_id, project_ids)
    if kinds:
        where += f" AND c.kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    # Rank inside FTS5 first (BM25 over the index alone), then keep the user's rows: joining
    # before the ranking costs a row lookup per match. When too few of the best matches are
    # the user's (other users' projects, other kinds), look further down the ranking.
    pool = max(limit * 8, 200)
    while True:
        rows = db.execute(
            f"WITH best AS (SELECT rowid AS id, bm25(project_chunks_fts, 6.0, 2.0, 1.0) AS score "
            "FROM project_chunks_fts WHERE project_chunks_fts MATCH ? ORDER BY score LIMIT ?) "
            f"SELECT {_CHUNK_COLUMNS}, best.score FROM best "
            "JOIN project_chunks c ON c.id = best.id JOIN projects p ON p.id = c.project_id "
            f"WHERE {where} ORDER BY best.score LIMIT ?",
            [match, pool, *params, limit],
        ).fetchall()
        if len(rows) >= limit or pool >= _matches(db, match):
            return [_chunk(r) for r in rows]
        pool *= 8


def _matches(db: sqlite3.Connection, match: str) -> int:
    """How many chunks (of all users) match ``match``."""
    row = db.execute(
        "SELECT count(*) FROM project_chunks_fts WHERE project_chunks_fts MATCH ?", (match,)
    ).fetchone()
    return int(row[0])


def chunks_by_id(db: sqlite3.Connection, user_id: int, ids: Sequence[int]) -> list[ChunkRow]:
    """The user's chunks with these ids, in the order given."""
    if not ids:
        return []
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS} FROM project_chunks c JOIN projects p ON p.id = c.project_id "
        f"WHERE p.user_id = ? AND c.id IN ({','.join('?' * len(ids))})",
        [user_id, *ids],
    )
    by_id = {r["id"]: _chunk(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def chunks_named(
    db: sqlite3.Connection,
    user_id: int,
    names: Sequence[str],
    *,
    project_ids: Sequence[int] | None = None,
    limit: int = 50,
) -> list[ChunkRow]:
    """Definitions whose name (or its last dotted part) is one of ``names``."""
    if not names:
        return []
    where, params = _scope(user_id, project_ids)
    marks = ",".join("?" * len(names))
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS} FROM project_chunks c JOIN projects p ON p.id = c.project_id "
        f"WHERE {where} AND c.kind NOT IN ('section', 'qa', 'text') "
        f"AND (c.name IN ({marks}) OR substr(c.name, instr(c.name, '.') + 1) IN ({marks})) "
        "ORDER BY c.path, c.start_line LIMIT ?",
        [*params, *names, *names, limit],
    )
    return [_chunk(r) for r in rows]


def callers_of(
    db: sqlite3.Connection,
    user_id: int,
    name: str,
    *,
    project_ids: Sequence[int] | None = None,
    limit: int = 20,
) -> list[ChunkRow]:
    """Definitions whose calls include ``name``."""
    where, params = _scope(user_id, project_ids)
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS} FROM project_chunks c JOIN projects p ON p.id = c.project_id "
        f"WHERE {where} AND (' ' || c.calls || ' ') LIKE ? ESCAPE '\\' "
        "ORDER BY c.path, c.start_line LIMIT ?",
        [
            *params,
            "% " + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %",
            limit,
        ],
    )
    return [_chunk(r) for r in rows]


def definitions(db: sqlite3.Connection, user_id: int, project_id: int) -> list[ChunkRow]:
    """Every definition of one project (for the repository map)."""
    rows = db.execute(
        f"SELECT {_CHUNK_COLUMNS} FROM project_chunks c JOIN projects p ON p.id = c.project_id "
        "WHERE p.user_id = ? AND p.id = ? ORDER BY c.path, c.start_line",
        (user_id, project_id),
    )
    return [_chunk(r) for r in rows]


def missing_embeddings(
    db: sqlite3.Connection, project_id: int, *, limit: int = 256
) -> list[tuple[int, str]]:
    """(id, text to embed) of chunks without a vector yet."""
    rows = db.execute(
        "SELECT id, kind, name, signature, text FROM project_chunks "
        "WHERE project_id = ? AND embedding IS NULL ORDER BY id LIMIT ?",
        (project_id, limit),
    )
    return [(r["id"], f"{r['name']} {r['signature']}\n{r['text']}") for r in rows]


def set_embeddings(db: sqlite3.Connection, vectors: Iterable[tuple[int, bytes]]) -> None:
    """Store float32 vectors (as bytes) by chunk id."""
    db.executemany(
        "UPDATE project_chunks SET embedding = ? WHERE id = ?", [(v, i) for i, v in vectors]
    )


def embeddings(db: sqlite3.Connection, user_id: int, project_id: int) -> list[tuple[int, bytes]]:
    """(chunk id, vector bytes) of one of the user's projects."""
    rows = db.execute(
        "SELECT c.id, c.embedding FROM project_chunks c JOIN projects p ON p.id = c.project_id "
        "WHERE p.user_id = ? AND p.id = ? AND c.embedding IS NOT NULL",
        (user_id, project_id),
    )
    return [(r[0], r[1]) for r in rows]
