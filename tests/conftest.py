"""Shared fixtures: a private CODENOOK_HOME per test, the real embedded model, the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# As engine/transformers_backend.py sets it, before any test module imports torch.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend

if TYPE_CHECKING:
    from codenook.engine.transformers_backend import TransformersBackend

# A run started in the background by a shell without job control (`make test &` in a
# script) inherits SIGINT ignored, and so would every codenook the tests start: the Ctrl-C
# tests would then wait for a stop that never comes. A handler here (not an ignore) is
# reset to the default in each child at exec, so the children take Ctrl-C as a user's do.
signal.signal(signal.SIGINT, signal.default_int_handler)


CODENOOK = Path(sys.executable).with_name("codenook")
ROOT = Path(__file__).resolve().parents[1]
#: A loopback port where nothing listens: a request there is refused at once.
DEAD_HUB = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def codenook_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own CODENOOK_HOME, so no test touches the user's files."""
    home = tmp_path / "home"
    monkeypatch.setenv("CODENOOK_HOME", str(home))
    # Nor the machine-wide settings a Debian package may have written.
    monkeypatch.setenv("CODENOOK_SYSTEM_CONFIG", str(tmp_path / "no-system-config.toml"))
    return home


@pytest.fixture(autouse=True)
def no_hub_no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reaches the real Hugging Face hub or the user's keyring, here or in a subprocess.

    Returns the file the test keyring keeps its passwords in.
    """
    import keyring

    from tests.filekeyring import FileKeyring

    monkeypatch.setenv("HF_ENDPOINT", DEAD_HUB)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    store = tmp_path / "keyring.json"
    monkeypatch.setenv("CODENOOK_TEST_KEYRING", str(store))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.filekeyring.FileKeyring")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    )
    keyring.set_keyring(FileKeyring())
    return store


PASSWORD = "correct horse battery staple"


@pytest.fixture
def account(codenook_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An admin account 'tester', used by subprocesses through the environment."""
    from codenook.auth import Auth
    from codenook.store.db import open_database

    db = open_database()
    Auth(db).create_user("tester", PASSWORD)
    db.close()
    monkeypatch.setenv("CODENOOK_USER", "tester")
    monkeypatch.setenv("CODENOOK_PASSWORD", PASSWORD)
    return "tester"


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    """The test's own database (under its CODENOOK_HOME)."""
    from codenook.store.db import open_database

    conn = open_database()
    yield conn
    conn.close()


@pytest.fixture
def users(db: sqlite3.Connection) -> tuple:
    """Two accounts: alice (the admin) and bob."""
    from codenook.auth import Auth

    auth = Auth(db)
    alice = auth.create_user("alice", "pumpkin-harbor-31")
    return alice, auth.create_user("bob", "pumpkin-harbor-31", by=alice)


@pytest.fixture(scope="session")
def embedded_backend() -> Iterator[LlamaBackend]:
    """The real SmolLM2-135M-Instruct, loaded once for the whole run."""
    backend = LlamaBackend(embedded_model_path(), context_length=2048, threads=2, embedded=True)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def exact_backend() -> Iterator[LlamaBackend]:
    """The embedded model with a q8_0 KV cache: drafted answers are the plain ones exactly."""
    backend = LlamaBackend(
        embedded_model_path(), context_length=2048, threads=2, embedded=True, kv_cache="q8_0"
    )
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def qwen_model() -> Path:
    """The real Qwen2.5-Coder-0.5B-Instruct Q4_K_M file, assembled once and hash-checked."""
    from tests.qwen import qwen_model_path

    return qwen_model_path()


@pytest.fixture(scope="session")
def qwen_backend(qwen_model: Path) -> Iterator[LlamaBackend]:
    """The Qwen coder model loaded once for the whole run."""
    backend = LlamaBackend(qwen_model, context_length=4096, threads=2)
    yield backend
    backend.close()


def run_cli(
    *args: str, input: bytes | None = None, timeout: float = 120, env: dict | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``codenook`` command in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(CODENOOK), *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        env=full_env,
        check=False,
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped or expected-to-fail test fails the run: nothing may hide there."""
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    hidden = sum(len(reporter.stats.get(k, [])) for k in ("skipped", "xfailed", "xpassed"))
    if hidden and session.exitstatus == 0:
        reporter.write_line(f"CI: {hidden} test(s) skipped or xfail-marked; failing the run.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def transformers_backend() -> Iterator[TransformersBackend]:
    """The same embedded GGUF run by transformers (dequantized), loaded once for the run."""
    from codenook.engine.transformers_backend import TransformersBackend

    backend = TransformersBackend(
        embedded_model_path(), layout="gguf", context_length=2048, threads=2, embedded=True
    )
    yield backend
    backend.close()
