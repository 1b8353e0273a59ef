"""The Hugging Face token: in the system keyring, else a private file; never in settings or logs.

``HF_TOKEN`` in the environment wins over what is stored. The token is shown only masked.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from codenook import config
from codenook.errors import CodenookError

log = logging.getLogger(__name__)

SERVICE = "codenook"
ACCOUNT = "huggingface-token"
ENV = "HF_TOKEN"
_TOKEN_RE = re.compile(r"hf_[A-Za-z0-9]{20,200}")


class TokenError(CodenookError):
    """A token that is not a Hugging Face token, or one that cannot be stored."""


@dataclass(frozen=True)
class StoredToken:
    """A token and where it came from. ``repr`` never shows the token."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"StoredToken({mask(self.value)!r}, source={self.source!r})"

    @property
    def masked(self) -> str:
        """The token as a person may see it."""
        return mask(self.value)


def mask(token: str) -> str:
    """``hf_****abcd``: the prefix and the last four characters only."""
    return f"{token[:3]}****{token[-4:]}" if len(token) > 10 else "****"


def check_token(token: str) -> str:
    """The token without surrounding space, or TokenError if it is not an ``hf_`` token."""
    token = token.strip()
    if not _TOKEN_RE.fullmatch(token):
        raise TokenError(
            "That is not a Hugging Face access token (they start with 'hf_'). Create one at "
            "https://huggingface.co/settings/tokens (read access is enough)."
        )
    return token


def token_file() -> Path:
    """The private file used when no keyring is usable."""
    return config.paths().config / "hf-token"


def _keyring():  # type: ignore[no-untyped-def]
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


def _keyring_name(backend: object) -> str:
    return f"system keyring ({type(backend).__name__})"


def load_token() -> StoredToken | None:
    """The token in force: ``HF_TOKEN``, else the keyring, else the private file."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return StoredToken(env, f"the {ENV} environment variable")
    backend = _keyring()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, ACCOUNT)
        except Exception as exc:  # a locked or broken keyring must not stop codenook
            log.warning("Cannot read the system keyring (%s); trying the token file.", exc)
            value = None
        if value:
            return StoredToken(value, _keyring_name(backend))
    path = token_file()
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return StoredToken(value, f"the file {path}")
    return None


def _write_private(path: Path, text: str) -> None:
    config.ensure_dirs()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)
    path.chmod(0o600)


def save_token(token: str) -> str:
    """Store ``token`` (keyring first, else a 0600 file) and say where it went."""
    token = check_token(token)
    backend = _keyring()
    if backend is not None:
        try:
            backend.set_password(SERVICE, ACCOUNT, token)
        except Exception as exc:
            log.warning("The system keyring refused the token (%s); using a private file.", exc)
        else:
            # One place only: a stale copy in the file must not outlive a newer token.
            token_file().unlink(missing_ok=True)
            return _keyring_name(backend)
    path = token_file()
    _write_private(path, token + "\n")
    return f"the file {path} (readable only by you; no system keyring is available)"


def delete_token() -> list[str]:
    """Remove the stored token from the keyring and the file; the places it was removed from."""
    removed = []
    backend = _keyring()
    if backend is not None:
        try:
            if backend.get_password(SERVICE, ACCOUNT):
                backend.delete_password(SERVICE, ACCOUNT)
                removed.append(_keyring_name(backend))
        except Exception as exc:
            log.warning("Cannot remove the token from the system keyring: %s", exc)
    path = token_file()
    if path.exists():
        path.unlink()
        removed.append(f"the file {path}")
    return removed
