"""Accounts through the real ``codenook`` command."""

import os
import pty
import re
import select
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


# -- recovery codes and resets ----------------------------------------------------------

CODE_RE = re.compile(rb"^([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})$", re.M)


def shown_code(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The recovery code a command printed: alone on stdout, once."""
    assert proc.returncode == 0, proc.stderr.decode()
    (code,) = CODE_RE.findall(proc.stdout)
    assert b"shown only this once" in proc.stderr
    assert code not in proc.stderr
    return code.decode()


def recover(name: str, code: str, password: str):
    return run_cli(
        "users", "recover", name, "--stdin", input=f"{code}\n{password}\n".encode(), env=NO_ENV
    )


def log_text() -> str:
    return (config.paths().logs / "codenook.log").read_text()


def no_code_on_disk(home: Path, *codes: str) -> None:
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for code in codes:
                assert code.encode() not in data, path
                assert code.replace("-", "").encode() not in data, path


def test_users_add_shows_a_recovery_code_and_recover_spends_it(codenook_home: Path) -> None:
    first = shown_code(users_add("alice", PW))
    recovered = recover("alice", first, "fresh-walrus-88")
    second = shown_code(recovered)
    assert b"the code is spent" in recovered.stderr
    alice_new = {"CODENOOK_USER": "alice", "CODENOOK_PASSWORD": "fresh-walrus-88"}
    assert run_cli("users", "list", env=alice_new).returncode == 0
    again = recover("alice", first, "other-walrus-99")
    assert again.returncode == 2
    assert again.stderr.decode().strip() == "codenook: error: Wrong user name or recovery code."
    assert run_cli("users", "list", env=alice_new).returncode == 0  # nothing changed
    log = log_text()
    assert "INFO codenook.auth: Password of 'alice' set with its recovery code" in log
    assert "WARNING codenook.auth: Refused a recovery for 'alice' (wrong recovery code)" in log
    assert "Traceback" not in log and "  | " not in log
    no_code_on_disk(codenook_home, first, second)


def test_wrong_recovery_codes_lock_the_account_like_passwords() -> None:
    code = shown_code(users_add("alice", PW))
    for _ in range(3):
        assert recover("alice", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", "fresh-walrus-88").returncode == 2
    for _ in range(2):
        assert run_cli("login", input=b"alice\nwrong-password\n", env=NO_ENV).returncode == 2
    ((_, failures, _),) = attempt_rows()
    assert failures == 5
    locked = recover("alice", code, "fresh-walrus-88")
    assert locked.returncode == 2 and b"Too many failed logins" in locked.stderr
    login = run_cli("login", input=f"alice\n{PW}\n".encode(), env=NO_ENV)
    assert login.returncode == 2 and b"Too many failed logins" in login.stderr


def test_an_admin_resets_another_account(codenook_home: Path) -> None:
    shown_code(users_add("alice", PW))
    admin = {"CODENOOK_USER": "alice", "CODENOOK_PASSWORD": PW}
    bob_code = shown_code(users_add("bob", PW, **admin))
    bob = {"CODENOOK_USER": "bob", "CODENOOK_PASSWORD": PW}
    refused = run_cli("users", "reset", "alice", "--code-only", env=bob)
    assert refused.returncode == 2 and b"Only an admin" in refused.stderr
    own = run_cli("users", "reset", "alice", "--code-only", env=admin)
    assert own.returncode == 2 and b"your own account" in own.stderr
    reset = run_cli(
        "users",
        "reset",
        "bob",
        "--password-stdin",
        input=b"fresh-walrus-88\n",
        env=admin,
    )
    reset_code = shown_code(reset)
    assert b"Password set for 'bob'" in reset.stderr
    assert run_cli("users", "list", env=bob).returncode == 2  # the old password is dead
    assert recover("bob", bob_code, "other-walrus-99").returncode == 2  # so is the old code
    code_only = run_cli("users", "reset", "bob", "--code-only", env=admin)
    last_code = shown_code(code_only)
    assert b"the password is unchanged" in code_only.stderr
    assert recover("bob", reset_code, "other-walrus-99").returncode == 2  # replaced
    assert recover("bob", last_code, "other-walrus-99").returncode == 0
    log = log_text()
    assert "Password of 'bob' reset by the admin 'alice'" in log
    assert "New recovery code for 'bob' issued by the admin 'alice'" in log
    no_code_on_disk(codenook_home, bob_code, reset_code, last_code)
    assert b"fresh-walrus-88" not in (config.paths().logs / "codenook.log").read_bytes()


def test_first_login_shows_the_recovery_code(codenook_home: Path) -> None:
    proc = run_cli("login", input=f"y\nalice\n{PW}\n{PW}\n".encode(), env=NO_ENV)
    assert proc.returncode == 0, proc.stderr.decode()
    # Inside login (or any command that logs in first) stdout is not its own: stderr.
    (code,) = CODE_RE.findall(b"\n".join(x.strip() for x in proc.stderr.splitlines()))
    assert recover("alice", code.decode(), "fresh-walrus-88").returncode == 0
    no_code_on_disk(codenook_home, code.decode())


def in_terminal(args: list[str], replies: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Run codenook on a pseudo-terminal, answering each prompt as a person would.

    ``replies`` pairs the prompt awaited with the line typed; returns (status, all output).
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout and controlling terminal are the pty
        os.execv(str(CODENOOK), [str(CODENOOK), *args])
    seen = b""
    pending = list(replies)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if pending and seen.rstrip().endswith(pending[0][0]):
                os.write(fd, pending.pop(0)[1] + b"\n")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), seen


def test_login_at_a_terminal_asks_again_after_a_wrong_password() -> None:
    users_add("alice", PW)
    status, out = in_terminal(
        ["login"],
        [
            (b"User name:", b"alice"),
            (b"Password:", b"wrong-password-1"),
            (b"User name [alice]:", b""),  # Enter keeps the name
            (b"Password:", PW.encode()),
        ],
    )
    assert status == 0, out
    assert b"Wrong user name or password. Try again (2 left)." in out
    assert b"Logged in as alice." in out
    log = log_text()
    # A person's mistake: one warning line, not an error with a traceback.
    assert "WARNING codenook.auth: Refused a login for 'alice' (wrong password)" in log
    assert " ERROR " not in log and "CRITICAL" not in log and "  | " not in log


def test_login_at_a_terminal_gives_up_after_three_wrong_passwords() -> None:
    users_add("alice", PW)
    replies = [(b"User name:", b"alice"), (b"Password:", b"wrong-password-1")]
    for n in (2, 3):
        replies += [(b"User name [alice]:", b""), (b"Password:", f"wrong-password-{n}".encode())]
    status, out = in_terminal(["login"], replies)
    assert status == 2, out
    assert out.count(b"Password:") == 3
    assert out.rstrip().endswith(b"codenook: error: Wrong user name or password.")
    ((_, failures, _),) = attempt_rows()
    assert failures == 3  # each try counted
    assert log_text().count("Refused a login for 'alice' (wrong password)") == 3
