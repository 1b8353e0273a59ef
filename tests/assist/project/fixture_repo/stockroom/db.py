"""The SQLite store of items and stock movements."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (sku TEXT PRIMARY KEY, name TEXT, quantity INTEGER, price REAL);
CREATE TABLE IF NOT EXISTS movements (id INTEGER PRIMARY KEY, sku TEXT, delta INTEGER, at REAL);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the database file with foreign keys on and the schema created."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Create the tables that are missing."""
    conn.executescript(SCHEMA)


class Repository:
    """Items in stock: add, remove, look up by SKU, and record every movement."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add_item(self, sku: str, name: str, quantity: int, price: float) -> None:
        """Insert a new item, or raise its quantity when the SKU exists."""
        self.conn.execute(
            "INSERT INTO items VALUES (?, ?, ?, ?) "
            "ON CONFLICT(sku) DO UPDATE SET quantity = quantity + excluded.quantity",
            (sku, name, quantity, price),
        )
        self.record_movement(sku, quantity)

    def remove_item(self, sku: str, quantity: int) -> None:
        """Take ``quantity`` out of stock; refuse to go below zero."""
        row = self.find_by_sku(sku)
        if row is None or row[2] < quantity:
            raise ValueError(f"not enough {sku} in stock")
        self.conn.execute("UPDATE items SET quantity = quantity - ? WHERE sku = ?", (quantity, sku))
        self.record_movement(sku, -quantity)

    def find_by_sku(self, sku: str) -> tuple | None:
        """The item row for a stock keeping unit, or None."""
        return self.conn.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()

    def record_movement(self, sku: str, delta: int) -> None:
        """Append one stock movement to the audit table."""
        import time

        self.conn.execute(
            "INSERT INTO movements (sku, delta, at) VALUES (?, ?, ?)", (sku, delta, time.time())
        )

    def low_stock(self, threshold: int = 5) -> list[tuple]:
        """Items whose quantity fell under ``threshold``, for the reorder report."""
        return self.conn.execute(
            "SELECT * FROM items WHERE quantity < ? ORDER BY quantity", (threshold,)
        ).fetchall()
