"""Open codenook's SQLite database: private file, WAL, foreign keys, migrations applied.

Every connection is a :class:`StoreConnection`: whatever SQLite reports about the file
(locked, disk full, read-only, damaged, a row's owner removed) comes out of any
statement as one of the ``StoreError`` family, with a message that says what to do, so
no caller needs its own ``try``. Where the data folder cannot be written, the database
is opened read-only: reading commands work, and a write says the folder is read-only.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from codenook import config
from codenook.errors import (
    StoreDamagedError,
    StoreError,
    StoreFullError,
    StoreGoneError,
    StoreLockedError,
    StoreReadOnlyError,
)
from codenook.store.migrations import migrate

__all__ = [
    "BUSY_TIMEOUT_MS",
    "GONE_MESSAGE",
    "StoreConnection",
    "StoreError",
    "open_database",
    "store_error",
]

BUSY_TIMEOUT_MS = 5000
log = logging.getLogger(__name__)

# SQLite's primary result codes (the low byte of the extended ones).
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 8, 10, 11
_FULL, _CANTOPEN, _PROTOCOL, _NOTADB = 13, 14, 15, 26
_CONSTRAINT_FOREIGNKEY = 787
_CONSTRAINT_TRIGGER = 1811
# Below this much free space, a disk I/O error is taken for a full disk: SQLite reports
# ENOSPC while growing its shared-memory file as an I/O error, not as SQLITE_FULL.
_NEARLY_FULL_BYTES = 1024 * 1024

# On a read-only store, login bookkeeping (failed attempts, a session's last use) lives
# in in-memory copies of these tables for this process only: the accounts can still be
# checked, while everything else that writes is refused. Anyone who can read the file
# could try passwords offline, so an uncounted failure gives nothing away.
_SCRATCH_TABLES = ("login_attempts", "auth_sessions")
_READ_ONLY_MARK = "codenook: the store is read-only"
#: What a write to a row whose account or conversation was removed meanwhile is told.
GONE_MESSAGE = (
    "What this was being saved to no longer exists: the account or the conversation was "
    "removed (by 'codenook users remove' or in another window) while it ran. Nothing else "
    "was changed; log in again or start a new conversation."
)


class _ForeignKeyGone(StoreGoneError, sqlite3.IntegrityError):
    """A row's owner is gone; still an IntegrityError for code that expects one."""


def _describe(exc: sqlite3.Error) -> str:
    return str(exc) or getattr(exc, "sqlite_errorname", "") or type(exc).__name__


def store_error(exc: sqlite3.Error, *, path: Path) -> StoreError | None:
    """The store error that ``exc`` (raised on the database ``path``) means, or None for a bug."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return None
    folder = path.parent
    primary = code & 0xFF
    if primary in (_BUSY, _LOCKED):
        return StoreLockedError(
            f"The database {path} is busy: another codenook (a window, a chat or "
            f"'codenook serve') held it for over {BUSY_TIMEOUT_MS // 1000} s. Let it finish "
            "or close it, then try again; nothing stored was lost."
        )
    if primary == _IOERR and _nearly_full(folder):
        primary = _FULL
    if primary == _FULL:
        return StoreFullError(
            f"The disk holding {folder} is full, so codenook cannot save. Free some space, "
            "then try again; nothing stored before was lost."
        )
    if primary == _READONLY or (code == _CONSTRAINT_TRIGGER and str(exc) == _READ_ONLY_MARK):
        return read_only_error(folder)
    if primary in (_CORRUPT, _NOTADB):
        return StoreDamagedError(
            f"The database {path} is damaged or not a codenook database ({_describe(exc)}). "
            f"codenook has not changed it. Keep a copy, then recover what it holds with "
            f"'sqlite3 {path} .recover | sqlite3 recovered.db' and put recovered.db in its "
            "place, or move it aside to start afresh."
        )
    if code == _CONSTRAINT_FOREIGNKEY:
        return _ForeignKeyGone(GONE_MESSAGE)
    if primary in (_IOERR, _CANTOPEN, _PERM, _PROTOCOL):
        return StoreError(
            f"Cannot read or write the database {path} ({_describe(exc)}). Check the disk "
            f"and that you may read and write {folder}, then try again."
        )
    return None


def read_only_error(folder: Path) -> StoreReadOnlyError:
    """The error a write to a read-only data folder gets."""
    return StoreReadOnlyError(
        f"The data folder {folder} is read-only: codenook can show what is stored but "
        f"cannot save. Make it writable (chmod u+w {folder}) or point CODENOOK_HOME at a "
        "writable folder, then try again."
    )


def _nearly_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


class StoreCursor(sqlite3.Cursor):
    """A cursor whose SQLite errors come out as store errors (see ``store_error``)."""

    connection: StoreConnection

    def _raise(self, exc: sqlite3.Error) -> None:
        error = store_error(exc, path=self.connection.path)
        if error is not None:
            raise error from exc

    def execute(self, sql: str, parameters: Any = (), /) -> StoreCursor:
        """As ``sqlite3.Cursor.execute``."""
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> StoreCursor:
        """As ``sqlite3.Cursor.executemany``."""
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def executescript(self, sql_script: str, /) -> StoreCursor:
        """As ``sqlite3.Cursor.executescript``."""
        try:
            return super().executescript(sql_script)
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def fetchone(self) -> Any:
        """As ``sqlite3.Cursor.fetchone`` (a damaged page can surface while reading)."""
        try:
            return super().fetchone()
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """As ``sqlite3.Cursor.fetchmany``."""
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def fetchall(self) -> list[Any]:
        """As ``sqlite3.Cursor.fetchall``."""
        try:
            return super().fetchall()
        except sqlite3.Error as exc:
            self._raise(exc)
            raise

    def __next__(self) -> Any:
        """The next row, as iteration over ``sqlite3.Cursor`` gives it."""
        try:
            return super().__next__()
        except sqlite3.Error as exc:
            self._raise(exc)
            raise


class StoreConnection(sqlite3.Connection):
    """A connection to codenook's database; SQLite errors come out as store errors."""

    #: The database file.
    path: Path = Path()
    #: Opened read-only because the data folder (or the file) cannot be written.
    read_only: bool = False

    def cursor(self, factory: Any = None) -> StoreCursor:  # type: ignore[override]
        """A cursor (a ``StoreCursor`` unless another factory is given)."""
        return super().cursor(factory or StoreCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> StoreCursor:  # type: ignore[override]
        """As ``sqlite3.Connection.execute``, on a ``StoreCursor``."""
        return self.cursor().execute(sql, parameters)

    def executemany(  # type: ignore[override]
        self, sql: str, seq_of_parameters: Iterable[Any], /
    ) -> StoreCursor:
        """As ``sqlite3.Connection.executemany``, on a ``StoreCursor``."""
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script: str, /) -> StoreCursor:  # type: ignore[override]
        """As ``sqlite3.Connection.executescript``, on a ``StoreCursor``."""
        return self.cursor().executescript(sql_script)

    def commit(self) -> None:
        """As ``sqlite3.Connection.commit``."""
        try:
            super().commit()
        except sqlite3.Error as exc:
            error = store_error(exc, path=self.path)
            if error is not None:
                raise error from exc
            raise


