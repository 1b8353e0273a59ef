"""SHA-256 of model files: computed once per file, in the background, kept in the cache.

Hashing a 4 GB model takes seconds, so it never runs in the caller's thread: ``start``
begins it in a daemon thread and ``known`` answers from memory or the cache file
(keyed by path, size and modification time, so a replaced file is hashed again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from codenook import config
from codenook.safefile import FileWriteError, write_file

CACHE_NAME = "model-hashes.json"
log = logging.getLogger(__name__)

Key = tuple[str, int, int]


def file_key(path: str | Path) -> Key | None:
    """(resolved path, size, mtime in ns) of a regular file, or None if there is none."""
    try:
        p = Path(path).resolve()
        st = p.stat()
    except (OSError, ValueError):
        return None
    if not p.is_file():
        return None
    return str(p), st.st_size, st.st_mtime_ns


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as hex (reads it in chunks; takes seconds for GBs)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


class ModelHashes:
    """Model file hashes for this process, backed by a JSON file in the cache folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[Key, str] = {}
        self._running: dict[Key, threading.Event] = {}
        # Two files hashed at once must not both rewrite the cache from the same old copy.
        self._write_lock = threading.Lock()

    @staticmethod
    def cache_file() -> Path:
        """Where hashes are kept between runs."""
        return config.paths().cache / CACHE_NAME

    def _read_cache(self) -> dict[str, Any]:
        try:
            data = json.loads(self.cache_file().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self, key: Key, sha: str) -> None:
        with self._write_lock:
            self._write_cache_locked(key, sha)

    def _write_cache_locked(self, key: Key, sha: str) -> None:
        path = self.cache_file()
        data = self._read_cache()
        data[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": sha}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_file(path, json.dumps(data, indent=1, sort_keys=True))
        except (OSError, FileWriteError) as exc:
            # Only a cache: the hash is computed again next time.
            log.warning("Cannot keep model hashes in %s: %s", path, exc)

    def known(self, path: str | Path) -> str | None:
        """The file's hash if already computed (here or in an earlier run), else None."""
        key = file_key(path)
        if key is None:
            return None
        with self._lock:
            if key in self._known:
                return self._known[key]
        entry = self._read_cache().get(key[0])
        if (
            isinstance(entry, dict)
            and entry.get("size") == key[1]
            and entry.get("mtime_ns") == key[2]
            and isinstance(entry.get("sha256"), str)
        ):
            with self._lock:
                self._known[key] = entry["sha256"]
            return entry["sha256"]
        return None

    def start(self, path: str | Path) -> None:
        """Begin hashing the file in the background unless its hash is known or coming."""
        key = file_key(path)
        if key is None or self.known(path) is not None:
            return
        with self._lock:
            if key in self._running:
                return
            done = self._running[key] = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(key, done), name="codenook-model-hash", daemon=True
        )
        thread.start()

    def _run(self, key: Key, done: threading.Event) -> None:
        """Runs in the hashing thread."""
        # Lowest CPU priority for this thread only (Linux): generation must not wait for it.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        started = time.perf_counter()
        try:
            sha = sha256_of(key[0])
            if file_key(key[0]) != key:
                log.warning("Model file %s changed while it was hashed", Path(key[0]).name)
                return
            with self._lock:
                self._known[key] = sha
            self._write_cache(key, sha)
            log.info(
                "Hashed model file %s (%.1f GB) in %.1f s",
                Path(key[0]).name,
                key[1] / 1e9,
                time.perf_counter() - started,
            )
        except OSError as exc:
            log.warning("Cannot hash model file %s: %s", Path(key[0]).name, exc)
        finally:
            with self._lock:
                self._running.pop(key, None)
            done.set()

    def wait(self, path: str | Path, *, timeout: float | None = None) -> str | None:
        """The file's hash, starting it if needed and waiting up to ``timeout`` seconds."""
        self.start(path)
        key = file_key(path)
        with self._lock:
            done = self._running.get(key) if key else None
        if done is not None:
            done.wait(timeout)
        return self.known(path)

    def forget(self) -> None:
        """Drop what this process remembers (the cache file stays)."""
        with self._lock:
            self._known.clear()


#: The process's hashes; sessions share it so each file is hashed once.
HASHES = ModelHashes()


def start(path: str | Path) -> None:
    """Begin hashing ``path`` in the background (see ModelHashes.start)."""
    HASHES.start(path)


def known(path: str | Path) -> str | None:
    """The hash of ``path`` if already known, without waiting."""
    return HASHES.known(path)


def wait(path: str | Path, *, timeout: float | None = None) -> str | None:
    """The hash of ``path``, waiting up to ``timeout`` seconds for it."""
    return HASHES.wait(path, timeout=timeout)
