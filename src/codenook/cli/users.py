"""``codenook users``: add, list, change passwords, recover, reset, remove."""

from __future__ import annotations

import argparse
import getpass
import sys

from codenook.auth import Auth
from codenook.cli.account import (
    ask_new_password,
    interactive,
    open_auth,
    read_stdin_lines,
    require_user,
    show_recovery_code,
)
from codenook.errors import UsageError

NAME = "users"
HELP = "manage accounts (the first account is the admin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``users``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    add = sub.add_parser(
        "add", help="add an account (anyone for the first, then admins); shows its recovery code"
    )
    add.add_argument("name")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    sub.add_parser("list", help="list accounts (admin)")
    passwd = sub.add_parser("passwd", help="change a password (needs the old one)")
    passwd.add_argument("name")
    passwd.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the old and the new password from two lines of stdin",
    )
    recover = sub.add_parser(
        "recover",
        help="set a forgotten password with the account's recovery code (spent; a new one shown)",
    )
    recover.add_argument("name")
    recover.add_argument(
        "--stdin",
        action="store_true",
        help="read the recovery code and the new password from two lines of stdin",
    )
    reset = sub.add_parser(
        "reset",
        help="admin: give another account a new password and a new recovery code",
    )
    reset.add_argument("name")
    reset.add_argument(
        "--code-only",
        action="store_true",
        help="keep the password; only make a new recovery code, for the account's owner to "
        "set a password with 'users recover'",
    )
    reset.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the new password from the first line of stdin",
    )
    new_code = sub.add_parser(
        "new-code",
        help="make a new recovery code (needs the password; the old code stops working)",
    )
    new_code.add_argument("name")
    new_code.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    remove = sub.add_parser("remove", help="remove an account and all its data (admin)")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def run(args: argparse.Namespace) -> int:
    """Carry out one ``users`` action."""
    auth = open_auth()
    if args.action == "add":
        by = require_user(auth) if auth.has_users() else None
        password = read_stdin_lines(1)[0] if args.password_stdin else ask_new_password()
        user = auth.create_user(args.name, password, by=by)
        role = "admin" if user.is_admin else "user"
        print(f"Added {role} '{user.name}'.", file=sys.stderr)
        show_recovery_code(user.name, user.recovery_code)
    elif args.action == "list":
        for user in auth.list_users(by=require_user(auth)):
            print(f"{user.name}{'  (admin)' if user.is_admin else ''}")
    elif args.action == "passwd":
        if args.password_stdin:
            old, new = read_stdin_lines(2)
        else:
            old = getpass.getpass("Current password: ")
            new = ask_new_password()
        auth.change_password(args.name, old, new)
        print(f"Password changed for '{args.name}'; other sessions were ended.", file=sys.stderr)
    elif args.action == "recover":
        if args.stdin:
            code, new = read_stdin_lines(2)
        else:
            code = getpass.getpass("Recovery code: ")
            new = ask_new_password()
        user = auth.recover(args.name, code, new)
        print(
            f"Password set for '{user.name}'; its sessions were ended and the code is spent.",
            file=sys.stderr,
        )
        show_recovery_code(user.name, user.recovery_code)
    elif args.action == "reset":
        _reset(auth, args)
    elif args.action == "new-code":
        password = read_stdin_lines(1)[0] if args.password_stdin else getpass.getpass("Password: ")
        user = auth.renew_recovery_code(args.name, password)
        show_recovery_code(user.name, user.recovery_code)
    elif args.action == "remove":
        by = require_user(auth)
        if not args.yes:
            if not interactive():
                raise UsageError("Removing a user deletes all their data: add --yes to confirm.")
            if input(f"Remove '{args.name}' and all their data? [y/N] ").strip().lower() != "y":
                return 1
        auth.delete_user(args.name, by=by)
        print(f"Removed '{args.name}'.", file=sys.stderr)
    return 0


def _reset(auth: Auth, args: argparse.Namespace) -> None:
    """``users reset``: an admin gives another account a new password and recovery code."""
    by = require_user(auth)
    if args.code_only and args.password_stdin:
        raise UsageError("--code-only sets no password: leave out --password-stdin.")
    password = None
    if not args.code_only:
        password = read_stdin_lines(1)[0] if args.password_stdin else ask_new_password()
    user = auth.reset(args.name, by=by, new_password=password)
    if password is None:
        print(
            f"New recovery code for '{user.name}' (the password is unchanged). Give it to "
            f"them: 'codenook users recover {user.name}' sets their new password with it.",
            file=sys.stderr,
        )
    else:
        print(f"Password set for '{user.name}'; their sessions were ended.", file=sys.stderr)
    locked = auth.locked_for(user.name)
    if locked:
        print(
            f"The account is locked after failed logins for {locked:.0f} more seconds; "
            "a reset does not lift the lock.",
            file=sys.stderr,
        )
    show_recovery_code(user.name, user.recovery_code)
