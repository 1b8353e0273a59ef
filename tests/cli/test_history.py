"""Conversations through the real ``codenook chat`` and ``codenook history`` commands."""

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from codenook import config
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.cli.jobs_support import one_error_line
from tests.conftest import CODENOOK, run_cli

pytestmark = pytest.mark.usefixtures("account")


def history_json(*args: str):
    proc = run_cli("history", *args, "--json")
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_three_turns_through_chat(tmp_path: Path) -> None:
    proc = run_cli(
        "chat",
        "--json",
        "--max-tokens",
        "24",
        "--temperature",
        "0",
        input=b"What is Bash?\nAnd Python?\nWhich is older?\n",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    answers = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(answers) == 3
    for key in (
        "text",
        "conversation_id",
        "prompt_tokens",
        "answer_tokens",
        "time_to_first_token",
        "tokens_per_second",
        "turns_dropped",
    ):
        assert key in answers[0]
    first, _, third = answers
    assert first["conversation_id"] == third["conversation_id"]
    assert third["prompt_tokens"] > first["prompt_tokens"] + first["answer_tokens"]

    [conv] = history_json("list")
    assert conv["messages"] == 6 and conv["title"] == "What is Bash?"
    shown = history_json("show", str(conv["id"]))
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"] * 3
    assert [m["content"] for m in shown["messages"][1::2]] == [a["text"] for a in answers]

    out = tmp_path / "conv.md"
    assert run_cli("history", "export", str(conv["id"]), "-o", str(out)).returncode == 0
    assert out.read_text().startswith("# What is Bash?")
    again = run_cli("history", "export", str(conv["id"]), "-o", str(out))
    assert again.returncode == 2 and b"--force" in again.stderr
    js = tmp_path / "conv.json"
    run_cli("history", "export", str(conv["id"]), "--format", "json", "-o", str(js))
    assert len(json.loads(js.read_text())["messages"]) == 6

    assert b"Bash" in run_cli("history", "search", "Bash").stdout
    assert run_cli("history", "rename", str(conv["id"]), "Shells").returncode == 0
    assert history_json("list")[0]["title"] == "Shells"

    resumed = run_cli(
        "chat", "--json", "--resume", str(conv["id"]), "--max-tokens", "8", input=b"One more?\n"
    )
    assert json.loads(resumed.stdout)["conversation_id"] == conv["id"]
    assert history_json("list")[0]["messages"] == 8

    assert run_cli("history", "delete", str(conv["id"])).returncode == 0
    assert history_json("list") == []


def test_resume_missing_or_foreign_says_not_found(account) -> None:
    run_cli("ask", "mine", "--max-tokens", "2")
    [conv] = history_json("list")
    other = {"CODENOOK_USER": "other", "CODENOOK_PASSWORD": "another-long-password"}
    add = run_cli("users", "add", "other", "--password-stdin", input=b"another-long-password\n")
    assert add.returncode == 0, add.stderr.decode()
    foreign = run_cli("chat", "--resume", str(conv["id"]), input=b"hi\n", env=other)
    missing = run_cli("chat", "--resume", "4242", input=b"hi\n", env=other)
    assert foreign.returncode == missing.returncode == 2
    assert foreign.stderr.replace(str(conv["id"]).encode(), b"N") == missing.stderr.replace(
        b"4242", b"N"
    )
    for action in (
        ("show", str(conv["id"])),
        ("delete", str(conv["id"])),
        ("rename", str(conv["id"]), "x"),
        ("export", str(conv["id"])),
    ):
        proc = run_cli("history", *action, env=other)
        assert proc.returncode == 2 and b"No conversation" in proc.stderr
    assert run_cli("history", "list", env=other).stdout.strip() == b""
    assert run_cli("history", "search", "mine", env=other).stdout.strip() == b""


QUESTION = "Write a very long Python tutorial with many examples."


def partial_answer_saved(conv_id: int) -> bool:
    """Whether the store holds the second answer, unfinished and not empty."""
    db = sqlite3.connect(config.paths().database, timeout=5)
    try:
        rows = db.execute(
            "SELECT content, complete FROM messages WHERE conversation_id = ? "
            "AND role = 'assistant' ORDER BY id",
            (conv_id,),
        ).fetchall()
    finally:
        db.close()
    return len(rows) == 2 and rows[1][1] == 0 and bool(rows[1][0])


def test_kill_9_mid_answer_loses_nothing() -> None:
    first = run_cli(
        "chat", "--json", "--max-tokens", "16", "--temperature", "0", input=b"Say hello.\n"
    )
    conv_id = json.loads(first.stdout)["conversation_id"]
    proc = subprocess.Popen(
        [
            str(CODENOOK),
            "chat",
            "--resume",
            str(conv_id),
            "--max-tokens",
            "3000",
            "--temperature",
            "0.8",
            "--seed",
            "9",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    assert proc.stdin and proc.stdout
    proc.stdin.write(QUESTION.encode() + b"\n")
    proc.stdin.flush()
    got = proc.stdout.read1(1024)
    assert got
    # Kill once an incremental save of the unfinished answer is in the store (the saves
    # come every 0.5 s while it streams), not after a guessed time: how long the small
    # model goes on differs between llama.cpp builds.
    deadline = time.monotonic() + 60
    while not partial_answer_saved(conv_id):
        assert proc.poll() is None, "the process ended before the kill"
        assert time.monotonic() < deadline, "no partial answer was saved while streaming"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    db = sqlite3.connect(config.paths().database)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = db.execute(
        "SELECT role, content, complete FROM messages WHERE conversation_id = ? ORDER BY id",
        (conv_id,),
    ).fetchall()
    db.close()
    assert [r[0] for r in rows] == ["user", "assistant", "user", "assistant"]
    assert rows[1][2] == 1 and rows[1][1]
    assert rows[2] == ("user", QUESTION, 1)
    assert rows[3][2] == 0, "the cut-off answer must be marked partial"
    assert rows[3][1], "the partial answer was saved while streaming"
    # Piped chat prints the question ("you> ...") on a line of its own above the answer.
    printed = (got + proc.stdout.read()).decode(errors="ignore")
    shown = printed.split("\n", 1)[1] if printed.startswith("you> ") else printed
    assert shown[:10] in rows[3][1] or rows[3][1] in shown, (shown[:80], rows[3][1][:80])


def test_one_megabyte_message_is_refused_and_kept() -> None:
    big = ("x = 1  # padding\n" * 62_000).encode()
    proc = run_cli("ask", "-", input=big)
    assert proc.returncode == 2
    assert b"context holds" in proc.stderr
    [conv] = history_json("list")
    shown = history_json("show", str(conv["id"]))
    assert shown["messages"][0]["content"].encode() == big


def stored_conversation() -> int:
    """A conversation of the test user, stored directly (no model needed)."""
    db = open_database()
    try:
        uid = db.execute("SELECT id FROM users WHERE name = 'tester'").fetchone()[0]
        cid = store.create_conversation(db, uid, title="t", system_prompt="sys")
        store.add_message(db, uid, cid, role="user", content="hi")
        return cid
    finally:
        db.close()


@pytest.mark.parametrize("force", [False, True])
def test_export_to_a_folder_is_one_line(tmp_path: Path, force: bool) -> None:
    cid = stored_conversation()
    folder = tmp_path / "exports"
    folder.mkdir()
    extra = ["--force"] if force else []
    line = one_error_line(run_cli("history", "export", str(cid), "-o", str(folder), *extra))
    assert f"{folder} is a folder; give the name of a file" in line
    assert list(folder.iterdir()) == []


def test_export_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    cid = stored_conversation()
    out = tmp_path / "no" / "such" / "conv.md"
    line = one_error_line(run_cli("history", "export", str(cid), "-o", str(out)))
    assert f"The folder {out.parent} does not exist; create it first" in line
    assert not (tmp_path / "no").exists()
