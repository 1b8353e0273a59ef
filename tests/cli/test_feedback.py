"""``codenook feedback add|list|export`` through the real command."""

import json
from pathlib import Path

import pytest

from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("account")
OTHER_PW = "another-long-password"
OTHER = {"CODENOOK_USER": "other", "CODENOOK_PASSWORD": OTHER_PW}
TOKEN = "AKIA" + "QWERTYUIOPASDFGH"


def stored_answer(question: str, answer: str, user: str = "tester") -> int:
    """An answer stored as a session would store it (no model needed to rate it)."""
    db = open_database()
    try:
        uid = db.execute("SELECT id FROM users WHERE name = ?", (user,)).fetchone()[0]
        cid = store.create_conversation(db, uid, title=question, system_prompt="sys")
        store.add_message(db, uid, cid, role="user", content=question)
        return store.add_message(db, uid, cid, role="assistant", content=answer, task="ask")
    finally:
        db.close()


def feedback_count() -> int:
    db = open_database()
    try:
        return db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    finally:
        db.close()


def test_add_list_and_export(tmp_path: Path) -> None:
    mid = str(stored_answer(f"my key is {TOKEN}", "print('hi')"))
    add = run_cli(
        "feedback",
        "add",
        mid,
        "--rating",
        "2",
        "--category",
        "wrong code",
        "--comment",
        "It printed the wrong thing.",
        "--include-conversation",
    )
    assert add.returncode == 0, add.stderr.decode()
    assert b"Stored feedback" in add.stderr
    [row] = json.loads(run_cli("feedback", "list", "--json").stdout)
    assert (row["message_id"], row["rating"], row["category"]) == (int(mid), 2, "wrong_code")
    assert row["include_conversation"] is True
    text = run_cli("feedback", "list").stdout.decode()
    assert "2/5" in text and "wrong code" in text and "It printed the wrong thing." in text

    out = tmp_path / "feedback.jsonl"
    export = run_cli("feedback", "export", "--format", "jsonl", "-o", str(out))
    assert export.returncode == 0, export.stderr.decode()
    assert b"redacted 1 secret(s)" in export.stderr
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["comment"] == "It printed the wrong thing."
    assert record["conversation"][1]["content"] == "my key is [REDACTED]"
    assert TOKEN not in out.read_text()
    assert out.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rating", "0", "--category", "other"], b"from 1 to 5"),
        (["--rating", "6", "--category", "other"], b"from 1 to 5"),
        (["--rating", "3", "--category", "rude"], b"Unknown category 'rude'"),
        (["--rating", "3", "--category", "other", "--comment", "x" * 5001], b"5,001 characters"),
        (["--rating", "three", "--category", "other"], b"invalid int value"),
    ],
)
def test_invalid_feedback_is_refused_and_nothing_stored(args: list[str], message: bytes) -> None:
    mid = str(stored_answer("q", "a"))
    proc = run_cli("feedback", "add", mid, *args)
    assert proc.returncode == 2
    assert proc.stderr.startswith(b"codenook: error: ") and message in proc.stderr
    assert feedback_count() == 0


def test_another_users_feedback_is_never_visible() -> None:
    mine = str(stored_answer("q", "a"))
    run_cli("feedback", "add", mine, "--rating", "5", "--category", "other", "--comment", "mine")
    add = run_cli("users", "add", "other", "--password-stdin", input=f"{OTHER_PW}\n".encode())
    assert add.returncode == 0
    theirs = run_cli("feedback", "add", mine, "--rating", "1", "--category", "other", env=OTHER)
    assert theirs.returncode == 2 and b"No answer" in theirs.stderr
    assert json.loads(run_cli("feedback", "list", "--json", env=OTHER).stdout) == []
    export = run_cli("feedback", "export", env=OTHER)
    assert export.stdout == b"" and b"Exported 0 feedback" in export.stderr
    assert feedback_count() == 1
