"""``codenook users``: add, list, change passwords, remove."""

from __future__ import annotations

import argparse
import getpass
import sys

from codenook.cli.account import (
    ask_new_password,
    interactive,
    open_auth,
    read_stdin_lines,
    require_user,
)
from codenook.errors import UsageError

NAME = "users"
HELP = "manage accounts (the first account is the admin)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``users``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    add = sub.add_parser("add", help="add an account (anyone for the first, then admins)")
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
