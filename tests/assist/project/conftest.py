"""Fixtures for the project index: a copy of the fixture repository, and a user."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_REPO = Path(__file__).with_name("fixture_repo")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the fixture repository (tests change it)."""
    dest = tmp_path / "stockroom-repo"
    shutil.copytree(FIXTURE_REPO, dest, symlinks=True)
    return dest
