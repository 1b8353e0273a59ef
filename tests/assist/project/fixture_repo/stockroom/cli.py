"""The stockroom command line: add, remove, report and export."""

from __future__ import annotations

import argparse
from pathlib import Path

from stockroom.config import load_config
from stockroom.db import Repository, connect
from stockroom.export import export_csv, export_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options: a subcommand and its arguments."""
    parser = argparse.ArgumentParser(prog="stockroom")
    parser.add_argument("--config", type=Path, default=Path("stockroom.toml"))
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("sku")
    add.add_argument("quantity", type=int)
    sub.add_parser("report")
    export = sub.add_parser("export")
    export.add_argument("path", type=Path)
    return parser.parse_args(argv)


def cmd_export(repo: Repository, path: Path) -> int:
    """Export to CSV or JSON, chosen by the file's suffix."""
    if path.suffix == ".json":
        return export_json(repo, path)
    return export_csv(repo, path)


def main(argv: list[str] | None = None) -> int:
    """Run one stockroom command; returns the exit status."""
    args = parse_args(argv)
    config = load_config(args.config)
    repo = Repository(connect(config.database))
    if args.command == "add":
        repo.add_item(args.sku, args.sku, args.quantity, 0.0)
    elif args.command == "report":
        for row in repo.low_stock():
            print(*row)
    else:
        print(cmd_export(repo, args.path), "rows")
    return 0
