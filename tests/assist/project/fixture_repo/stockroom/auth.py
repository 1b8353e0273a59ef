"""Staff logins: salted password hashes and session tokens that expire."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

ITERATIONS = 200_000
TOKEN_LIFETIME_S = 8 * 3600


def hash_password(password: str, salt: bytes | None = None) -> str:
    """PBKDF2-SHA256 of the password with a random salt, as ``salt$hash`` in hex."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a stored ``salt$hash``, compared in constant time."""
    salt_hex, _, digest_hex = stored.partition("$")
    again = hash_password(password, bytes.fromhex(salt_hex))
    return hmac.compare_digest(again.partition("$")[2], digest_hex)


class TokenStore:
    """Session tokens in memory, each valid for TOKEN_LIFETIME_S seconds."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def issue(self, user: str) -> str:
        """A new random token for ``user``."""
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (user, time.time() + TOKEN_LIFETIME_S)
        return token

    def check(self, token: str) -> str | None:
        """The user a token belongs to, or None when unknown or expired."""
        entry = self._tokens.get(token)
        if entry is None or entry[1] < time.time():
            self._tokens.pop(token, None)
            return None
        return entry[0]
