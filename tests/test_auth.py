"""Accounts against a real database file."""

import logging
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from codenook import auth
from codenook.auth import Auth, AuthError, LockedError, NotLoggedInError
from codenook.store import accounts, migrations
from codenook.store.db import open_database

GOOD = "tangerine-otter-42"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    conn = open_database(tmp_path / "auth.db")
    yield conn
    conn.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def dump(db: sqlite3.Connection) -> list[tuple]:
    return [
        tuple(r)
        for t in ("users", "login_attempts", "auth_sessions")
        for r in db.execute(f"SELECT * FROM {t}")
    ]


def test_hash_is_argon2id_with_strong_parameters(db) -> None:
    Auth(db).create_user("alice", GOOD)
    encoded = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert encoded.startswith("$argon2id$")
    assert "m=65536,t=3,p=1" in encoded
    assert GOOD not in encoded


def test_first_user_is_admin_and_only_admins_add(db) -> None:
    a = Auth(db)
    alice = a.create_user("alice", GOOD)
    assert alice.is_admin
    with pytest.raises(AuthError, match="Only an admin"):
        a.create_user("bob", GOOD)
    bob = a.create_user("bob", GOOD, by=alice)
    assert not bob.is_admin
    with pytest.raises(AuthError, match="Only an admin"):
        a.create_user("carol", GOOD, by=bob)
    assert [u.name for u in a.list_users(by=alice)] == ["alice", "bob"]
    with pytest.raises(AuthError):
        a.list_users(by=bob)


def test_names_are_case_insensitive_unique(db) -> None:
    a = Auth(db)
    alice = a.create_user("Alice", GOOD)
    with pytest.raises(AuthError, match="taken"):
        a.create_user("ALICE", GOOD, by=alice)
    assert a.verify("alice", GOOD).name == "Alice"


def test_verify_right_and_wrong(db) -> None:
    a = Auth(db)
    a.create_user("alice", GOOD)
    assert a.verify("alice", GOOD).name == "alice"
    with pytest.raises(AuthError) as wrong:
        a.verify("alice", "not-the-password")
    with pytest.raises(AuthError) as unknown:
        a.verify("nobody", "not-the-password")
    assert str(wrong.value) == str(unknown.value) == auth.WRONG_CREDENTIALS


