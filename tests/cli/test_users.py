"""Accounts through the real ``codenook`` command."""

import os
import re
import stat
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from codenook import config
from codenook.store.db import open_database
from tests.conftest import CODENOOK, run_cli

PW = "lemon-giraffe-77"
NO_ENV = {"CODENOOK_USER": "", "CODENOOK_PASSWORD": ""}


def users_add(name: str, password: str, **env: str):
    return run_cli(
        "users",
        "add",
        name,
        "--password-stdin",
        input=f"{password}\n".encode(),
        env={**NO_ENV, **env},
    )


def test_first_user_then_admin_adds_and_lists() -> None:
    assert users_add("alice", PW).returncode == 0
    # A second account needs the admin.
    refused = users_add("bob", PW)
    assert refused.returncode == 2
    assert b"codenook login" in refused.stderr
    admin = {"CODENOOK_USER": "alice", "CODENOOK_PASSWORD": PW}
    assert users_add("bob", PW, **admin).returncode == 0
    listed = run_cli("users", "list", env=admin)
    assert listed.stdout.decode().split("\n")[:2] == ["alice  (admin)", "bob"]
    not_admin = run_cli("users", "list", env={"CODENOOK_USER": "bob", "CODENOOK_PASSWORD": PW})
    assert not_admin.returncode == 2 and b"Only an admin" in not_admin.stderr


def test_ask_without_login_says_run_login() -> None:
    proc = run_cli("ask", "hi", env=NO_ENV)
    assert proc.returncode == 2
    assert b"run codenook login" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_login_saves_a_private_token_and_logout_revokes_it(codenook_home: Path) -> None:
    assert users_add("alice", PW).returncode == 0
    login = run_cli("login", input=f"alice\n{PW}\n".encode(), env=NO_ENV)
    assert login.returncode == 0, login.stderr.decode()
    token_file = config.paths().data / "session"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    ok = run_cli("ask", "Say hi", "--max-tokens", "4", env=NO_ENV)
    assert ok.returncode == 0, ok.stderr.decode()
    token = token_file.read_text()
    assert run_cli("logout", env=NO_ENV).returncode == 0
    assert not token_file.exists()
    # The old token is dead even if someone kept a copy.
    token_file.write_text(token)
    again = run_cli("ask", "Say hi", env=NO_ENV)
    assert again.returncode == 2 and b"codenook login" in again.stderr


def test_first_login_offers_to_create_the_account() -> None:
    proc = run_cli("login", input=f"y\nalice\n{PW}\n{PW}\n".encode(), env=NO_ENV)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Created admin account 'alice'" in proc.stderr


def test_wrong_password_and_lockout_message() -> None:
    assert users_add("alice", PW).returncode == 0
    for _ in range(5):
        proc = run_cli("login", input=b"alice\nwrong-password\n", env=NO_ENV)
        assert proc.returncode == 2
        assert b"Wrong user name or password." in proc.stderr
    locked = run_cli("login", input=f"alice\n{PW}\n".encode(), env=NO_ENV)
    assert locked.returncode == 2
    # The exact 30 s is checked with a fake clock in tests/test_auth.py; here a slow
    # machine may take a few seconds between the 5th failure and this attempt.
    wait = re.search(rb"Try again in (\d+) seconds", locked.stderr)
    assert wait and 0 < int(wait.group(1)) <= 30, locked.stderr


@pytest.mark.parametrize(
    ("name", "stdin", "message"),
    [
        ("bob", b"caf\xe9\xff\n", b"not UTF-8"),
        ("bob", b"password1\n", b"most common"),
        ("bob", b"x" * 10_000 + b"\n", b"too long"),
        ("x'; DROP TABLE users;--", PW.encode() + b"\n", b"1 to 64 characters"),
        ("", PW.encode() + b"\n", b"1 to 64 characters"),
    ],
)
def test_bad_input_to_users_add(name: str, stdin: bytes, message: bytes) -> None:
    proc = run_cli("users", "add", name, "--password-stdin", input=stdin, env=NO_ENV)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    listed = users_add("zed", PW)  # the database still has no user: zed becomes the admin
    assert b"Added admin 'zed'" in listed.stderr


