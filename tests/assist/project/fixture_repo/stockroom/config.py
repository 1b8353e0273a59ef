"""Settings of the stockroom service: read from a TOML file, overridden by the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 8420


@dataclass
class Config:
    """Where the database lives, which port the web server listens on, and the tax rate."""

    database: Path = Path("stock.db")
    port: int = DEFAULT_PORT
    tax_rate: float = 0.2
    admins: list[str] = field(default_factory=list)


def load_config(path: Path) -> Config:
    """Read the TOML settings file at ``path``; a missing file gives the defaults."""
    if not path.exists():
        return apply_environment(Config())
    with path.open("rb") as f:
        raw = tomllib.load(f)
    config = Config(
        database=Path(raw.get("database", "stock.db")),
        port=int(raw.get("port", DEFAULT_PORT)),
        tax_rate=float(raw.get("tax_rate", 0.2)),
        admins=list(raw.get("admins", [])),
    )
    return apply_environment(config)


def apply_environment(config: Config) -> Config:
    """Let STOCKROOM_PORT and STOCKROOM_DB environment variables override the file."""
    if "STOCKROOM_PORT" in os.environ:
        config.port = int(os.environ["STOCKROOM_PORT"])
    if "STOCKROOM_DB" in os.environ:
        config.database = Path(os.environ["STOCKROOM_DB"])
    return config
