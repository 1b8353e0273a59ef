import hashlib
import sqlite3
import stat
from pathlib import Path

import pytest

from codenook import config, errors
from codenook.store import migrations
from codenook.store.db import StoreError, open_database


def test_blank_database_gets_every_migration(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db")
    versions = [r[0] for r in db.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == list(range(1, len(migrations.MIGRATIONS) + 1))
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "login_attempts", "auth_sessions"} <= tables
    db.close()


@pytest.mark.parametrize("start", range(1, len(migrations.MIGRATIONS) + 1))
def test_older_schemas_are_upgraded(tmp_path: Path, start: int) -> None:
    path = tmp_path / "old.db"
    raw = sqlite3.connect(path, isolation_level=None)
    saved = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = saved[:start]
        migrations.migrate(raw)
    finally:
        migrations.MIGRATIONS = saved
    raw.close()
    db = open_database(path)
    assert migrations.schema_version(db) == len(migrations.MIGRATIONS)
    db.close()


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_database(path).close()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("INSERT INTO schema_migrations VALUES (999, 0)")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(migrations.SchemaTooNewError, match="newer codenook"):
        open_database(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_failed_migration_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "f.db"
    open_database(path).close()

    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, broken])
    with pytest.raises(RuntimeError):
        open_database(path)
    monkeypatch.undo()
    db = open_database(path)
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name='half_done'").fetchall()
    db.close()


def test_file_and_folder_modes_and_pragmas() -> None:
    db = open_database()
    p = config.paths()
    assert stat.S_IMODE(p.database.stat().st_mode) == 0o600
    assert stat.S_IMODE(p.data.stat().st_mode) == 0o700
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    db.close()


def test_garbage_file_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 1000)
    with pytest.raises(StoreError, match="damaged or not a codenook database"):
        open_database(path)
    assert path.read_bytes() == b"this is not sqlite" * 1000


def _held(path: Path) -> sqlite3.Connection:
    """Another process's connection, holding the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def test_a_database_held_past_the_busy_timeout_says_locked(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = open_database(path)
    db.execute("PRAGMA busy_timeout = 200")  # the real wait is 5 s; the mapping is the same
    other = _held(path)
    try:
        with pytest.raises(errors.StoreLockedError, match="busy: another codenook") as caught:
            db.execute(
                "INSERT INTO users (name, name_key, password_hash, created) VALUES "
                "('a', 'a', 'h', 0)"
            )
        assert isinstance(caught.value, errors.StoreError)
        assert "try again" in str(caught.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    db.execute(
        "INSERT INTO users (name, name_key, password_hash, created) VALUES ('a', 'a', 'h', 0)"
    )
    db.close()


def test_a_full_disk_says_full(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own size cap gives the same SQLITE_FULL a full disk does.
    db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(errors.StoreFullError, match="is full, so codenook cannot save"):
        db.execute(
            "INSERT INTO users (name, name_key, password_hash, created) VALUES (?, ?, ?, 0)",
            ("big", "big", "x" * 100_000),
        )
    assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 0
    db.close()


def _damage_table(path: Path, table: str) -> None:
    raw = sqlite3.connect(path)
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    root = raw.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    raw.close()
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * 64)


def test_a_damaged_page_says_damaged_and_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    open_database(path).close()
    _damage_table(path, "conversations")
    db = open_database(path)  # the schema is intact: the damage shows when the table is read
    with pytest.raises(errors.StoreDamagedError, match="is damaged") as caught:
        db.execute("SELECT * FROM conversations").fetchall()
    assert ".recover" in str(caught.value) and "move it aside" in str(caught.value)
    db.close()


def test_errors_that_are_bugs_stay_as_they_are(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        db.execute("SELECT * FROM no_such_table")
    db.execute(
        "INSERT INTO users (name, name_key, password_hash, created) VALUES ('a', 'a', 'h', 0)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        db.execute(
            "INSERT INTO users (name, name_key, password_hash, created) VALUES ('a', 'a', 'h', 0)"
        )
    db.close()
