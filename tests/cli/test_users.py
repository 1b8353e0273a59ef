"""Accounts through the real ``codenook`` command."""

import re
import stat
from pathlib import Path

import pytest

from codenook import config
from tests.conftest import run_cli

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
