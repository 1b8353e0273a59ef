"""API keys of remote backends: in the system keyring, else a private file; never in settings.

A key is registered with the redaction filter as soon as it is read, so no log line can
carry it. ``--api-key-file F`` keys are read from the user's own file the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path

from codenook import config
from codenook.errors import UsageError
from codenook.library.hftoken import SERVICE, _keyring, _keyring_name, _write_private
from codenook.redact import register_secret

log = logging.getLogger(__name__)


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
    backend = _keyring()
    if backend is not None:
        try:
            backend.set_password(SERVICE, _account(name), key)
        except Exception as exc:
            log.warning("The system keyring refused the API key (%s); using a private file.", exc)
        else:
            key_file(name).unlink(missing_ok=True)
            return _keyring_name(backend)
    path = key_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    _write_private(path, key + "\n")
    return f"the file {path} (readable only by you)"


def load_key(name: str) -> str | None:
    """Backend ``name``'s stored key, or None when it has none."""
    backend = _keyring()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, _account(name))
        except Exception as exc:  # a locked keyring must not stop codenook
            log.warning("Cannot read the system keyring (%s); trying the key file.", exc)
            value = None
        if value:
            register_secret(value)
            return value
    path = key_file(name)
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            register_secret(value)
            return value
    return None


def delete_key(name: str) -> None:
    """Forget backend ``name``'s key wherever it is stored."""
    backend = _keyring()
    if backend is not None:
        try:
            if backend.get_password(SERVICE, _account(name)):
                backend.delete_password(SERVICE, _account(name))
        except Exception as exc:
            log.warning("Cannot remove the API key from the system keyring: %s", exc)
    key_file(name).unlink(missing_ok=True)
