"""Add, update and remove a user's projects: read what changed, parse, redact, store.

Incremental: a file whose size and time are as stored is not read; one whose content hash
is as stored is not parsed again. Each file is stored in its own small transaction batch,
so an error part way leaves the index as usable as before, and every file left out or
read imperfectly is counted by reason in the :class:`IndexReport`.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from codenook.assist.project import scan
from codenook.assist.project.parse import ParseNotes, chunks_for, script_kind
from codenook.auth import User
from codenook.errors import CodenookError
from codenook.redact import redact
from codenook.store import projects as store
from codenook.store.projects import Chunk, Project

#: Files stored per transaction: fewer commits, yet a crash loses at most this much work.
BATCH = 200


class ProjectError(CodenookError):
    """A project cannot be added, found or updated as asked."""


@dataclass
class IndexReport:
    """What one indexing did: files read, kept, removed; what was left out and why."""

    project: str
    root: str
    files: int = 0
    read: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    #: Files left out, by reason (too_large, binary, minified, vendored, unreadable ...).
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    #: Files indexed imperfectly, by reason (not_utf8, syntax_error, bad_qa_lines, secrets).
    notes: Counter[str] = field(default_factory=Counter)
    embedded: int = 0
    semantic: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """Plain data (stored with the project and printed by --json)."""
        return {
            "project": self.project,
            "root": self.root,
            "files": self.files,
            "read": self.read,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "chunks": self.chunks,
            "skipped": dict(self.skipped),
            "examples": self.examples,
            "notes": dict(self.notes),
            "embedded": self.embedded,
            "semantic": self.semantic,
            "seconds": round(self.seconds, 3),
        }

    def lines(self) -> list[str]:
        """The report for a person, a few lines."""
        out = [
            f"{self.project}: {self.files:,} files indexed ({self.read:,} read, "
            f"{self.unchanged:,} unchanged, {self.removed:,} removed) in {self.seconds:.1f} s"
        ]
        if self.skipped:
            parts = ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in self.skipped.items())
            out.append(f"  left out: {parts}")
        if self.notes:
            parts = ", ".join(f"{n:,} {why.replace('_', ' ')}" for why, n in self.notes.items())
            out.append(f"  noted: {parts}")
        if self.semantic:
            out.append(f"  semantic search: {self.semantic}")
        return out


def _unique_name(db: sqlite3.Connection, user: User, wanted: str) -> str:
    taken = {p.name for p in store.list_projects(db, user.id)}
    name, n = wanted, 2
    while name in taken:
        name, n = f"{wanted}-{n}", n + 1
    return name


def find(db: sqlite3.Connection, user: User, key: str) -> Project:
    """One of the user's projects by name or folder, or a ProjectError naming the choices."""
    found = store.find_project(db, user.id, key)
    if found is None:
        try:
            found = store.find_project(db, user.id, str(Path(key).expanduser().resolve()))
        except OSError:
            found = None
    if found is None:
        names = ", ".join(p.name for p in store.list_projects(db, user.id)) or "none yet"
        raise ProjectError(f"No project {key!r} (yours: {names}; see codenook project list).")
    return found


def add(
    db: sqlite3.Connection,
    user: User,
    folder: str | Path,
    *,
    name: str | None = None,
    semantic: bool = True,
    before_read: Callable[[Path], None] | None = None,
) -> IndexReport:
    """Index ``folder`` as a new project of ``user``."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ProjectError(f"{root} is not a folder; give the folder of a project to index.")
    root = root.resolve()
    if store.find_project(db, user.id, str(root)) is not None:
        raise ProjectError(
            f"{root} is already a project; 'codenook project update' reads it again."
        )
    if name is not None and store.find_project(db, user.id, name) is not None:
        raise ProjectError(f"You already have a project named {name!r}; choose another --name.")
    project = store.add_project(
        db, user.id, name=name or _unique_name(db, user, root.name or "root"), root=str(root)
    )
    return update(db, user, project.name, semantic=semantic, before_read=before_read)


def remove(db: sqlite3.Connection, user: User, key: str) -> Project:
    """Forget one of the user's projects and everything indexed from it."""
    project = find(db, user, key)
    store.remove_project(db, user.id, project.id)
    return project


