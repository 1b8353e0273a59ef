"""The store: SQLite through the standard library. Knows no model."""
