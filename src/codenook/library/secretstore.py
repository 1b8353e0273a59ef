"""Secrets kept outside the settings: the system keyring, else a private (0600) file.

One mechanism for every secret codenook stores (the Hugging Face token, the API keys of
remote backends): each names its keyring account and its fallback file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from codenook import config
from codenook.safefile import write_file

log = logging.getLogger(__name__)

SERVICE = "codenook"


def keyring_backend() -> Any:
    """The system keyring backend, or None when none is usable (headless, no daemon)."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None
    return backend


def keyring_name(backend: object) -> str:
    """How a keyring backend is named to the user."""
    return f"system keyring ({type(backend).__name__})"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable only by this user."""
    config.ensure_dirs()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    # 0600 whatever the old file's mode was; a link there is refused, never followed.
    write_file(path, text, mode=0o600, keep_mode=False)


def store(account: str, path: Path, value: str, *, what: str) -> str:
    """Keep ``value`` in the keyring (else in ``path``); say where it went."""
    backend = keyring_backend()
    if backend is not None:
        try:
            backend.set_password(SERVICE, account, value)
        except Exception as exc:
            log.warning("The system keyring refused the %s (%s); using a private file.", what, exc)
        else:
            # One place only: a stale copy in the file must not outlive a newer value.
            path.unlink(missing_ok=True)
            return keyring_name(backend)
    write_private(path, value + "\n")
    return f"the file {path} (readable only by you; no system keyring is available)"


def load(account: str, path: Path, *, what: str) -> tuple[str, str] | None:
    """The stored value and where it was found (keyring, then ``path``), or None."""
    backend = keyring_backend()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, account)
        except Exception as exc:  # a locked or broken keyring must not stop codenook
            log.warning("Cannot read the system keyring (%s); trying the %s file.", exc, what)
            value = None
        if value:
            return value, keyring_name(backend)
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value, f"the file {path}"
    return None


def delete(account: str, path: Path, *, what: str) -> list[str]:
    """Remove the value from the keyring and ``path``; the places it was removed from."""
    removed = []
    backend = keyring_backend()
    if backend is not None:
        try:
            if backend.get_password(SERVICE, account):
                backend.delete_password(SERVICE, account)
                removed.append(keyring_name(backend))
        except Exception as exc:
            log.warning("Cannot remove the %s from the system keyring: %s", what, exc)
    if path.exists():
        path.unlink()
        removed.append(f"the file {path}")
    return removed