def test_passwd_and_remove() -> None:
    assert users_add("alice", PW).returncode == 0
    admin = {"CODENOOK_USER": "alice", "CODENOOK_PASSWORD": PW}
    assert users_add("bob", PW, **admin).returncode == 0
    changed = run_cli(
        "users",
        "passwd",
        "bob",
        "--password-stdin",
        input=f"{PW}\nnew-secret-value-9\n".encode(),
        env=NO_ENV,
    )
    assert changed.returncode == 0, changed.stderr.decode()
    unconfirmed = run_cli("users", "remove", "bob", env=admin)
    assert unconfirmed.returncode == 2 and b"--yes" in unconfirmed.stderr
    assert run_cli("users", "remove", "bob", "--yes", env=admin).returncode == 0
    assert run_cli("users", "list", env=admin).stdout.decode().strip() == "alice  (admin)"


def test_no_password_or_token_anywhere_on_disk(codenook_home: Path) -> None:
    assert users_add("alice", PW).returncode == 0
    run_cli("login", input=b"alice\nwrong-password-1\n", env=NO_ENV)
    assert run_cli("login", input=f"alice\n{PW}\n".encode(), env=NO_ENV).returncode == 0
    run_cli("ask", "hello", "--max-tokens", "4", "-v", env=NO_ENV)
    token = (config.paths().data / "session").read_text().encode()
    for path in codenook_home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PW.encode() not in data, path
            assert b"wrong-password-1" not in data, path
            if path.name != "session":
                assert token not in data, path


def attempt_rows() -> list[tuple[str, int, float]]:
    db = open_database(config.paths().database)
    try:
        return [
            tuple(r)
            for r in db.execute("SELECT name_key, failures, locked_until FROM login_attempts")
        ]
    finally:
        db.close()


def clear_attempts() -> None:
    db = open_database(config.paths().database)
    try:
        db.execute("DELETE FROM login_attempts")
    finally:
        db.close()


def test_twelve_parallel_wrong_passwords_lock_the_account() -> None:
    assert users_add("tester", PW).returncode == 0
    procs = [
        subprocess.Popen(
            [str(CODENOOK), "history", "list"],
            env={**os.environ, "CODENOOK_USER": "tester", "CODENOOK_PASSWORD": f"wrong-{i}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(12)
    ]
    errors = [p.communicate(timeout=180)[1] for p in procs]
    assert all(p.returncode == 2 for p in procs), errors
    wrong = sum(b"Wrong user name or password." in e for e in errors)
    locked = sum(b"Too many failed logins" in e for e in errors)
    assert wrong + locked == 12, errors
    ((_, failures, _),) = attempt_rows()
    print(f"12 parallel wrong passwords: {wrong} checked, {locked} refused, {failures} counted")
    # Every password that was checked counted, and the lock came after five.
    assert failures == wrong >= 5
    right = run_cli("history", "list", env={"CODENOOK_USER": "tester", "CODENOOK_PASSWORD": PW})
    assert right.returncode == 2 and b"Too many failed logins" in right.stderr, right.stderr


def test_an_unknown_name_costs_no_more_than_a_known_one() -> None:
    assert users_add("tester", PW).returncode == 0

    def timed(name: str) -> float:
        start = time.perf_counter()
        proc = run_cli(
            "history", "list", env={"CODENOOK_USER": name, "CODENOOK_PASSWORD": "wrong-one"}
        )
        elapsed = time.perf_counter() - start
        assert proc.returncode == 2 and b"Wrong user name or password." in proc.stderr
        return elapsed

    known, unknown = [], []
    for i in range(7):
        known.append(timed("tester"))
        unknown.append(timed(f"ghost{i}"))
        clear_attempts()  # so the lockout does not answer instead
    k, u = statistics.median(known), statistics.median(unknown)
    # Paired runs, so a load that comes and goes on a shared machine hits both sides.
    gap = statistics.median(b - a for a, b in zip(known, unknown, strict=True))
    print(f"history list, wrong password: known {k:.3f} s, unknown {u:.3f} s, gap {gap:+.3f} s")
    assert gap < 0.08, (known, unknown)


def test_a_huge_name_at_login_is_refused_and_not_stored() -> None:
    assert users_add("alice", PW).returncode == 0
    proc = run_cli("login", input=b"a" * 1_000_000 + b"\nwrong-password\n", env=NO_ENV)
    assert proc.returncode == 2
    assert b"1 to 64 characters" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert attempt_rows() == []
