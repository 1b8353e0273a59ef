"""The window's state between runs: its size, pane widths, recent files and models.

This is not the user's settings: the window writes it at every close, so it lives in a
file of its own (``state.json`` in the data folder) and ``settings.toml`` stays as the
user wrote it. A state file that cannot be read is ignored with a warning; it holds
nothing a person typed that matters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codenook.safefile import write_file

log = logging.getLogger(__name__)


def read_state(file: Path) -> dict[str, Any]:
    """The state saved in ``file``: empty when there is none or it is unusable (logged)."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Ignoring the window state file %s (%s).", file, exc)
        return {}
    try:
        state = json.loads(text)
    except ValueError as exc:
        log.warning("Ignoring the window state file %s: it is not JSON (%s).", file, exc)
        return {}
    if not isinstance(state, dict):
        log.warning("Ignoring the window state file %s: it holds no table.", file)
        return {}
    return state


def write_state(file: Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` to ``file`` atomically (FileWriteError when it cannot)."""
    write_file(file, json.dumps(dict(state), indent=1, sort_keys=True) + "\n", mode=0o600)
    return file
