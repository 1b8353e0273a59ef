"""Accounts: create users, verify passwords with lockout, recovery codes, and auth sessions.

Passwords and recovery codes are hashed with Argon2id (argon2-cffi) and never stored,
logged or printed (a new recovery code is shown to its owner once, by the face).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.resources
import logging
import math
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from codenook import config
from codenook.errors import CodenookError
from codenook.redact import register_secret
from codenook.store import accounts

log = logging.getLogger(__name__)

# RFC 9106's low-memory choice, one lane: well above OWASP's floor (19 MiB, t=2, p=1).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
MAX_NAME = 64
NAME_RE = re.compile(rf"[A-Za-z0-9._-]{{1,{MAX_NAME}}}")
FREE_FAILURES = 5
FIRST_LOCK_S, MAX_LOCK_S = 30.0, 15 * 60.0
# Failed-login rows are forgotten a day after their last failure once unlocked, and at most
# this many unlocked ones are kept: a flood of made-up names cannot grow the database.
# A day, not MAX_LOCK_S, so waiting out a short lock does not also reset the doubling.
FAILURE_MEMORY_S = 24 * 3600.0
MAX_ATTEMPT_ROWS = 10_000
SESSION_IDLE_S = 12 * 3600.0
WRONG_CREDENTIALS = "Wrong user name or password."
WRONG_RECOVERY = "Wrong user name or recovery code."
# 15 random bytes: 120 bits, written as 24 base32 letters and digits in groups of four.
# So much chance makes guessing hopeless even offline; the lockout still counts each try.
RECOVERY_BYTES = 15
RECOVERY_CHARS = RECOVERY_BYTES * 8 // 5
RECOVERY_GROUP = 4
# Typed codes: dashes and spaces ignored, case ignored, and the digits people read in place
# of base32's letters (0 for O, 1 for I, 8 for B) taken as those letters.
_CODE_SEPARATORS = re.compile(r"[\s-]+")
_CODE_LOOKALIKES = str.maketrans("018", "OIB")
_CODE_RE = re.compile(rf"[A-Z2-7]{{{RECOVERY_CHARS}}}")


class AuthError(CodenookError):
    """A login or account request was refused."""


class LockedError(AuthError):
    """Too many failed logins: wait before trying again."""

    def __init__(self, wait: float) -> None:
        # Rounded up: a person told 29 s who waits 29 s must not be refused again.
        self.wait = max(1, math.ceil(wait))
        super().__init__(
            f"Too many failed logins for this account. Try again in {self.wait} seconds."
        )


class NotLoggedInError(AuthError):
    """No valid session and no credentials in the environment."""


@dataclass(frozen=True)
class User:
    """A logged-in (or listed) user; holds no secret."""

    id: int
    name: str
    is_admin: bool


@dataclass(frozen=True)
class NewUser(User):
    """An account just made or recovered, with its new one-time recovery code.

    Usable wherever a User is; the face shows ``recovery_code`` once and keeps it nowhere.
    """

    recovery_code: str = field(default="", repr=False, compare=False)


def _public(row: accounts.UserRow) -> User:
    return User(row.id, row.name, row.is_admin)


def _grouped(text: str) -> str:
    """``ABCDEFGH…`` as ``ABCD-EFGH-…``, the one form codes are shown, hashed and checked in."""
    return "-".join(text[i : i + RECOVERY_GROUP] for i in range(0, len(text), RECOVERY_GROUP))


def new_recovery_code() -> str:
    """A fresh random recovery code, ``ABCD-EFGH-…`` (24 base32 characters)."""
    code = _grouped(base64.b32encode(secrets.token_bytes(RECOVERY_BYTES)).decode())
    # A second line of defence: should the code ever reach the log, it is blanked there.
    register_secret(code)
    return code


def check_recovery_code(code: str) -> str:
    """A typed recovery code in its stored form, or AuthError saying what one looks like."""
    if len(code) > 4 * RECOVERY_CHARS:  # bounded before any work is done on it
        code = ""
    typed = _CODE_SEPARATORS.sub("", code).upper().translate(_CODE_LOOKALIKES)
    if not _CODE_RE.fullmatch(typed):
        raise AuthError(
            f"A recovery code has {RECOVERY_CHARS} letters and digits, as shown when the "
            "account was made (dashes and spaces do not matter)."
        )
    return _grouped(typed)


def _matches(encoded: str, secret: str) -> bool:
    """Whether ``secret`` matches the Argon2 hash ``encoded`` (False for a damaged hash)."""
    try:
        return HASHER.verify(encoded, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, lower case."""
    text = (importlib.resources.files("codenook") / "data" / "common-passwords.txt").read_text()
    return frozenset(w for w in text.split() if not w.startswith("#"))


