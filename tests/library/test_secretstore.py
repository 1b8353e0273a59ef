"""The one store for secrets: keyring first, one place only, a 0600 file without a keyring."""

from __future__ import annotations

import stat
from pathlib import Path

import keyring
from keyring.backends import fail

from codenook import config
from codenook.library import secretstore

VALUE = "s3cret-value-for-the-store-0042"


def test_two_accounts_are_kept_apart_in_the_keyring(no_hub_no_keyring: Path) -> None:
    files = config.paths().config
    a, b = files / "a", files / "b"
    assert "system keyring" in secretstore.store("acct-a", a, VALUE, what="key")
    secretstore.store("acct-b", b, VALUE + "-b", what="key")
    assert VALUE in no_hub_no_keyring.read_text() and not a.exists()
    assert secretstore.load("acct-a", a, what="key")[0] == VALUE
    assert secretstore.load("acct-b", b, what="key")[0] == VALUE + "-b"
    assert secretstore.delete("acct-a", a, what="key")[0].startswith("system keyring")
    assert secretstore.load("acct-a", a, what="key") is None
    assert secretstore.load("acct-b", b, what="key") is not None


def test_without_a_keyring_a_private_file_in_a_private_folder() -> None:
    keyring.set_keyring(fail.Keyring())
    path = config.paths().config / "keys" / "x"
    where = secretstore.store("acct", path, VALUE, what="key")
    assert str(path) in where
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secretstore.load("acct", path, what="key") == (VALUE, f"the file {path}")
    assert secretstore.delete("acct", path, what="key") == [f"the file {path}"]
    assert secretstore.load("acct", path, what="key") is None
