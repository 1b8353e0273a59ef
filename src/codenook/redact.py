"""Find and blank out secrets (API tokens, access keys, private keys) in text.

One function serves both the error log's filter and the training-data export, so the
two can never disagree about what counts as a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

PLACEHOLDER = "[REDACTED]"

# Lengths are the real formats' minimums, loosened a little: a false positive costs a
# word in a log line, a false negative leaks a credential.
_PATTERNS = [
    # PEM private key blocks (RSA, EC, OPENSSH, ENCRYPTED, ...), also when cut off.
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)",
    r"\bhf_[A-Za-z0-9]{20,}",  # Hugging Face
    r"\bsk-[A-Za-z0-9_\-]{20,}",  # OpenAI (sk-..., sk-proj-...), Anthropic (sk-ant-...)
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{30,}",
]
SECRET_RE = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))

# Shorter values would blank ordinary words; codenook's passwords have at least 8.
_MIN_LITERAL = 6
#: Environment variables whose values are secrets wherever they show up, with the
#: shortest value taken as one. Whatever HF_TOKEN holds is a credential, however short.
SECRET_VARIABLES = {"CODENOOK_PASSWORD": _MIN_LITERAL, "HF_TOKEN": 1}
#: Secrets this process holds (a remote server's API key), blanked wherever they show up.
_registered: set[str] = set()


def register_secret(value: str, *, any_length: bool = False) -> None:
    """Treat ``value`` (an API key read from a file or the keyring) as a secret from now on.

    Values shorter than 6 characters are ignored unless ``any_length`` says the value is
    known to be a credential (a stored token), not something that merely might be one.
    """
    for v in {value, value.strip()}:
        if v.strip() and (any_length or len(v) >= _MIN_LITERAL):
            _registered.add(v)


def secret_values() -> list[str]:
    """Secret values set in the environment now (CODENOOK_PASSWORD, HF_TOKEN), longest first."""
    values = set()
    for name, shortest in SECRET_VARIABLES.items():
        value = os.environ.get(name, "")
        # HF_TOKEN is used stripped (library/hftoken.py); blank it as it is typed, too.
        for v in {value, value.strip()}:
            if v.strip() and len(v) >= shortest:
                values.add(v)
    return sorted(values, key=len, reverse=True)


def redact(text: str, *, literals: Iterable[str] | None = None) -> tuple[str, int]:
    """Replace every secret in ``text`` with a placeholder; return the text and the count.

    ``literals`` are exact secret values to blank too (default: ``secret_values()`` and
    the registered API keys).
    """
    count = 0
    if literals is None:
        literals = sorted({*secret_values(), *_registered}, key=len, reverse=True)
    for value in literals:
        if value and value in text:
            count += text.count(value)
            text = text.replace(value, PLACEHOLDER)
    text, found = SECRET_RE.subn(PLACEHOLDER, text)
    return text, count + found
