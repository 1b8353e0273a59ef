"""The Hugging Face token: keyring first, a 0600 file without one, HF_TOKEN wins, masked."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from codenook import config
from codenook.library import hftoken

TOKEN = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def test_stored_in_the_keyring_and_read_back(no_hub_no_keyring: Path) -> None:
    where = hftoken.save_token(f"  {TOKEN}\n")
    assert where == "system keyring (FileKeyring)"
    stored = json.loads(no_hub_no_keyring.read_text())
    assert stored == {"codenook/huggingface-token": TOKEN}
    found = hftoken.load_token()
    assert found is not None and found.value == TOKEN
    assert found.source == "system keyring (FileKeyring)"
    assert not hftoken.token_file().exists()


def test_masked_everywhere_it_is_shown() -> None:
    assert hftoken.mask(TOKEN) == "hf_****6789"
    hftoken.save_token(TOKEN)
    found = hftoken.load_token()
    assert found.masked == "hf_****6789"
    assert TOKEN not in repr(found) and TOKEN not in str(found)


def test_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    hftoken.save_token(TOKEN)
    monkeypatch.setenv("HF_TOKEN", "hf_fromTheEnvironment000000000000")
    found = hftoken.load_token()
    assert found.value == "hf_fromTheEnvironment000000000000"
    assert found.source == "the HF_TOKEN environment variable"


def test_logout_removes_it(no_hub_no_keyring: Path) -> None:
    hftoken.save_token(TOKEN)
    assert hftoken.delete_token() == ["system keyring (FileKeyring)"]
    assert hftoken.load_token() is None
    assert TOKEN not in no_hub_no_keyring.read_text()
    assert hftoken.delete_token() == []


def test_without_a_keyring_a_private_file_is_used() -> None:
    keyring.set_keyring(fail.Keyring())
    where = hftoken.save_token(TOKEN)
    path = hftoken.token_file()
    assert str(path) in where and "no system keyring" in where
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == TOKEN
    assert hftoken.load_token().source == f"the file {path}"
    assert hftoken.delete_token() == [f"the file {path}"]
    assert not path.exists()


def test_a_broken_keyring_falls_back_to_the_file(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    backend = keyring.get_keyring()

    def refuse(*args: object) -> None:
        raise keyring.errors.KeyringLocked("the keyring is locked")

    monkeypatch.setattr(backend, "set_password", refuse)
    with caplog.at_level(logging.WARNING):
        where = hftoken.save_token(TOKEN)
    assert "the file" in where
    assert "locked" in caplog.text and TOKEN not in caplog.text
    assert hftoken.load_token().value == TOKEN


@pytest.mark.parametrize(
    "bad", ["", "hello", "hf_short", "hf_has space in it 1234567890", "x" * 50]
)
def test_not_a_token(bad: str) -> None:
    with pytest.raises(hftoken.TokenError, match="start with 'hf_'"):
        hftoken.save_token(bad)


def test_never_in_settings() -> None:
    hftoken.save_token(TOKEN)
    config.save_settings(config.load_settings())
    assert TOKEN not in config.paths().settings_file.read_text()