def _writable(path: Path) -> bool:
    """Whether this process may write the database (and its WAL files) at ``path``."""
    if not os.access(path.parent, os.W_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def _connect(target: str, *, path: Path, read_only: bool, uri: bool) -> StoreConnection:
    conn = sqlite3.connect(
        target,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        uri=uri,
        factory=StoreConnection,
    )
    assert isinstance(conn, StoreConnection)
    conn.path, conn.read_only = path, read_only
    conn.row_factory = sqlite3.Row
    return conn


def _connect_read_only(path: Path) -> StoreConnection:
    """Open ``path`` for reading only, where neither it nor its folder can be written."""
    base = "file:" + quote(str(path.resolve()))
    conn = _connect(f"{base}?mode=ro", path=path, read_only=True, uri=True)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except StoreError:
        # A WAL database needs its -shm file, which a read-only folder cannot hold:
        # read the file as it is (nobody can change it while the folder is read-only).
        conn.close()
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        log.warning(
            "%s holds changes not yet in %s that cannot be read while the folder is "
            "read-only; showing what the database file holds.",
            wal,
            path.name,
        )
    return _connect(f"{base}?mode=ro&immutable=1", path=path, read_only=True, uri=True)


def _scratch_login_tables(conn: StoreConnection) -> None:
    """On a read-only store, give login bookkeeping in-memory tables (see _SCRATCH_TABLES)."""
    for table in _SCRATCH_TABLES:
        row = conn.execute(
            "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        if row is None:
            continue
        # The same table in the temp schema, which unqualified names find first.
        conn.execute(re.sub(r"^\s*CREATE\s+TABLE", "CREATE TEMP TABLE", row[0], flags=re.I))
        conn.execute(f"INSERT INTO temp.{table} SELECT * FROM main.{table}")
    if conn.execute("SELECT 1 FROM temp.sqlite_master WHERE name = 'auth_sessions'").fetchone():
        # A new login could not outlive this process: say so rather than pretend.
        conn.execute(
            "CREATE TEMP TRIGGER no_new_sessions BEFORE INSERT ON auth_sessions "
            f"BEGIN SELECT RAISE(ABORT, '{_READ_ONLY_MARK}'); END"
        )


def open_database(path: str | Path | None = None) -> StoreConnection:
    """Open (creating if needed) the database and bring its schema up to date.

    Where the data folder cannot be written, an existing database is opened read-only.
    """
    if path is None:
        path = config.ensure_dirs().database
    path = Path(path)
    read_only = not _writable(path)
    if not path.exists():
        if read_only:
            raise read_only_error(path.parent)
        # Create it private before SQLite does: accounts and chats live here.
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StoreError(f"Cannot create the database {path}: {exc.strerror}.") from exc
    elif not read_only:
        config.make_private(path, 0o600)
    try:
        if read_only:
            conn = _connect_read_only(path)
        else:
            conn = _connect(str(path), path=path, read_only=False, uri=False)
    except sqlite3.Error as exc:
        raise store_error(exc, path=path) or StoreError(
            f"Cannot open the database {path}: {exc}."
        ) from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only:
            # Nothing in the file can change, so nothing to enforce; the login tables'
            # in-memory copies could not point at the file's users anyway.
            conn.execute("PRAGMA foreign_keys = OFF")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, path=path)
        if read_only:
            _scratch_login_tables(conn)
            log.info("The data folder %s is read-only: the database is open for reading.", path)
    except BaseException:
        conn.close()
        raise
    return conn
