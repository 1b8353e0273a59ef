"""API keys of remote backends: in the system keyring, else a private file; never in settings.

A key is registered with the redaction filter as soon as it is read, so no log line can
carry it. ``--api-key-file F`` keys are read from the user's own file the same way.
"""

from __future__ import annotations

from pathlib import Path

from codenook import config
from codenook.errors import UsageError
from codenook.library import secretstore
from codenook.redact import register_secret


def _account(name: str) -> str:
    return f"backend-api-key:{name}"


def key_file(name: str) -> Path:
    """The private file that holds backend ``name``'s key where no keyring is usable."""
    return config.paths().config / "backend-keys" / name


def read_key_file(path: str | Path) -> str:
    """The API key in ``path`` (its first line), or a UsageError saying what is wrong."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the API key file {p}: {exc}.") from exc
    key = text.strip().splitlines()[0].strip() if text.strip() else ""
    if not key:
        raise UsageError(f"The API key file {p} is empty; put the key on its first line.")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise UsageError(f"The API key in {p} has spaces or control characters; check the file.")
    register_secret(key)
    return key


def save_key(name: str, key: str) -> str:
    """Store backend ``name``'s key (keyring first, else a 0600 file); say where it went."""
    register_secret(key)
    return secretstore.store(_account(name), key_file(name), key, what="API key")


def load_key(name: str) -> str | None:
    """Backend ``name``'s stored key, or None when it has none."""
    found = secretstore.load(_account(name), key_file(name), what="API key")
    if found is None:
        return None
    register_secret(found[0])
    return found[0]


def delete_key(name: str) -> None:
    """Forget backend ``name``'s key wherever it is stored."""
    secretstore.delete(_account(name), key_file(name), what="API key")
