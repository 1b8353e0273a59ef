"""Reading passwords and finding the logged-in user, for every command that needs one."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from codenook.auth import (
    Auth,
    AuthError,
    LockedError,
    NotLoggedInError,
    User,
    check_name,
    current_user,
    save_token,
)
from codenook.errors import UsageError
from codenook.store.db import open_database

#: Passwords asked for at a terminal before ``login`` gives up (each counts to the lockout).
LOGIN_TRIES = 3


def open_auth() -> Auth:
    """The account service over the user's database."""
    return Auth(open_database())


def read_stdin_lines(count: int) -> list[str]:
    """``count`` lines from stdin (for --password-stdin), decoded strictly as UTF-8."""
    lines = []
    for n in range(count):
        raw = sys.stdin.buffer.readline()
        if not raw:
            raise UsageError(f"Expected {count} line(s) on stdin, got {n}.")
        try:
            lines.append(raw.decode("utf-8").rstrip("\r\n"))
        except UnicodeDecodeError as exc:
            raise UsageError("The password on stdin is not UTF-8 text.") from exc
    return lines


def ask_new_password() -> str:
    """Ask for a new password twice, without echo."""
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise UsageError("The two passwords differ; nothing was changed.")
    return first


def interactive() -> bool:
    """Whether a person is at the terminal (we may ask questions)."""
    return sys.stdin.isatty()


def show_recovery_code(name: str, code: str, *, out: TextIO | None = None) -> None:
    """Show a new recovery code once: the code alone on ``out`` (stdout), the words on stderr.

    The code is the command's result, so a script can take it from stdout; it is never
    logged or stored (only its hash is).
    """
    out = out or sys.stdout
    print(
        f"Recovery code for '{name}' (shown only this once: write it down and keep it "
        "away from this computer):",
        file=sys.stderr,
        flush=True,
    )
    print(f"    {code}" if out is sys.stderr else code, file=out, flush=True)
    print(
        f"If the password is forgotten, 'codenook users recover {name}' sets a new one with "
        "this code (each code works once).",
        file=sys.stderr,
        flush=True,
    )


def _verify_at_terminal(auth: Auth, name: str) -> User:
    """Ask for the password, again after a refusal (up to LOGIN_TRIES) when a person is there.

    Each refusal counts to the lockout like any other; a lock ends the asking at once.
    """
    tries = 1
    while True:
        try:
            return auth.verify(name, getpass.getpass("Password: "))
        except LockedError:
            raise
        except AuthError as exc:
            if tries >= LOGIN_TRIES or not interactive():
                raise
            print(f"{exc} Try again ({LOGIN_TRIES - tries} left).", file=sys.stderr, flush=True)
        tries += 1
        # The name may be what was mistyped: Enter keeps it.
        typed = input(f"User name [{name}]: ").strip()
        name = check_name(typed) if typed else name


def login_interactively(auth: Auth) -> User:
    """Ask for name and password (offering to create the first account) and save a session."""
    if not auth.has_users():
        answer = input("No account exists yet. Create the first (admin) account now? [Y/n] ")
        if answer.strip().lower() not in ("", "y", "yes"):
            raise NotLoggedInError("No account: codenook needs one to keep your history.")
        name = input("User name: ").strip()
        user = auth.create_user(name, ask_new_password())
        print(f"Created admin account '{user.name}'.", file=sys.stderr)
        # Inside another command (ask, chat) stdout is that command's: the code goes aside.
        show_recovery_code(user.name, user.recovery_code, out=sys.stderr)
    else:
        # Checked before the password is asked for: a name no account can have is refused.
        name = check_name(input("User name: ").strip())
        user = _verify_at_terminal(auth, name)
    save_token(auth.start_session(user))
    return user


def require_user(auth: Auth) -> User:
    """The logged-in user; at a terminal with no session, ask to log in."""
    try:
        return current_user(auth)
    except NotLoggedInError:
        if not interactive():
            raise
        return login_interactively(auth)