def _read(cand: scan.Candidate, report: IndexReport) -> tuple[bytes, str] | None:
    """The file's bytes and text, or None when it cannot or should not be read."""
    try:
        with open(cand.path, "rb") as f:
            data = f.read(scan.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        report.skipped["vanished"] += 1
        return None
    except OSError:
        report.skipped["unreadable"] += 1
        return None
    if len(data) > scan.MAX_FILE_BYTES:
        report.skipped["too_large"] += 1  # it grew since it was listed
        return None
    if scan.looks_binary(data):
        report.skipped["binary"] += 1
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Still worth indexing (a Latin-1 README): the odd bytes become U+FFFD, and it is said.
        text = data.decode("utf-8", "replace")
        report.notes["not_utf8"] += 1
    if scan.looks_minified(text):
        report.skipped["minified"] += 1
        return None
    return data, text


def _redacted(chunks: list[Chunk], report: IndexReport) -> list[Chunk]:
    out = []
    for c in chunks:
        text, n = redact(c.text)
        name, m = redact(c.name)
        sig, k = redact(c.signature)
        if n + m + k:
            report.notes["secrets_redacted"] += n + m + k
        out.append(Chunk(c.kind, name, c.words, sig, c.start_line, c.end_line, text, c.calls))
    return out


def _index_file(
    db: sqlite3.Connection,
    project_id: int,
    cand: scan.Candidate,
    old: store.FileRow | None,
    report: IndexReport,
    seen: set[str],
    before_read: Callable[[Path], None] | None,
) -> bool:
    """Bring one listed file's index up to date; True when its chunks were written.

    Adds the file's path to ``seen`` when its index is to be kept (stored now, unchanged,
    or unreadable this time but indexed before: nothing is lost to a bad read).
    """
    if old is not None and old.size == cand.size and old.mtime_ns == cand.mtime_ns:
        seen.add(cand.rel)
        report.unchanged += 1
        return False
    if before_read is not None:
        before_read(cand.path)
    got = _read(cand, report)
    if got is None:
        if old is not None:
            seen.add(cand.rel)
        return False
    data, text = got
    kind = cand.kind or script_kind(text.split("\n", 1)[0])
    if kind is None:
        report.skipped["not_source"] += 1
        return False
    seen.add(cand.rel)
    sha = hashlib.sha256(data).hexdigest()
    if old is not None and old.sha256 == sha:
        store.touch_file(db, old.id, size=cand.size, mtime_ns=cand.mtime_ns)
        report.unchanged += 1
        return False
    notes = ParseNotes()
    chunks = _redacted(chunks_for(kind, text, cand.rel, notes), report)
    if notes.syntax_error:
        report.notes["syntax_error"] += 1
    if notes.bad_lines:
        report.notes["bad_qa_lines"] += notes.bad_lines
    store.replace_file(
        db,
        project_id,
        path=cand.rel,
        size=cand.size,
        mtime_ns=cand.mtime_ns,
        sha256=sha,
        kind=kind,
        chunks=chunks,
    )
    report.read += 1
    report.chunks += len(chunks)
    return True


def update(
    db: sqlite3.Connection,
    user: User,
    key: str,
    *,
    semantic: bool = True,
    before_read: Callable[[Path], None] | None = None,
) -> IndexReport:
    """Read again what changed in one of the user's projects.

    ``before_read`` is called with each file's path just before it is read (tests use it
    to make files vanish mid-index).
    """
    started = time.monotonic()
    project = find(db, user, key)
    root = Path(project.root)
    report = IndexReport(project.name, project.root)
    if not root.is_dir():
        raise ProjectError(
            f"The folder of project {project.name!r}, {root}, is gone; its index is kept as it "
            f"was. Restore the folder, or 'codenook project remove {project.name}'."
        )
    known = store.files(db, project.id)
    seen: set[str] = set()
    scanned = scan.ScanReport()
    pending = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        for cand in scan.candidates(root, scanned):
            if _index_file(db, project.id, cand, known.get(cand.rel), report, seen, before_read):
                pending += 1
                if pending >= BATCH:
                    db.execute("COMMIT")
                    db.execute("BEGIN IMMEDIATE")
                    pending = 0
        report.removed = store.delete_files(db, project.id, set(known) - seen)
        report.files = len(seen)
        for why, n in scanned.skipped.items():
            report.skipped[why] += n
        report.examples = scanned.examples
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if semantic:
        from codenook.assist.project import embed

        report.embedded, report.semantic = embed.embed_missing(db, project.id)
    else:
        report.semantic = "off (keyword search only)"
    report.seconds = time.monotonic() - started
    store.set_stats(db, project.id, report.as_dict())
    return report
