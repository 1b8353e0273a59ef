"""``codenook feedback``: rate an answer, list your feedback, export it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from codenook.assist import feedback
from codenook.assist.export import to_jsonl
from codenook.cli.account import open_auth, require_user
from codenook.cli.output import write_text

NAME = "feedback"
HELP = "feedback on an answer: add (rating, category, comment), list, export"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``feedback``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("add", help="rate one of your answers (ids from codenook log)")
    p.add_argument("message_id", type=int, metavar="MESSAGE_ID")
    p.add_argument("--rating", type=int, required=True, metavar="N", help="1 (bad) to 5 (good)")
    p.add_argument(
        "--category",
        required=True,
        metavar="C",
        help=f"one of: {', '.join(feedback.CATEGORIES.values())}",
    )
    p.add_argument(
        "--comment",
        default="",
        metavar="TEXT",
        help=f"what went wrong or right (at most {feedback.MAX_COMMENT:,} characters)",
    )
    p.add_argument(
        "--include-conversation",
        action="store_true",
        help="let exports of this feedback carry the whole conversation",
    )
    p = sub.add_parser("list", help="your feedback, newest first")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("export", help="write your feedback as JSON Lines (secrets redacted)")
    p.add_argument("--format", choices=("jsonl",), default="jsonl")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    """Carry out one ``feedback`` action for the logged-in user only."""
    auth = open_auth()
    user = require_user(auth)
    db = auth.db
    if args.action == "add":
        fid = feedback.submit_feedback(
            db,
            user,
            args.message_id,
            rating=args.rating,
            category=args.category,
            comment=args.comment,
            include_conversation=args.include_conversation,
        )
        print(f"Stored feedback {fid} on answer {args.message_id}.", file=sys.stderr)
    elif args.action == "list":
        rows = feedback.list_feedback(db, user)
        if args.json:
            print(json.dumps([r.as_dict() for r in rows], indent=2, ensure_ascii=False))
            return 0
        if not rows:
            print("No feedback yet.", file=sys.stderr)
        for r in rows:
            when = datetime.fromtimestamp(r.created).strftime("%Y-%m-%d %H:%M")
            comment = " ".join(r.comment.split())
            comment = comment[:57] + "…" if len(comment) > 58 else comment
            print(
                f"{r.id:>5}  {when}  answer {r.message_id:<6} {r.rating}/5  "
                f"{feedback.CATEGORIES[r.category]:<10}  {comment}"
            )
    elif args.action == "export":
        records, redacted = feedback.feedback_records(db, user)
        write_text(to_jsonl(records), args.output, force=args.force)
        print(
            f"Exported {len(records)} feedback record(s); redacted {redacted} secret(s).",
            file=sys.stderr,
        )
    return 0
