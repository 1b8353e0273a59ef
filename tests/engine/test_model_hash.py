"""Model file hashes: right, computed once, cached on disk, redone when the file changes."""

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from codenook import config
from codenook.engine import model_hash
from codenook.engine.embedded import embedded_model_path
from codenook.engine.model_hash import ModelHashes


def test_the_embedded_model_hash_matches_and_is_cached_on_disk(monkeypatch) -> None:
    path = embedded_model_path()
    hashes = ModelHashes()
    sha = hashes.wait(path, timeout=120)
    assert sha == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    cache = json.loads((config.paths().cache / "model-hashes.json").read_text())
    assert cache[str(Path(path).resolve())]["sha256"] == sha

    # A new process (here: a new instance) answers from the cache without hashing.
    def no_hashing(_: object) -> str:
        raise AssertionError("hashed again")

    monkeypatch.setattr(model_hash, "sha256_of", no_hashing)
    assert ModelHashes().known(path) == sha


def test_a_changed_file_is_hashed_again(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF one")
    hashes = ModelHashes()
    first = hashes.wait(f, timeout=10)
    assert first == hashlib.sha256(b"GGUF one").hexdigest()
    f.write_bytes(b"GGUF two!")
    os.utime(f, ns=(1, 1))
    assert ModelHashes().known(f) is None
    assert hashes.wait(f, timeout=10) == hashlib.sha256(b"GGUF two!").hexdigest()


def test_hashing_runs_once_in_a_low_priority_background_thread(tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "big.gguf"
    f.write_bytes(b"x" * 1000)
    release = threading.Event()
    calls: list[tuple[str, int]] = []

    def slow(path: str) -> str:
        me = threading.current_thread()
        calls.append((me.name, os.getpriority(os.PRIO_PROCESS, me.native_id or 0)))
        release.wait(10)
        return "ab" * 32

    monkeypatch.setattr(model_hash, "sha256_of", slow)
    hashes = ModelHashes()
    for _ in range(3):
        hashes.start(f)  # returns at once although the hash is not done
    assert hashes.known(f) is None
    assert hashes.wait(f, timeout=0.05) is None
    release.set()
    assert hashes.wait(f, timeout=10) == "ab" * 32
    # One thread, at the lowest CPU priority so that generation never waits for it.
    assert calls == [("codenook-model-hash", 19)]


@pytest.mark.parametrize("where", ["missing.gguf", "folder", "http://server/model"])
def test_no_file_means_no_hash(tmp_path: Path, where: str) -> None:
    (tmp_path / "folder").mkdir()
    target = where if where.startswith("http") else tmp_path / where
    assert ModelHashes().wait(target, timeout=1) is None


def test_an_unwritable_cache_only_costs_a_rehash(tmp_path: Path, codenook_home: Path) -> None:
    codenook_home.mkdir()
    (codenook_home / "cache").write_text("not a folder")
    f = tmp_path / "m.gguf"
    f.write_bytes(b"data")
    assert ModelHashes().wait(f, timeout=10) == hashlib.sha256(b"data").hexdigest()
