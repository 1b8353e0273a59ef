"""Rows for users, login attempts and auth sessions. Every query names its user."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class UserRow:
    """A user as stored (the password hash included; never shown)."""

    id: int
    name: str
    is_admin: bool
    password_hash: str
    created: float
    #: The Argon2 hash of the one-time recovery code, or None when none was issued.
    recovery_hash: str | None = None


@dataclass(frozen=True)
class Attempts:
    """Failed-login bookkeeping for one typed user name."""

    failures: int = 0
    locked_until: float = 0.0


def _user(row: sqlite3.Row | None) -> UserRow | None:
    if row is None:
        return None
    return UserRow(
        row["id"],
        row["name"],
        bool(row["is_admin"]),
        row["password_hash"],
        row["created"],
        row["recovery_hash"],
    )


def count_users(db: sqlite3.Connection) -> int:
    """How many accounts exist (0 means: offer to create the first)."""
    return int(db.execute("SELECT COUNT(*) FROM users").fetchone()[0])


def insert_user(
    db: sqlite3.Connection,
    *,
    name: str,
    password_hash: str,
    is_admin: bool,
    recovery_hash: str | None = None,
) -> int:
    """Add a user; raises sqlite3.IntegrityError if the name is taken."""
    cur = db.execute(
        "INSERT INTO users (name, name_key, password_hash, is_admin, created, recovery_hash) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (name, name.lower(), password_hash, int(is_admin), time.time(), recovery_hash),
    )
    return int(cur.lastrowid or 0)


def user_by_name(db: sqlite3.Connection, name: str) -> UserRow | None:
    """Look a user up by name, ignoring case."""
    return _user(db.execute("SELECT * FROM users WHERE name_key = ?", (name.lower(),)).fetchone())


def user_by_id(db: sqlite3.Connection, user_id: int) -> UserRow | None:
    """Look a user up by id."""
    return _user(db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())


def all_users(db: sqlite3.Connection) -> list[UserRow]:
    """Every account, for admin commands only."""
    rows = db.execute("SELECT * FROM users ORDER BY name_key").fetchall()
    return [u for u in map(_user, rows) if u]


def set_password_hash(db: sqlite3.Connection, user_id: int, password_hash: str) -> None:
    """Replace a user's password hash."""
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


def replace_recovery(
    db: sqlite3.Connection,
    user_id: int,
    *,
    expected: str | None,
    recovery_hash: str,
    password_hash: str | None = None,
) -> bool:
    """Swap the recovery code's hash (and the password's, if given) if it is still ``expected``.

    Returns False when another process changed it first: a code is spent exactly once.
    """
    cur = db.execute(
        "UPDATE users SET recovery_hash = ?, password_hash = COALESCE(?, password_hash) "
        "WHERE id = ? AND recovery_hash IS ?",
        (recovery_hash, password_hash, user_id, expected),
    )
    return cur.rowcount == 1


def delete_user(db: sqlite3.Connection, user_id: int) -> None:
    """Delete a user; their rows in other tables go with them (ON DELETE CASCADE)."""
    row = db.execute("SELECT name_key FROM users WHERE id = ?", (user_id,)).fetchone()
    db.execute("DELETE FROM users WHERE id = ?", (user_id,))
    if row is not None:
        db.execute("DELETE FROM login_attempts WHERE name_key = ?", (row["name_key"],))


def attempts(db: sqlite3.Connection, name: str) -> Attempts:
    """Failed logins so far for a typed name."""
    row = db.execute(
        "SELECT failures, locked_until FROM login_attempts WHERE name_key = ?", (name.lower(),)
    ).fetchone()
    return Attempts(row["failures"], row["locked_until"]) if row else Attempts()


def record_failure(
    db: sqlite3.Connection, name: str, *, failures: int, locked_until: float, now: float
) -> None:
    """Store the new failure count and lock for a typed name."""
    db.execute(
        "INSERT INTO login_attempts (name_key, failures, locked_until, last_failure) "
        "VALUES (?, ?, ?, ?) ON CONFLICT(name_key) DO UPDATE SET failures = excluded.failures, "
        "locked_until = excluded.locked_until, last_failure = excluded.last_failure",
        (name.lower(), failures, locked_until, now),
    )


def prune_attempts(db: sqlite3.Connection, *, now: float, older_than: float, keep: int) -> int:
    """Drop unlocked failed-login rows older than ``older_than`` or past the newest ``keep``.

    Returns how many went. A row still locked is never dropped, so a flood of made-up
    names cannot lift another name's lock.
    """
    gone = db.execute(
        "DELETE FROM login_attempts WHERE locked_until <= ? AND last_failure < ?",
        (now, older_than),
    ).rowcount
    gone += db.execute(
        "DELETE FROM login_attempts WHERE name_key IN (SELECT name_key FROM login_attempts "
        "WHERE locked_until <= ? ORDER BY last_failure DESC LIMIT -1 OFFSET ?)",
        (now, keep),
    ).rowcount
    return gone


def clear_failures(db: sqlite3.Connection, name: str) -> None:
    """Forget failed logins after a successful one."""
    db.execute("DELETE FROM login_attempts WHERE name_key = ?", (name.lower(),))


def insert_session(db: sqlite3.Connection, *, user_id: int, token_hash: str, now: float) -> None:
    """Record a new auth session by the hash of its token."""
    db.execute(
        "INSERT INTO auth_sessions (user_id, token_hash, created, last_used) VALUES (?, ?, ?, ?)",
        (user_id, token_hash, now, now),
    )


def session_by_token_hash(db: sqlite3.Connection, token_hash: str) -> sqlite3.Row | None:
    """The session row (with its user id and last use) for a token hash."""
    return db.execute(
        "SELECT id, user_id, last_used FROM auth_sessions WHERE token_hash = ?", (token_hash,)
    ).fetchone()


def touch_session(db: sqlite3.Connection, session_id: int, now: float) -> None:
    """Mark a session as used now (it expires after a spell of no use)."""
    db.execute("UPDATE auth_sessions SET last_used = ? WHERE id = ?", (now, session_id))


def delete_session(db: sqlite3.Connection, token_hash: str) -> None:
    """Revoke one session."""
    db.execute("DELETE FROM auth_sessions WHERE token_hash = ?", (token_hash,))


def delete_sessions_of(db: sqlite3.Connection, user_id: int) -> None:
    """Revoke every session of one user (after a password change)."""
    db.execute("DELETE FROM auth_sessions WHERE user_id = ?", (user_id,))
