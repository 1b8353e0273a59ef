"""Failed-login rows in a real database file."""

import sqlite3
from pathlib import Path

import pytest

from codenook.store import accounts
from codenook.store.db import open_database

NOW = 1_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    conn = open_database(tmp_path / "accounts.db")
    yield conn
    conn.close()


def names(db: sqlite3.Connection) -> list[str]:
    return sorted(r[0] for r in db.execute("SELECT name_key FROM login_attempts"))


def test_record_failure_keeps_the_given_time_and_lower_cases(db) -> None:
    accounts.record_failure(db, "Ghost", failures=3, locked_until=0.0, now=NOW)
    assert accounts.attempts(db, "GHOST") == accounts.Attempts(3, 0.0)
    assert db.execute("SELECT last_failure FROM login_attempts").fetchone()[0] == NOW


def test_prune_drops_old_unlocked_rows_only(db) -> None:
    accounts.record_failure(db, "old", failures=2, locked_until=0.0, now=NOW - 100)
    accounts.record_failure(db, "old-locked", failures=9, locked_until=NOW + 5, now=NOW - 100)
    accounts.record_failure(db, "recent", failures=1, locked_until=0.0, now=NOW - 10)
    gone = accounts.prune_attempts(db, now=NOW, older_than=NOW - 50, keep=100)
    assert gone == 1
    assert names(db) == ["old-locked", "recent"]


def test_prune_keeps_the_newest_unlocked_rows_and_every_locked_one(db) -> None:
    for i in range(10):
        accounts.record_failure(db, f"n{i}", failures=1, locked_until=0.0, now=NOW + i)
    accounts.record_failure(db, "target", failures=5, locked_until=NOW + 30, now=NOW - 1)
    gone = accounts.prune_attempts(db, now=NOW + 10, older_than=0.0, keep=4)
    assert gone == 6
    assert names(db) == ["n6", "n7", "n8", "n9", "target"]
    # Once its lock is over, a row counts like any other.
    gone = accounts.prune_attempts(db, now=NOW + 31, older_than=0.0, keep=4)
    assert gone == 1 and "target" not in names(db)
