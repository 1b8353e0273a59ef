"""Writing a command's document to stdout or to a file, never half-written."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from codenook.errors import UsageError


def write_text(text: str, output: str | None, *, force: bool) -> None:
    """Print ``text``, or write it atomically to ``output`` (refusing to overwrite)."""
    if output is None:
        sys.stdout.write(text)
        return
    path = Path(output)
    if path.exists() and not force:
        raise UsageError(f"{path} exists; add --force to overwrite it.")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Exports hold the user's conversations: private to them unless they share the file.
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)
    print(f"Wrote {path}.", file=sys.stderr)
