"""``codenook log``: your answers with what produced them, or the latest error log lines."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from codenook import applog
from codenook.assist import interactions
from codenook.cli.account import open_auth, require_user
from codenook.store.interactions import LogEntry

NAME = "log"
HELP = "your answers with job, model, speed, tool results and votes; --errors: the error log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``log``."""
    parser.add_argument("--since", metavar="DATE", help="only answers since DATE (YYYY-MM-DD)")
    parser.add_argument("--job", metavar="J", help="only answers of job J (ask, generate, ...)")
    parser.add_argument("--json", action="store_true", help="one JSON array with every field")
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="newest N entries (0: all)"
    )
    parser.add_argument(
        "--errors", action="store_true", help="show the latest lines of the error log instead"
    )


def _tools(results: dict | None) -> str:
    if not results:
        return "-"
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(results.items()))


def _line(e: LogEntry) -> str:
    when = datetime.fromtimestamp(e.created).strftime("%Y-%m-%d %H:%M")
    tokens = f"{e.prompt_tokens or 0}+{e.answer_tokens or 0}"
    first = f"{e.time_to_first_token:.2f}s" if e.time_to_first_token is not None else "-"
    speed = f"{e.tokens_per_second:.1f}" if e.tokens_per_second else "-"
    vote = {1: "up", -1: "down"}.get(e.vote, "")
    model = (e.model or "-") + (f"+{e.adapter}" if e.adapter else "")
    return (
        f"{e.id:>6}  {when}  {e.task or '-':<9} {e.language or '-':<7} {model:<24} "
        f"{tokens:>10} {first:>7} {speed:>7}  {e.finish_reason or '-':<9} {vote:<4}  "
        f"{_tools(e.tool_results)}"
    )


def run(args: argparse.Namespace) -> int:
    """List the logged-in user's answers, or the error log."""
    auth = open_auth()
    user = require_user(auth)
    limit = args.limit if args.limit > 0 else None
    if args.errors:
        lines = applog.latest_lines(limit or 10_000)
        if not lines:
            print(f"No errors logged yet ({applog.log_file()}).", file=sys.stderr)
        for line in lines:
            print(line)
        return 0
    since = interactions.parse_since(args.since) if args.since else None
    entries = interactions.log_entries(auth.db, user, since=since, job=args.job, limit=limit)
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
        return 0
    if not entries:
        print("No answers logged.", file=sys.stderr)
        return 0
    print(
        f"{'id':>6}  {'when':<16}  {'job':<9} {'lang':<7} {'model':<24} "
        f"{'tokens':>10} {'first':>7} {'tok/s':>7}  {'finish':<9} {'vote':<4}  tools"
    )
    for e in entries:
        print(_line(e))
    return 0
