"""``codenook export``: your liked answers as chat-format training records."""

from __future__ import annotations

import argparse
import sys

from codenook.assist.export import liked_records, to_jsonl
from codenook.cli.account import open_auth, require_user
from codenook.cli.output import write_text
from codenook.errors import UsageError

NAME = "export"
HELP = "write your thumbs-up answers as JSONL training records (secrets redacted)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``export``."""
    parser.add_argument(
        "--liked", action="store_true", help="export the answers you gave a thumbs up"
    )
    parser.add_argument("--format", choices=("jsonl",), default="jsonl")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    """Export the logged-in user's liked answers."""
    if not args.liked:
        raise UsageError("Say what to export: --liked (your thumbs-up answers).")
    auth = open_auth()
    user = require_user(auth)
    records, redacted = liked_records(auth.db, user)
    write_text(to_jsonl(records), args.output, force=args.force)
    print(
        f"Exported {len(records)} liked answer(s); redacted {redacted} secret(s).",
        file=sys.stderr,
    )
    return 0
