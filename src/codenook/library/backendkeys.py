"""API keys of remote backends: in the system keyring, else a private file; never in settings.

A key is registered with the redaction filter as soon as it is read, so no log line can
carry it. ``--api-key-file F`` keys are read from the user's own file the same way. A user
name and password written in a backend's URL (``http://user:pass@host``) are kept here
too, and the URL in the settings goes without them.
"""

from __future__ import annotations

import json
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
    """Backend ``name``'s stored key, or None when it has none (its URL password registered too)."""
    load_credentials(name)  # so a start-up that registers the keys blanks these as well
    found = secretstore.load(_account(name), key_file(name), what="API key")
    if found is None:
        return None
    register_secret(found[0])
    return found[0]


def delete_key(name: str) -> None:
    """Forget backend ``name``'s key and URL credentials wherever they are stored."""
    secretstore.delete(_account(name), key_file(name), what="API key")
    delete_credentials(name)


def _credentials_account(name: str) -> str:
    return f"backend-url-credentials:{name}"


def credentials_file(name: str) -> Path:
    """The private file that holds backend ``name``'s URL credentials where no keyring is."""
    return config.paths().config / "backend-url-credentials" / name


def save_credentials(name: str, credentials: tuple[str, str]) -> str:
    """Store the user and password from backend ``name``'s URL; say where they went."""
    user, password = credentials
    register_secret(password or user)
    return secretstore.store(
        _credentials_account(name),
        credentials_file(name),
        json.dumps([user, password]),
        what="URL user and password",
    )


def load_credentials(name: str) -> tuple[str, str] | None:
    """The user and password of backend ``name``'s URL, or None when it has none."""
    found = secretstore.load(
        _credentials_account(name), credentials_file(name), what="URL user and password"
    )
    if found is None:
        return None
    try:
        user, password = json.loads(found[0])
    except (ValueError, TypeError):
        return None
    register_secret(password or user)
    return str(user), str(password)


def delete_credentials(name: str) -> None:
    """Forget backend ``name``'s URL credentials wherever they are stored."""
    secretstore.delete(
        _credentials_account(name), credentials_file(name), what="URL user and password"
    )
