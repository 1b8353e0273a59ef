"""The Hugging Face token: in the system keyring, else a private file; never in settings or logs.

``HF_TOKEN`` in the environment wins over what is stored. The token is shown only masked.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from codenook import config
from codenook.errors import CodenookError
from codenook.library import secretstore

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


def load_token() -> StoredToken | None:
    """The token in force: ``HF_TOKEN``, else the keyring, else the private file."""
    env = os.environ.get(ENV, "").strip()
    if env:
        return StoredToken(env, f"the {ENV} environment variable")
    found = secretstore.load(ACCOUNT, token_file(), what="token")
    return StoredToken(*found) if found else None


def save_token(token: str) -> str:
    """Store ``token`` (keyring first, else a 0600 file) and say where it went."""
    return secretstore.store(ACCOUNT, token_file(), check_token(token), what="token")


def delete_token() -> list[str]:
    """Remove the stored token from the keyring and the file; the places it was removed from."""
    return secretstore.delete(ACCOUNT, token_file(), what="token")
