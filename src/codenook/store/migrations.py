"""Schema changes as a numbered list of functions, applied in order and recorded."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from codenook.errors import CodenookError


def run_script(db: sqlite3.Connection, sql: str) -> None:
    """Execute SQL statements one by one inside the caller's transaction.

    (``executescript`` would COMMIT first, breaking a migration's atomicity.)
    """
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            db.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending!r}")


def _m001_accounts(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,      -- lower-cased: names are case-insensitive
            password_hash TEXT NOT NULL,        -- the encoded $argon2id$ hash, never a password
            is_admin INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL
        );
        -- Keyed by the name typed, so unknown names are throttled exactly like known ones.
        CREATE TABLE login_attempts (
            name_key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0,
            last_failure REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE auth_sessions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            token_hash TEXT NOT NULL UNIQUE,    -- SHA-256 of the token; the token is only on disk
            created REAL NOT NULL,
            last_used REAL NOT NULL
        );
        CREATE INDEX auth_sessions_user ON auth_sessions(user_id);
        """,
    )


def _m002_conversations(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            system_prompt TEXT NOT NULL,
            settings TEXT NOT NULL DEFAULT '{}',  -- JSON: model and sampling settings used
            created REAL NOT NULL,
            updated REAL NOT NULL
        );
        CREATE INDEX conversations_user ON conversations(user_id, updated DESC);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            complete INTEGER NOT NULL DEFAULT 1,  -- 0 while streaming, or cut off by a crash
            task TEXT,
            language TEXT,
            model TEXT,
            prompt_tokens INTEGER,
            answer_tokens INTEGER,
            time_to_first_token REAL,
            tokens_per_second REAL,
            finish_reason TEXT,
            turns_dropped INTEGER,
            cached_tokens INTEGER,
            created REAL NOT NULL
        );
        CREATE INDEX messages_conversation ON messages(conversation_id, id);
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            content, content='messages', content_rowid='id'
        );
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content);
            INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
        END;
        """,
    )


def _m003_interaction_log(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- What produced each answer, for the interaction log and its statistics.
        ALTER TABLE messages ADD COLUMN model_file TEXT;     -- the file's name, not its path
        ALTER TABLE messages ADD COLUMN model_sha256 TEXT;   -- filled when the hash is known
        ALTER TABLE messages ADD COLUMN backend TEXT;
        ALTER TABLE messages ADD COLUMN settings TEXT;       -- JSON: sampling and model settings
        ALTER TABLE messages ADD COLUMN tool_results TEXT;   -- JSON: lint, validation, sandbox
        ALTER TABLE messages ADD COLUMN vote INTEGER NOT NULL DEFAULT 0
            CHECK (vote IN (-1, 0, 1));                      -- thumbs down, none, up
        CREATE INDEX messages_user_log ON messages(user_id, role, created);
        -- Lets feedback name (answer, owner) as one key, so it cannot point at another's answer.
        CREATE UNIQUE INDEX messages_id_user ON messages(id, user_id);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL,
            rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
            category TEXT NOT NULL
                CHECK (category IN ('wrong_code', 'unclear', 'too_slow', 'crashed', 'other')),
            comment TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 5000),
            include_conversation INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL,
            FOREIGN KEY (message_id, user_id) REFERENCES messages(id, user_id) ON DELETE CASCADE
        );
        CREATE INDEX feedback_user ON feedback(user_id, created);
        CREATE INDEX feedback_message ON feedback(message_id, user_id);
        """,
    )


def _m004_recovery_codes(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- The Argon2 hash of the account's one-time recovery code (NULL: none issued yet,
        -- e.g. an account made before codes existed). The code itself is never stored.
        ALTER TABLE users ADD COLUMN recovery_hash TEXT;
        """,
    )


def _m007_shown_text(db: sqlite3.Connection) -> None:
    # What the user typed (or a line saying what codenook was asked), kept apart from the
    # prompt codenook built around it; NULL when the content is what the user typed.
    run_script(db, "ALTER TABLE messages ADD COLUMN shown TEXT;")


#: Every schema change, oldest first. Append only; never edit a released one.


def _m005_projects(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- A user's indexed folders (codenook project add): each belongs to one user.
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            root TEXT NOT NULL,
            stats TEXT NOT NULL DEFAULT '{}',   -- JSON: the last indexing's counts
            version INTEGER NOT NULL DEFAULT 0, -- bumped on each change (search caches key on it)
            created REAL NOT NULL,
            updated REAL NOT NULL,
            UNIQUE (user_id, name),
            UNIQUE (user_id, root)
        );
        CREATE TABLE project_files (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            path TEXT NOT NULL,                 -- relative to the project's root, '/' separated
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            kind TEXT NOT NULL,                 -- python, bash, markdown, rst, text, qa
            UNIQUE (project_id, path)
        );
        -- One definition, documentation section or Q&A pair; texts are redacted.
        CREATE TABLE project_chunks (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            file_id INTEGER NOT NULL REFERENCES project_files(id) ON DELETE CASCADE,
            path TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            words TEXT NOT NULL,                -- the name split into words, for keyword search
            signature TEXT NOT NULL DEFAULT '',
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            text TEXT NOT NULL,
            calls TEXT NOT NULL DEFAULT '',     -- names called, space separated
            embedding BLOB                      -- float32 vector, NULL until embedded
        );
        CREATE INDEX project_chunks_file ON project_chunks(file_id);
        CREATE INDEX project_chunks_name ON project_chunks(project_id, name);
        CREATE VIRTUAL TABLE project_chunks_fts USING fts5(
            words, path, text, content='project_chunks', content_rowid='id',
            tokenize='porter unicode61'
        );
        CREATE TRIGGER project_chunks_fts_insert AFTER INSERT ON project_chunks BEGIN
            INSERT INTO project_chunks_fts(rowid, words, path, text)
            VALUES (new.id, new.words, new.path, new.text);
        END;
        CREATE TRIGGER project_chunks_fts_delete AFTER DELETE ON project_chunks BEGIN
            INSERT INTO project_chunks_fts(project_chunks_fts, rowid, words, path, text)
            VALUES ('delete', old.id, old.words, old.path, old.text);
        END;
        """,
    )


