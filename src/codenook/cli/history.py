"""``codenook history``: list, show, search, export, rename and delete your conversations."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from codenook.assist import history
from codenook.assist.session import NotFoundError
from codenook.cli.account import open_auth, require_user
from codenook.cli.output import write_text
from codenook.errors import UsageError
from codenook.store import conversations as store

NAME = "history"
HELP = "your stored conversations: list, show, search, export, rename, delete"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``history``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("list", help="your conversations, most recent first")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("show", help="one conversation")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("search", help="full-text search of your messages")
    p.add_argument("text")
    p = sub.add_parser("export", help="write a conversation as Markdown or JSON")
    p.add_argument("id", type=int)
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p = sub.add_parser("rename", help="give a conversation a new title")
    p.add_argument("id", type=int)
    p.add_argument("title")
    p = sub.add_parser("delete", help="delete a conversation and its messages")
    p.add_argument("id", type=int)


def run(args: argparse.Namespace) -> int:
    """Carry out one ``history`` action for the logged-in user only."""
    auth = open_auth()
    user = require_user(auth)
    db = auth.db
    if args.action == "list":
        convs = store.list_conversations(db, user.id)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": c.id,
                            "title": c.title,
                            "messages": c.message_count,
                            "updated": c.updated,
                        }
                        for c in convs
                    ],
                    indent=2,
                )
            )
        for c in [] if args.json else convs:
            when = datetime.fromtimestamp(c.updated).strftime("%Y-%m-%d %H:%M")
            print(f"{c.id:>5}  {when}  {c.message_count:>3} msgs  {c.title}")
    elif args.action in ("show", "export"):
        doc = history.load(db, user.id, args.id)
        as_json = args.json if args.action == "show" else args.format == "json"
        text = history.to_json(doc) if as_json else history.to_markdown(doc)
        write_text(text, getattr(args, "output", None), force=getattr(args, "force", False))
    elif args.action == "search":
        hits = store.search(db, user.id, args.text)
        for h in hits:
            print(f"{h.conversation_id:>5}  {h.title}  [{h.role}] {h.snippet}")
        if not hits:
            print("No matches.", file=sys.stderr)
    elif args.action == "rename":
        title = " ".join(args.title.split())
        if not title:
            raise UsageError("The title is empty.")
        if not store.rename_conversation(db, user.id, args.id, title[:200]):
            raise NotFoundError(f"No conversation {args.id} (see codenook history list).")
    elif args.action == "delete":
        if not store.delete_conversation(db, user.id, args.id):
            raise NotFoundError(f"No conversation {args.id} (see codenook history list).")
        print(f"Deleted conversation {args.id}.", file=sys.stderr)
    return 0
