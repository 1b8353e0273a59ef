"""``codenook vote``: thumbs up or down on one of your answers."""

from __future__ import annotations

import argparse
import sys

from codenook.assist import interactions
from codenook.cli.account import open_auth, require_user

NAME = "vote"
HELP = "thumbs up or down on an answer (ids from codenook log); clear removes the vote"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``vote``."""
    parser.add_argument("message_id", type=int, metavar="MESSAGE_ID")
    parser.add_argument("choice", choices=tuple(interactions.VOTES), metavar="up|down|clear")


def run(args: argparse.Namespace) -> int:
    """Store the vote on the logged-in user's answer."""
    auth = open_auth()
    user = require_user(auth)
    interactions.vote(auth.db, user, args.message_id, args.choice)
    print(f"Answer {args.message_id}: vote {args.choice}.", file=sys.stderr)
    return 0