def test_unknown_users_take_as_long_as_known_ones(db) -> None:
    a = Auth(db)
    a.create_user("alice", GOOD)

    def timed(name: str) -> float:
        start = time.perf_counter()
        with pytest.raises(AuthError):
            a.verify(name, "wrong-password")
        return time.perf_counter() - start

    known, unknown = [], []
    for i in range(4):  # fewer than the lockout threshold
        known.append(timed("alice"))
        unknown.append(timed(f"ghost{i}"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (known, unknown)


def test_dummy_hash_is_a_constant_with_the_hashers_parameters() -> None:
    # Otherwise an unknown name would cost a different time than a known one.
    assert auth.DUMMY_HASH.startswith("$argon2id$")
    assert not auth.HASHER.check_needs_rehash(auth.DUMMY_HASH)


# One attempt in a fresh interpreter, as each command-line run is: nothing made earlier in
# the process (a dummy hash cached by a previous attempt) hides a cost.
FIRST_ATTEMPT = """
import sys, time
from codenook.auth import Auth, AuthError
from codenook.store.db import open_database
a = Auth(open_database(sys.argv[1]))
start = time.perf_counter()
try:
    a.verify(sys.argv[2], "wrong-password")
except AuthError:
    pass
print(time.perf_counter() - start)
"""


def test_first_attempt_in_a_new_process_costs_the_same_for_unknown_names(tmp_path) -> None:
    path = tmp_path / "timing.db"
    db = open_database(path)
    Auth(db).create_user("alice", GOOD)
    db.close()

    def first_attempt(name: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", FIRST_ATTEMPT, str(path), name],
            capture_output=True,
            check=True,
            timeout=120,
        )
        return float(out.stdout)

    known, unknown = [], []
    for i in range(5):  # the fifth failure locks only the sixth attempt
        known.append(first_attempt("alice"))
        unknown.append(first_attempt(f"ghost{i}"))
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"first verify in a new process: known {k:.3f} s, unknown {u:.3f} s (medians of 5)")
    # An extra Argon2 hash for unknown names would make them about twice as slow.
    assert u - k < 0.4 * k, (known, unknown)


def test_parallel_wrong_passwords_each_count_and_lock(tmp_path) -> None:
    path = tmp_path / "race.db"
    db = open_database(path)
    Auth(db).create_user("alice", GOOD)
    db.close()
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def guess(i: int) -> None:
        conn = open_database(path)  # one connection each, as separate processes have
        try:
            start.wait()
            Auth(conn).verify("alice", f"wrong-{i}")
        except LockedError:
            outcomes.append("locked")
        except AuthError:
            outcomes.append("wrong")
        finally:
            conn.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db = open_database(path)
    failures = accounts.attempts(db, "alice").failures
    print(f"12 parallel wrong passwords: {failures} counted, outcomes {sorted(outcomes)}")
    # Every password that was checked was counted; none was checked once locked.
    assert failures == outcomes.count("wrong") >= auth.FREE_FAILURES
    assert len(outcomes) == 12
    with pytest.raises(LockedError):
        Auth(db).verify("alice", GOOD)
    db.close()


def test_a_success_resets_the_count(db) -> None:
    a = Auth(db)
    a.create_user("alice", GOOD)
    for _ in range(4):
        with pytest.raises(AuthError):
            a.verify("alice", "wrong-password")
    assert accounts.attempts(db, "alice").failures == 4
    a.verify("alice", GOOD)
    assert accounts.attempts(db, "alice").failures == 0


def test_a_huge_name_is_refused_before_the_database(db) -> None:
    a = Auth(db)
    a.create_user("alice", GOOD)
    before = dump(db)
    with pytest.raises(AuthError, match="1 to 64 characters"):
        a.verify("a" * 1_000_000, "wrong-password")
    assert dump(db) == before


def test_failed_login_rows_expire(db, clock) -> None:
    a = Auth(db, clock=clock)
    a.create_user("alice", GOOD)
    for name in ("ghost", "ghost", "alice"):
        with pytest.raises(AuthError):
            a.verify(name, "wrong-password")
    clock.now += auth.FAILURE_MEMORY_S - 10
    with pytest.raises(AuthError):
        a.verify("visitor", "wrong-password")
    assert accounts.attempts(db, "ghost").failures == 2  # not yet
    clock.now += 20
    with pytest.raises(AuthError):
        a.verify("visitor", "wrong-password")
    rows = [r[0] for r in db.execute("SELECT name_key FROM login_attempts")]
    # Known and unknown names alike, so expiry tells nothing about which names exist.
    assert rows == ["visitor"]
    assert accounts.attempts(db, "visitor").failures == 2


def test_failed_login_rows_are_capped_but_a_lock_stays(db, clock, monkeypatch) -> None:
    monkeypatch.setattr(auth, "MAX_ATTEMPT_ROWS", 3, raising=False)
    a = Auth(db, clock=clock)
    a.create_user("alice", GOOD)
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(AuthError):
            a.verify("alice", "wrong-password")
    for i in range(6):  # a flood of made-up names
        clock.now += 1
        with pytest.raises(AuthError):
            a.verify(f"ghost{i}", "wrong-password")
    rows = sorted(r[0] for r in db.execute("SELECT name_key FROM login_attempts"))
    assert rows == ["alice", "ghost3", "ghost4", "ghost5"]
    with pytest.raises(LockedError):
        a.verify("alice", GOOD)


def test_lockout_refuses_the_right_password_and_survives_reopening(tmp_path, clock) -> None:
    path = tmp_path / "lock.db"
    db = open_database(path)
    a = Auth(db, clock=clock)
    a.create_user("alice", GOOD)
    for _ in range(5):
        with pytest.raises(AuthError):
            a.verify("alice", "wrong-password")
    with pytest.raises(LockedError, match="Try again in 30 seconds"):
        a.verify("alice", GOOD)
    db.close()

    db = open_database(path)
    a = Auth(db, clock=clock)
    clock.now += 20
    with pytest.raises(LockedError, match="Try again in 10 seconds"):
        a.verify("alice", GOOD)
    clock.now += 11
    assert a.verify("alice", GOOD).name == "alice"
    db.close()


def test_lock_doubles_up_to_fifteen_minutes(db, clock) -> None:
    a = Auth(db, clock=clock)
    a.create_user("alice", GOOD)
    waits = []
    for _ in range(12):
        with pytest.raises(AuthError):
            a.verify("alice", "wrong-password")
        lock = accounts.attempts(db, "alice").locked_until - clock.now
        if lock > 0:
            waits.append(round(lock))
            clock.now += lock + 1
    assert waits[:4] == [30, 60, 120, 240]
    assert waits[-1] == 900
    assert len(waits) == 8


def test_unknown_names_are_locked_the_same_way(db, clock) -> None:
    a = Auth(db, clock=clock)
    for _ in range(5):
        with pytest.raises(AuthError):
            a.verify("ghost", "wrong-password")
    with pytest.raises(LockedError):
        a.verify("ghost", "wrong-password")


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("", GOOD, "1 to 64 characters"),
        ("a" * 65, GOOD, "1 to 64 characters"),
        ("a/b", GOOD, "1 to 64 characters"),
        ("o'neil", GOOD, "1 to 64 characters"),
        ("x'; DROP TABLE users;--", GOOD, "1 to 64 characters"),
        ("alice", "p" * 10_000, "too long"),
        ("alice", "short", "too short"),
        ("alice", "password1", "most common"),
        ("alice", "Qwerty123", "most common"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(db, name, password, message) -> None:
    a = Auth(db)
    admin = a.create_user("admin", GOOD)
    before = dump(db)
    with pytest.raises(AuthError, match=message):
        a.create_user(name, password, by=admin)
    assert dump(db) == before
    assert db.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 1


def test_rehash_on_login_when_parameters_were_raised(db) -> None:
    a = Auth(db)
    user = a.create_user("alice", GOOD)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(GOOD)
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (weak, user.id))
    a.verify("alice", GOOD)
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored != weak
    assert "m=65536,t=3,p=1" in stored


def test_change_password_needs_the_old_one_and_ends_sessions(db) -> None:
    a = Auth(db)
    user = a.create_user("alice", GOOD)
    token = a.start_session(user)
    with pytest.raises(AuthError):
        a.change_password("alice", "wrong-password", "another-good-one")
    a.change_password("alice", GOOD, "another-good-one")
    with pytest.raises(NotLoggedInError):
        a.user_for_token(token)
    assert a.verify("alice", "another-good-one")


def test_sessions_store_only_a_hash_and_expire_when_idle(db, clock) -> None:
    a = Auth(db, clock=clock)
    user = a.create_user("alice", GOOD)
    token = a.start_session(user)
    assert len(token) >= 43  # 32 random bytes, base64
    stored = db.execute("SELECT token_hash FROM auth_sessions").fetchone()[0]
    assert token not in stored and stored == auth.hash_token(token)
    clock.now += 11 * 3600
    assert a.user_for_token(token).name == "alice"  # use restarts the idle clock
    clock.now += 11 * 3600
    assert a.user_for_token(token).name == "alice"
    clock.now += 12 * 3600 + 1
    with pytest.raises(NotLoggedInError, match="codenook login"):
        a.user_for_token(token)
    a2 = a.start_session(user)
    a.end_session(a2)
    with pytest.raises(NotLoggedInError):
        a.user_for_token(a2)


def test_users_are_isolated(db) -> None:
    a = Auth(db)
    alice = a.create_user("alice", GOOD)
    bob = a.create_user("bob", GOOD, by=alice)
    ta, tb = a.start_session(alice), a.start_session(bob)
    assert a.user_for_token(ta).name == "alice"
    assert a.user_for_token(tb).name == "bob"
    with pytest.raises(AuthError):
        a.delete_user("alice", by=bob)
    with pytest.raises(AuthError):
        a.list_users(by=bob)
    a.delete_user("bob", by=alice)
    with pytest.raises(NotLoggedInError):
        a.user_for_token(tb)
    assert a.user_for_token(ta).name == "alice"
    assert db.execute("SELECT COUNT(*) FROM auth_sessions").fetchone()[0] == 1
    with pytest.raises(AuthError, match="only admin"):
        a.delete_user("alice", by=alice)


# -- recovery codes ------------------------------------------------------------------


def test_a_new_account_gets_a_recovery_code_kept_only_as_a_hash(db) -> None:
    user = Auth(db).create_user("alice", GOOD)
    code = user.recovery_code
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}", code)
    assert code not in repr(user)
    (stored,) = db.execute("SELECT recovery_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=1" in stored
    assert all(code not in str(value) for row in dump(db) for value in row)
    # Each account its own code.
    assert Auth(db).create_user("bob", GOOD, by=user).recovery_code != code


def test_the_recovery_code_sets_a_new_password_once_and_a_new_code_comes(db) -> None:
    a = Auth(db)
    first = a.create_user("alice", GOOD)
    token = a.start_session(first)
    # Typed as people type it: lower case, spaces for dashes.
    typed = first.recovery_code.lower().replace("-", " ")
    recovered = a.recover("alice", typed, "fresh-walrus-88")
    assert recovered.name == "alice" and recovered.is_admin
    assert a.verify("alice", "fresh-walrus-88").name == "alice"
    with pytest.raises(AuthError):
        a.verify("alice", GOOD)
    with pytest.raises(NotLoggedInError):
        a.user_for_token(token)  # the sessions ended with the old password
    with pytest.raises(AuthError, match=re.escape(auth.WRONG_RECOVERY)):
        a.recover("alice", first.recovery_code, "another-walrus-99")  # spent
    assert recovered.recovery_code != first.recovery_code
    a.recover("alice", recovered.recovery_code, "another-walrus-99")
    assert a.verify("alice", "another-walrus-99").name == "alice"


def test_a_wrong_recovery_code_counts_as_a_failed_login(db, clock) -> None:
    a = Auth(db, clock=clock)
    user = a.create_user("alice", GOOD)
    wrong = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"
    for _ in range(2):
        with pytest.raises(AuthError, match=re.escape(auth.WRONG_RECOVERY)):
            a.recover("alice", wrong, "fresh-walrus-88")
    for _ in range(auth.FREE_FAILURES - 2):
        with pytest.raises(AuthError):
            a.verify("alice", "wrong-password")
    # One count for both: the fifth failure locks passwords and codes alike.
    assert accounts.attempts(db, "alice").failures == auth.FREE_FAILURES
    with pytest.raises(LockedError, match="Try again in 30 seconds"):
        a.recover("alice", user.recovery_code, "fresh-walrus-88")
    with pytest.raises(LockedError):
        a.verify("alice", GOOD)
    clock.now += 31
    a.recover("alice", user.recovery_code, "fresh-walrus-88")
    assert accounts.attempts(db, "alice").failures == 0  # a success resets it
    # Unknown names cost a try the same way, with the same message.
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(AuthError, match=re.escape(auth.WRONG_RECOVERY)):
            a.recover("ghost", wrong, "fresh-walrus-88")
    with pytest.raises(LockedError):
        a.recover("ghost", wrong, "fresh-walrus-88")


def test_a_malformed_code_or_a_bad_new_password_costs_no_try(db) -> None:
    a = Auth(db)
    user = a.create_user("alice", GOOD)
    before = dump(db)
    with pytest.raises(AuthError, match="24 letters and digits"):
        a.recover("alice", "x" * 1_000_000, "fresh-walrus-88")
    with pytest.raises(AuthError, match="most common"):
        a.recover("alice", user.recovery_code, "password1")
    assert dump(db) == before  # nothing counted, the code not spent


def test_a_code_used_twice_at_once_works_once(tmp_path) -> None:
    path = tmp_path / "race.db"
    db = open_database(path)
    code = Auth(db).create_user("alice", GOOD).recovery_code
    db.close()
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def use(i: int) -> None:
        conn = open_database(path)
        try:
            start.wait()
            Auth(conn).recover("alice", code, f"fresh-walrus-{i}{i}")
            outcomes.append(f"fresh-walrus-{i}{i}")
        except AuthError:
            outcomes.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (winner,) = [o for o in outcomes if o != "refused"]
    assert outcomes.count("refused") == 3
    db = open_database(path)
    assert Auth(db).verify("alice", winner).name == "alice"
    db.close()


def test_an_admin_resets_another_account(db, clock) -> None:
    a = Auth(db, clock=clock)
    alice = a.create_user("alice", GOOD)
    bob = a.create_user("bob", GOOD, by=alice)
    a.create_user("carol", GOOD, by=alice)
    with pytest.raises(AuthError, match="Only an admin"):
        a.reset("carol", by=bob, new_password="fresh-walrus-88")
    with pytest.raises(AuthError, match="your own account"):
        a.reset("alice", by=alice, new_password="fresh-walrus-88")
    with pytest.raises(AuthError, match="No user named"):
        a.reset("nobody", by=alice)
    token = a.start_session(bob)
    reset = a.reset("bob", by=alice, new_password="fresh-walrus-88")
    assert a.verify("bob", "fresh-walrus-88").name == "bob"
    with pytest.raises(AuthError):
        a.verify("bob", GOOD)
    with pytest.raises(NotLoggedInError):
        a.user_for_token(token)
    with pytest.raises(AuthError):
        a.recover("bob", bob.recovery_code, "another-walrus-99")  # the old code is dead
    a.recover("bob", reset.recovery_code, "another-walrus-99")
    # --code-only: the password stays until its owner picks one with the new code.
    code_only = a.reset("carol", by=alice)
    assert a.verify("carol", GOOD).name == "carol"
    a.recover("carol", code_only.recovery_code, "another-walrus-99")
    assert a.verify("carol", "another-walrus-99").name == "carol"


def test_a_reset_does_not_lift_a_lock(db, clock) -> None:
    a = Auth(db, clock=clock)
    alice = a.create_user("alice", GOOD)
    a.create_user("bob", GOOD, by=alice)
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(AuthError):
            a.verify("bob", "wrong-password")
    a.reset("bob", by=alice, new_password="fresh-walrus-88")
    assert a.locked_for("bob") == pytest.approx(auth.FIRST_LOCK_S)
    with pytest.raises(LockedError):
        a.verify("bob", "fresh-walrus-88")


def test_an_account_from_before_codes_gets_one_with_its_password(tmp_path) -> None:
    path = tmp_path / "v3.db"
    raw = sqlite3.connect(path, isolation_level=None)
    saved = migrations.MIGRATIONS
    try:
        migrations.MIGRATIONS = saved[:3]
        migrations.migrate(raw)
    finally:
        migrations.MIGRATIONS = saved
    raw.execute(
        "INSERT INTO users (id, name, name_key, password_hash, is_admin, created) "
        "VALUES (1, 'old', 'old', ?, 1, 0)",
        (auth.HASHER.hash(GOOD),),
    )
    raw.close()
    db = open_database(path)
    a = Auth(db)
    assert db.execute("SELECT recovery_hash FROM users").fetchone()[0] is None
    with pytest.raises(AuthError, match=re.escape(auth.WRONG_RECOVERY)):
        a.recover("old", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF", "fresh-walrus-88")
    assert accounts.attempts(db, "old").failures == 1  # counted like any wrong code
    with pytest.raises(AuthError):
        a.renew_recovery_code("old", "wrong-password")
    first = a.renew_recovery_code("old", GOOD)
    second = a.renew_recovery_code("old", GOOD)
    with pytest.raises(AuthError):
        a.recover("old", first.recovery_code, "fresh-walrus-88")  # replaced by the second
    a.recover("old", second.recovery_code, "fresh-walrus-88")
    db.close()


def test_recovery_events_are_logged_without_the_code(db, caplog) -> None:
    a = Auth(db)
    alice = a.create_user("alice", GOOD)
    bob = a.create_user("bob", GOOD, by=alice)
    caplog.set_level(logging.INFO, logger="codenook.auth")
    with pytest.raises(AuthError):
        a.recover("alice", bob.recovery_code, "fresh-walrus-88")
    new = a.recover("alice", alice.recovery_code, "fresh-walrus-88")
    reset = a.reset("bob", by=alice)
    with pytest.raises(AuthError):
        a.verify("alice", GOOD)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("WARNING", "Refused a recovery for 'alice' (wrong recovery code)"),
        ("INFO", "Password of 'alice' set with its recovery code; a new code was issued"),
        ("INFO", "New recovery code for 'bob' issued by the admin 'alice'"),
        ("WARNING", "Refused a login for 'alice' (wrong password)"),
    ]
    assert all(not r.exc_info for r in caplog.records)
    text = "\n".join(m for _, m in lines)
    for code in (alice.recovery_code, bob.recovery_code, new.recovery_code, reset.recovery_code):
        assert code not in text
