"""``codenook login`` and ``codenook logout``."""

from __future__ import annotations

import argparse
import sys

from codenook.auth import forget_token, load_token
from codenook.cli.account import login_interactively, open_auth


class Login:
    """``codenook login``."""

    NAME = "login"
    HELP = "log in (offers to create the first account when there is none)"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """No options: name and password are asked for."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Ask for name and password and keep a session token for 12 idle hours."""
        user = login_interactively(open_auth())
        print(f"Logged in as {user.name}.", file=sys.stderr)
        return 0


class Logout:
    """``codenook logout``."""

    NAME = "logout"
    HELP = "end the saved login session"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """No options."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Revoke the session in the database and remove the token file."""
        token = load_token()
        if token:
            open_auth().end_session(token)
        forget_token()
        print("Logged out.", file=sys.stderr)
        return 0