def _m007_shown_text(db: sqlite3.Connection) -> None:
    # What the user typed (or a line saying what codenook was asked), kept apart from the
    # prompt codenook built around it; NULL when the content is what the user typed.
    run_script(db, "ALTER TABLE messages ADD COLUMN shown TEXT;")


#: Every schema change, oldest first. Append only; never edit a released one.
def _m006_evaluations(db: sqlite3.Connection) -> None:
    run_script(
        db,
        """
        -- codenook eval: one row per run of a suite, one per task it finished.
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            suite TEXT NOT NULL,
            model TEXT NOT NULL,             -- the model's name as the backend reports it
            model_file TEXT,                 -- the file's name, not its path
            model_sha256 TEXT,
            runtime TEXT NOT NULL,
            backend TEXT NOT NULL,           -- 'local', or the remote backend's name or URL
            settings TEXT NOT NULL DEFAULT '{}',  -- JSON: sampling, limits, seed, jobs
            machine TEXT NOT NULL DEFAULT '{}',   -- JSON: CPU, GPUs, RAM
            task_ids TEXT NOT NULL,          -- JSON list: the tasks this run is to finish
            status TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'finished')),
            created REAL NOT NULL,
            updated REAL NOT NULL
        );
        CREATE INDEX eval_runs_user ON eval_runs(user_id, created DESC);
        CREATE UNIQUE INDEX eval_runs_id_user ON eval_runs(id, user_id);
        CREATE TABLE eval_results (
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            task_id TEXT NOT NULL,
            passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
            score REAL NOT NULL,
            outcome TEXT NOT NULL,
            completion TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            generate_seconds REAL NOT NULL DEFAULT 0,
            check_seconds REAL NOT NULL DEFAULT 0,
            tokens INTEGER NOT NULL DEFAULT 0,
            created REAL NOT NULL,
            UNIQUE (run_id, task_id),
            FOREIGN KEY (run_id, user_id) REFERENCES eval_runs(id, user_id) ON DELETE CASCADE
        );
        """,
    )


def _m007_shown_text(db: sqlite3.Connection) -> None:
    # What the user typed (or a line saying what codenook was asked), kept apart from the
    # prompt codenook built around it; NULL when the content is what the user typed.
    run_script(db, "ALTER TABLE messages ADD COLUMN shown TEXT;")


def _m008_adapter(db: sqlite3.Connection) -> None:
    # The LoRA adapter ('codenook tune') the answering model ran with; NULL: none.
    run_script(db, "ALTER TABLE messages ADD COLUMN adapter TEXT;")


#: Every schema change, oldest first. Append only; never edit a released one.


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_accounts,
    _m002_conversations,
    _m003_interaction_log,
    _m004_recovery_codes,
    _m005_projects,
    _m006_evaluations,
    _m007_shown_text,
    _m008_adapter,
]


class SchemaTooNewError(CodenookError):
    """The database was written by a newer codenook."""


def schema_version(db: sqlite3.Connection) -> int:
    """The highest migration applied (0 for a blank database)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, applied REAL NOT NULL)"
    )
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite3.Connection, *, path: Path | None = None) -> int:
    """Apply the missing migrations, each in its own transaction; return the version."""
    current = schema_version(db)
    if current > len(MIGRATIONS):
        raise SchemaTooNewError(
            f"The database {path or ''} was written by a newer codenook (schema {current}, "
            f"this version knows {len(MIGRATIONS)}). Upgrade codenook; the file was not changed."
        )
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(
                "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                (version, time.time()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
