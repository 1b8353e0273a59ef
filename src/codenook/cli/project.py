"""``codenook project``: index your repositories and documentation so answers are grounded."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from codenook.assist.project import index, search
from codenook.cli.account import open_auth, require_user
from codenook.store import projects as store

NAME = "project"
HELP = "your indexed projects (code, docs, Q&A sets) that ground answers: add, list, update, remove"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``project``."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    p = sub.add_parser("add", help="index a folder (git-tracked files, or .gitignore honoured)")
    p.add_argument("folder")
    p.add_argument("--name", help="the project's name (default: the folder's name)")
    p.add_argument(
        "--keyword-only", action="store_true", help="skip the embeddings (semantic search)"
    )
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("list", help="your projects and their last indexing")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("update", help="read again what changed (all projects, or one)")
    p.add_argument("name", nargs="?")
    p.add_argument("--keyword-only", action="store_true")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("remove", help="forget a project and its index (the folder is untouched)")
    p.add_argument("name")
    p = sub.add_parser("search", help="the passages that best match a question")
    p.add_argument("query")
    p.add_argument("--project", metavar="NAME")
    p.add_argument("--method", choices=search.METHODS, default="combined")
    p.add_argument("-n", type=int, default=8, metavar="N", help="how many (default 8)")
    p.add_argument("--json", action="store_true")


def _print_report(report: index.IndexReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print("\n".join(report.lines()))


def run(args: argparse.Namespace) -> int:
    """Carry out one ``project`` action for the logged-in user only."""
    auth = open_auth()
    user = require_user(auth)
    db = auth.db
    semantic = not getattr(args, "keyword_only", False)
    if args.action == "add":
        _print_report(
            index.add(db, user, args.folder, name=args.name, semantic=semantic), args.json
        )
    elif args.action == "update":
        names = [args.name] if args.name else [p.name for p in store.list_projects(db, user.id)]
        if not names:
            print("No projects yet; 'codenook project add FOLDER' indexes one.", file=sys.stderr)
        failed = 0
        for name in names:
            try:
                _print_report(index.update(db, user, name, semantic=semantic), args.json)
            except index.ProjectError as exc:
                if args.name:
                    raise
                failed += 1
                print(f"codenook: {exc}", file=sys.stderr)
        return 2 if failed else 0
    elif args.action == "remove":
        gone = index.remove(db, user, args.name)
        print(f"Removed project {gone.name} ({gone.root}); the folder itself is untouched.")
    elif args.action == "list":
        projects = store.list_projects(db, user.id)
        if args.json:
            rows = [
                {"name": p.name, "root": p.root, "updated": p.updated, "stats": p.stats}
                for p in projects
            ]
            print(json.dumps(rows, indent=2))
        elif not projects:
            print("No projects yet; 'codenook project add FOLDER' indexes one.")
        for p in projects if not args.json else []:
            when = datetime.fromtimestamp(p.updated).strftime("%Y-%m-%d %H:%M")
            files = p.stats.get("files", 0)
            skipped = sum(p.stats.get("skipped", {}).values())
            print(f"{p.name}\t{p.root}\t{files} files ({skipped} left out)\tindexed {when}")
    else:
        hits = search.search(
            db, user, args.query, project=args.project, method=args.method, limit=args.n
        )
        if args.json:
            rows = [
                {
                    "source": h.source,
                    "file": str(h.file),
                    "kind": h.chunk.kind,
                    "name": h.chunk.name,
                    "score": h.score,
                }
                for h in hits
            ]
            print(json.dumps(rows, indent=2))
        for h in hits if not args.json else []:
            print(f"{h.source}\t{h.chunk.kind} {h.chunk.name}")
    return 0