def check_name(name: str) -> str:
    """Return a valid user name or raise AuthError saying what is allowed."""
    if not NAME_RE.fullmatch(name):
        raise AuthError(
            f"A user name has 1 to {MAX_NAME} characters: letters, digits, '.', '_' or '-'."
        )
    return name


def check_password(password: str) -> str:
    """Return an acceptable password or raise AuthError saying why not."""
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"The password is too short: use at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"The password is too long: at most {MAX_PASSWORD} characters.")
    if password.lower() in common_passwords():
        raise AuthError(
            "That password is among the most common ones and would be guessed first; "
            "choose another."
        )
    return password


def hash_token(token: str) -> str:
    """What the database keeps of a session token: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


# Verified against for unknown names, so they cost one verification like known ones. A
# constant made once with HASHER's parameters (a test checks they still match): hashing a
# fresh one in each new process made every unknown name cost an extra hash on the command line.
# No account can log in with it: a match with no user is still refused.
DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=1$umpqRktwOb68KUQag4JGhA"
    "$tmp2rfYvtWf/bnh5Pxah835clN9udKYjK8upWPwsoQI"
)


class Auth:
    """The account service over an open database."""

    def __init__(self, db: sqlite3.Connection, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def has_users(self) -> bool:
        """Whether any account exists yet."""
        return accounts.count_users(self.db) > 0

    def create_user(self, name: str, password: str, *, by: User | None = None) -> NewUser:
        """Add an account with a new recovery code (returned once, stored only as a hash).

        The first account is the admin; later ones need an admin ``by``.
        """
        check_name(name)
        check_password(password)
        code = new_recovery_code()
        encoded, code_hash = HASHER.hash(password), HASHER.hash(code)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            # Decided inside the transaction: two "first" users must not both become admin.
            is_admin = accounts.count_users(self.db) == 0
            if not is_admin and (by is None or not by.is_admin):
                raise AuthError("Only an admin can add users; log in as the admin first.")
            user_id = accounts.insert_user(
                self.db,
                name=name,
                password_hash=encoded,
                is_admin=is_admin,
                recovery_hash=code_hash,
            )
            self.db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            self.db.execute("ROLLBACK")
            raise AuthError(f"The user name '{name}' is taken.") from exc
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        log.info(
            "Account '%s' created (%s)%s",
            name,
            "admin" if is_admin else "user",
            f" by '{by.name}'" if by else "",
        )
        return NewUser(user_id, name, is_admin, recovery_code=code)

    def verify(self, name: str, password: str) -> User:
        """Check a password, with lockout; raise AuthError or LockedError when refused."""
        # Before the database: a name no account can have is never looked up nor stored.
        check_name(name)
        self._count_attempt(name, self.clock(), what="login")
        row = accounts.user_by_name(self.db, name)
        ok = _matches(row.password_hash if row else DUMMY_HASH, password)
        if not ok or row is None:
            _refused("login", row)
            raise AuthError(WRONG_CREDENTIALS)
        accounts.clear_failures(self.db, name)
        if HASHER.check_needs_rehash(row.password_hash):
            accounts.set_password_hash(self.db, row.id, HASHER.hash(password))
        return _public(row)

    def _count_attempt(self, name: str, now: float, *, what: str) -> None:
        """Count one login attempt as failed before its secret is checked, or refuse it.

        Passwords and recovery codes share this one count and lock. Read and write in one
        write transaction, so attempts made at the same time, from threads or processes,
        each count: N parallel guesses count N, and those after the FREE_FAILURES-th are
        refused as locked without spending a hash. A success resets it.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            state = accounts.attempts(self.db, name)
            if state.locked_until > now:
                exc = LockedError(state.locked_until - now)
                known = accounts.user_by_name(self.db, name) is not None
                log.warning(
                    "Refused a %s for %s: locked for %d more seconds",
                    what,
                    f"'{name}'" if known else "an unknown user name",
                    exc.wait,
                    extra={"file_only": True},
                )
                raise exc
            failures = state.failures + 1
            lock = 0.0
            if failures >= FREE_FAILURES:
                lock = now + min(FIRST_LOCK_S * 2 ** (failures - FREE_FAILURES), MAX_LOCK_S)
            accounts.record_failure(self.db, name, failures=failures, locked_until=lock, now=now)
            accounts.prune_attempts(
                self.db, now=now, older_than=now - FAILURE_MEMORY_S, keep=MAX_ATTEMPT_ROWS
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def change_password(self, name: str, old: str, new: str) -> User:
        """Set a new password; needs the old one. Ends the user's other sessions."""
        user = self.verify(name, old)
        check_password(new)
        accounts.set_password_hash(self.db, user.id, HASHER.hash(new))
        accounts.delete_sessions_of(self.db, user.id)
        return user

    def recover(self, name: str, code: str, new_password: str) -> NewUser:
        """Set a forgotten password with the account's recovery code; returns the new code.

        The code is spent (a second use is refused) and a new one issued; the user's
        sessions end. A wrong code counts as a failed login: the same count and lock.
        """
        check_name(name)
        typed = check_recovery_code(code)
        register_secret(typed)
        # Before the attempt is counted: a refused new password costs the user no try.
        check_password(new_password)
        self._count_attempt(name, self.clock(), what="recovery")
        row = accounts.user_by_name(self.db, name)
        stored = row.recovery_hash if row else None
        # An account without a code costs one verification too, and is refused the same way.
        ok = _matches(stored or DUMMY_HASH, typed)
        if not ok or row is None or stored is None:
            _refused("recovery", row)
            raise AuthError(WRONG_RECOVERY)
        new = self._replace_code(row, expected=stored, password=new_password)
        if new is None:  # spent meanwhile by a parallel use of the same code
            _refused("recovery", row)
            raise AuthError(WRONG_RECOVERY)
        accounts.clear_failures(self.db, name)
        log.info("Password of '%s' set with its recovery code; a new code was issued", row.name)
        return new

    def reset(self, name: str, *, by: User, new_password: str | None = None) -> NewUser:
        """An admin's reset of another account: a new recovery code, and a new password if given.

        Setting a password ends the account's sessions. Without one the password stays,
        and the account's owner sets their own with the new code (``users recover``).
        A lock on the account is left as it is: a reset is no way around the lockout.
        """
        if not by.is_admin:
            raise AuthError("Only an admin can reset another account.")
        check_name(name)
        if new_password is not None:
            check_password(new_password)
        row = accounts.user_by_name(self.db, name)
        if row is None:
            raise AuthError(f"No user named '{name}'.")
        if row.id == by.id:
            raise AuthError(
                "That is your own account: change its password with 'codenook users passwd', "
                "or use your recovery code with 'codenook users recover'."
            )
        new = self._replace_code(row, expected=row.recovery_hash, password=new_password)
        if new is None:
            raise AuthError(f"The account '{row.name}' was changed meanwhile; try again.")
        if new_password is not None:
            log.info(
                "Password of '%s' reset by the admin '%s'; a new recovery code was issued",
                row.name,
                by.name,
            )
        else:
            log.info("New recovery code for '%s' issued by the admin '%s'", row.name, by.name)
        return new

    def renew_recovery_code(self, name: str, password: str) -> NewUser:
        """A new recovery code for an account whose password is known; the old code stops working.

        For accounts made before codes existed, or a code that was lost.
        """
        user = self.verify(name, password)
        row = accounts.user_by_id(self.db, user.id)
        new = self._replace_code(row, expected=row.recovery_hash) if row else None
        if new is None:
            raise AuthError(f"The account '{user.name}' was changed meanwhile; try again.")
        log.info("New recovery code issued for '%s'", user.name)
        return new

    def locked_for(self, name: str) -> float:
        """Seconds until a lock on ``name`` ends (0 when it is not locked)."""
        return max(0.0, accounts.attempts(self.db, name).locked_until - self.clock())

    def _replace_code(
        self, row: accounts.UserRow, *, expected: str | None, password: str | None = None
    ) -> NewUser | None:
        """Issue a new code (and set ``password``) if the stored code is still ``expected``.

        None when another process changed it first. A new password ends the sessions.
        """
        code = new_recovery_code()
        code_hash = HASHER.hash(code)
        password_hash = HASHER.hash(password) if password is not None else None
        self.db.execute("BEGIN IMMEDIATE")
        try:
            swapped = accounts.replace_recovery(
                self.db,
                row.id,
                expected=expected,
                recovery_hash=code_hash,
                password_hash=password_hash,
            )
            if swapped and password_hash is not None:
                accounts.delete_sessions_of(self.db, row.id)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return NewUser(row.id, row.name, row.is_admin, recovery_code=code) if swapped else None

    def delete_user(self, name: str, *, by: User) -> None:
        """Remove an account and all its rows. Admins only; the last admin stays."""
        if not by.is_admin:
            raise AuthError("Only an admin can remove users.")
        row = accounts.user_by_name(self.db, name)
        if row is None:
            raise AuthError(f"No user named '{name}'.")
        if row.is_admin and sum(u.is_admin for u in accounts.all_users(self.db)) == 1:
            raise AuthError("That is the only admin; the account cannot be removed.")
        accounts.delete_user(self.db, row.id)

    def list_users(self, *, by: User) -> list[User]:
        """Every account, for an admin."""
        if not by.is_admin:
            raise AuthError("Only an admin can list users.")
        return [_public(r) for r in accounts.all_users(self.db)]

    # -- sessions ------------------------------------------------------------------

    def start_session(self, user: User) -> str:
        """A new random 256-bit token for ``user``; only its hash is stored."""
        token = secrets.token_urlsafe(32)
        accounts.insert_session(
            self.db, user_id=user.id, token_hash=hash_token(token), now=self.clock()
        )
        return token

    def user_for_token(self, token: str) -> User:
        """The user of a live session; the session's idle clock restarts."""
        now = self.clock()
        row = accounts.session_by_token_hash(self.db, hash_token(token))
        if row is None or now - row["last_used"] > SESSION_IDLE_S:
            if row is not None:
                accounts.delete_session(self.db, hash_token(token))
            raise NotLoggedInError("Your login has expired or was revoked: run codenook login.")
        user = accounts.user_by_id(self.db, row["user_id"])
        if user is None:
            raise NotLoggedInError("That account no longer exists: run codenook login.")
        accounts.touch_session(self.db, row["id"], now)
        return _public(user)

    def end_session(self, token: str) -> None:
        """Revoke a session."""
        accounts.delete_session(self.db, hash_token(token))


def _refused(what: str, row: accounts.UserRow | None) -> None:
    """Log a refused login or recovery: a person's mistake, one warning line, no traceback.

    Only an existing account is named: a mistyped name may be a password typed in its
    place. Nothing typed as a secret is logged.
    """
    log.warning(
        "Refused a %s for %s (wrong %s)",
        what,
        f"'{row.name}'" if row else "an unknown user name",
        "recovery code" if what == "recovery" else "password",
        extra={"file_only": True},
    )


def _token_file() -> Path:
    return config.paths().data / "session"


def save_token(token: str) -> Path:
    """Keep the session token in a file only this user can read."""
    path = config.ensure_dirs().data / "session"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    path.chmod(0o600)
    return path


def load_token() -> str | None:
    """The saved session token, if any."""
    try:
        return _token_file().read_text().strip() or None
    except FileNotFoundError:
        return None


def forget_token() -> None:
    """Remove the saved session token."""
    _token_file().unlink(missing_ok=True)


def current_user(auth: Auth) -> User:
    """Who is using codenook: the saved session, else CODENOOK_USER/CODENOOK_PASSWORD."""
    name, password = os.environ.get("CODENOOK_USER"), os.environ.get("CODENOOK_PASSWORD")
    if name and password is not None:
        return auth.verify(name, password)
    token = load_token()
    if token:
        return auth.user_for_token(token)
    raise NotLoggedInError(
        "Not logged in: run codenook login (or set CODENOOK_USER and CODENOOK_PASSWORD)."
    )
