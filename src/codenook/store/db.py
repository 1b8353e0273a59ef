"""Open codenook's SQLite database: private file, WAL, foreign keys, migrations applied."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from codenook import config
from codenook.errors import CodenookError
from codenook.store.migrations import migrate

BUSY_TIMEOUT_MS = 5000


class StoreError(CodenookError):
    """The database cannot be used as it is."""


def open_database(path: str | Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the database and bring its schema up to date."""
    if path is None:
        path = config.ensure_dirs().database
    path = Path(path)
    if not path.exists():
        # Create it private before SQLite does: accounts and chats live here.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    path.chmod(0o600)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open the database {path}: {exc}.") from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, path=path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(
            f"The database {path} is damaged or not a codenook database ({exc}). "
            "Move it aside to start afresh; codenook has not changed it."
        ) from exc
    except BaseException:
        conn.close()
        raise
    return conn
