"""Write the stock list out as CSV or JSON for the accountants."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from stockroom.db import Repository


def export_csv(repo: Repository, path: Path) -> int:
    """Write every item as one CSV row (sku, name, quantity, price); returns the row count."""
    rows = repo.conn.execute("SELECT sku, name, quantity, price FROM items").fetchall()
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sku", "name", "quantity", "price"])
        writer.writerows(rows)
    return len(rows)


def export_json(repo: Repository, path: Path) -> int:
    """Write the items as a JSON array of objects; returns how many."""
    rows = repo.conn.execute("SELECT sku, name, quantity, price FROM items").fetchall()
    items = [dict(zip(("sku", "name", "quantity", "price"), r, strict=True)) for r in rows]
    path.write_text(json.dumps(items, indent=2))
    return len(items)
