"""``codenook export --liked``: a real liked answer and planted secrets, through the command."""

import json
import os
from pathlib import Path

import pytest

from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.cli.jobs_support import run_scripted
from tests.conftest import run_cli
from tests.scripted import ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")
PLANTED = [
    "hf_" + "PlAnTeD0123456789abcdefghijklmnop",
    "sk-" + "PlAnTeD0123456789abcdefghij",
    "ghp_" + "PlAnTeD0123456789abcdefghijklmnopqrstu",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg\n-----END EC PRIVATE KEY-----",
]


def plant(question: str, answer: str) -> int:
    db = open_database()
    try:
        uid = db.execute("SELECT id FROM users WHERE name = 'tester'").fetchone()[0]
        cid = store.create_conversation(db, uid, title="t", system_prompt="sys")
        store.add_message(db, uid, cid, role="user", content=question)
        return store.add_message(db, uid, cid, role="assistant", content=answer)
    finally:
        db.close()


def test_liked_answers_are_exported_with_secrets_redacted(tmp_path: Path) -> None:
    ask = run_cli("ask", "Write hello world in Bash.", "--max-tokens", "8", "--temperature", "0")
    assert ask.returncode == 0, ask.stderr.decode()
    real = json.loads(run_cli("log", "--json").stdout)[0]["id"]
    planted = plant(f"Token {PLANTED[0]} and {PLANTED[1]}?", f"{PLANTED[2]}\n{PLANTED[3]}")
    unliked = plant("not liked", "no")
    for mid in (real, planted):
        assert run_cli("vote", str(mid), "up").returncode == 0
    assert run_cli("vote", str(unliked), "down").returncode == 0

    out = tmp_path / "liked.jsonl"
    proc = run_cli("export", "--liked", "--format", "jsonl", "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Exported 2 liked answer(s); redacted 4 secret(s)." in proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [[m["role"] for m in r["messages"]] for r in records] == [
        ["system", "user", "assistant"]
    ] * 2
    assert records[0]["messages"][1]["content"] == "Write hello world in Bash."
    assert records[1]["messages"][1]["content"] == "Token [REDACTED] and [REDACTED]?"
    assert records[1]["messages"][2]["content"] == "[REDACTED]\n[REDACTED]"
    for secret in PLANTED:
        assert secret not in out.read_text()

    again = run_cli("export", "--liked", "-o", str(out))
    assert again.returncode == 2 and b"--force" in again.stderr
    assert run_cli("export", "--liked", "-o", str(out), "--force").returncode == 0
    assert run_cli("export").returncode == 2


def test_another_user_exports_nothing_of_mine() -> None:
    assert run_cli("vote", str(plant("q", f"a {PLANTED[0]}")), "up").returncode == 0
    pw = "another-long-password"
    assert (
        run_cli("users", "add", "other", "--password-stdin", input=f"{pw}\n".encode()).returncode
        == 0
    )
    proc = run_cli("export", "--liked", env={"CODENOOK_USER": "other", "CODENOOK_PASSWORD": pw})
    assert proc.returncode == 0 and proc.stdout == b""
    assert b"Exported 0 liked answer(s); redacted 0 secret(s)." in proc.stderr


def test_a_link_planted_at_the_temporary_name_cannot_redirect_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plant("question", "a liked answer")
    victim = tmp_path / "victim.txt"
    victim.write_text("mine\n")
    out = tmp_path / "liked.jsonl"
    # The name the old code used (".FILE.PID.tmp"), opened without O_EXCL | O_NOFOLLOW.
    planted = tmp_path / f".{out.name}.{os.getpid()}.tmp"
    planted.symlink_to(victim)
    code, _, err = run_scripted(
        monkeypatch, capsys, ScriptedBackend(), "export", "--liked", "-o", str(out)
    )
    assert code == 0, err
    assert victim.read_text() == "mine\n"
    assert not out.is_symlink() and out.is_file()
    assert (out.stat().st_mode & 0o777) == 0o600
    assert planted.is_symlink()


def test_a_dangling_link_at_output_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "planted.jsonl"
    link = tmp_path / "liked.jsonl"
    link.symlink_to(target)
    proc = run_cli("export", "--liked", "-o", str(link))
    assert proc.returncode == 2
    assert b"is a symbolic link" in proc.stderr and b"Traceback" not in proc.stderr
    assert not target.exists()
