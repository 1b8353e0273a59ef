import hashlib
import sqlite3
import stat
from pathlib import Path

import pytest

from codenook import config
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
