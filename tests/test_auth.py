"""Accounts against a real database file."""

import sqlite3
import statistics
import time
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from codenook import auth
from codenook.auth import Auth, AuthError, LockedError, NotLoggedInError
from codenook.store import accounts
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
    auth._dummy_hash()  # made once per process; not part of any one attempt

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
