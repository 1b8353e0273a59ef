"""Reading passwords and finding the logged-in user, for every command that needs one."""

from __future__ import annotations

import getpass
import sys

from codenook.auth import Auth, NotLoggedInError, User, check_name, current_user, save_token
from codenook.errors import UsageError
from codenook.store.db import open_database


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


def login_interactively(auth: Auth) -> User:
    """Ask for name and password (offering to create the first account) and save a session."""
    if not auth.has_users():
        answer = input("No account exists yet. Create the first (admin) account now? [Y/n] ")
        if answer.strip().lower() not in ("", "y", "yes"):
            raise NotLoggedInError("No account: codenook needs one to keep your history.")
        name = input("User name: ").strip()
        user = auth.create_user(name, ask_new_password())
        print(f"Created admin account '{user.name}'.", file=sys.stderr)
    else:
        # Checked before the password is asked for: a name no account can have is refused.
        name = check_name(input("User name: ").strip())
        user = auth.verify(name, getpass.getpass("Password: "))
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
