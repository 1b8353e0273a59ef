"""``codenook serve`` in a subprocess on 127.0.0.1, used by a second codenook as its backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.remote import RemoteBackend, RemoteError
from tests.conftest import CODENOOK, ROOT, run_cli

pytestmark = pytest.mark.timeout(180)
KEY = "codenook-test-key-4f9a1c77e2"
MODEL = "SmolLM2-135M-Instruct"


def start_serve(home: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """``codenook serve`` on a free loopback port; returns the process and its URL."""
    env = {
        **os.environ,
        "CODENOOK_HOME": str(home),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    command = [str(CODENOOK), "serve", "--port", "0", "--threads", "1", "--context", "2048"]
    proc = subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "listening on " in line:
            return proc, line.rsplit("listening on ", 1)[1].strip()
    proc.kill()
    raise AssertionError(
        f"codenook serve did not start: {proc.stderr.read() if proc.stderr else ''}"
    )


def stop(proc: subprocess.Popen[str]) -> None:
    """End a server started here."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private file holding the server's API key."""
    path = tmp_path_factory.mktemp("key") / "api-key"
    path.write_text(KEY + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Iterator[str]:
    """One ``codenook serve --api-key-file`` for the module; yields its URL."""
    proc, url = start_serve(tmp_path_factory.mktemp("server-home"), "--api-key-file", str(key_file))
    # The key is read from the file: it is nowhere on the server's command line.
    assert KEY not in Path(f"/proc/{proc.pid}/cmdline").read_text()
    yield url
    stop(proc)


def test_serve_refuses_a_public_address_without_a_key() -> None:
    proc = run_cli("serve", "--host", "0.0.0.0", "--port", "0", timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith("codenook: error: Refusing to listen on 0.0.0.0 without an API key")
    assert "--api-key-file" in err


def test_requests_without_the_key_or_with_a_wrong_one_get_401(served: str) -> None:
    assert httpx2.get(f"{served}/v1/models", timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key-123"}
    assert httpx2.get(f"{served}/v1/models", headers=wrong, timeout=10).status_code == 401
    right = {"Authorization": f"Bearer {KEY}"}
    listing = httpx2.get(f"{served}/v1/models", headers=right, timeout=10).json()
    assert [m["id"] for m in listing["data"]] == [MODEL]
    with pytest.raises(RemoteError) as caught:
        RemoteBackend(served, api_key="not-the-key-123")
    assert str(caught.value).startswith(f"wrong API key for {served}")


@pytest.mark.usefixtures("account")
def test_a_wrong_key_file_is_one_line_from_the_cli(served: str, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-key-123\n")
    proc = run_cli("ask", "What is Bash?", "--backend", served, "--api-key-file", str(wrong))
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith(f"codenook: error: wrong API key for {served}")
    assert len(proc.stderr.decode().strip().splitlines()) == 1


def test_a_stream_comes_piece_by_piece(served: str) -> None:
    with RemoteBackend(served, api_key=KEY) as backend:
        stream = backend.stream_chat(
            [Message("user", "Write a Python function that adds two numbers.")],
            options=GenerationOptions(max_tokens=24, temperature=0.0, seed=1),
        )
        pieces = list(stream)
    assert len(pieces) >= 5
    assert stream.result.finish_reason in ("stop", "length")
    assert stream.result.tokens_per_second > 0


def test_chat_through_the_server_is_stored_and_names_the_machine(
    served: str, key_file: Path, account: str, codenook_home: Path
) -> None:
    proc = run_cli(
        "chat",
        "--json",
        "--backend",
        served,
        "--api-key-file",
        str(key_file),
        "--max-tokens",
        "16",
        "--temperature",
        "0",
        input=b"What is Python?\nAnd Bash?\n",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    answers = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    where = f"remote {served} (model {MODEL})"
    assert [a["backend"] for a in answers] == [where, where]
    assert all(a["text"] and a["model"] == MODEL for a in answers)
    assert f"answering on {where}" in proc.stderr.decode()

    from codenook.store import conversations
    from codenook.store.accounts import user_by_name
    from codenook.store.db import open_database

    db = open_database()
    user = user_by_name(db, account)
    assert user is not None
    rows = conversations.messages(db, user.id, answers[0]["conversation_id"])
    db.close()
    assert [r.role for r in rows] == ["user", "assistant", "user", "assistant"]
    assert all(r.figures["backend"] == where for r in rows if r.role == "assistant")
    assert all(r.complete for r in rows)
    # The key is in no file codenook wrote, and in none of its output.
    for path in codenook_home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY.encode() not in proc.stdout + proc.stderr


@pytest.mark.usefixtures("account")
def test_completion_through_the_server(served: str, key_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "add.py"
    source.write_text("def add(a, b):\n    \n\n\nprint(add(1, 2))\n")
    proc = run_cli(
        "complete",
        str(source),
        "--line",
        "2",
        "--column",
        "5",
        "--backend",
        served,
        "--api-key-file",
        str(key_file),
        "--max-tokens",
        "32",
        "--temperature",
        "0",
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"answering on remote {served}" in proc.stderr.decode()


def test_a_prompt_too_long_for_the_servers_context_is_said(served: str) -> None:
    with RemoteBackend(served, api_key=KEY, context_length=100_000) as backend:
        stream = backend.stream_chat(
            [Message("user", "word " * 3000)], options=GenerationOptions(max_tokens=8)
        )
        started = time.monotonic()
        with pytest.raises(RemoteError, match="too long for the model's context"):
            stream.read()
        assert time.monotonic() - started < 60


def test_a_server_killed_mid_answer_keeps_the_partial_answer(
    tmp_path: Path, db: object, users: tuple
) -> None:
    from codenook.assist.session import ChatSession
    from codenook.store import conversations

    proc, url = start_serve(tmp_path / "server-home")
    try:
        backend = RemoteBackend(url)
        session = ChatSession(
            db, users[0], backend, GenerationOptions(max_tokens=48, temperature=0.0, seed=1)
        )
        seen: list[str] = []

        def on_text(piece: str) -> None:
            seen.append(piece)
            if len(seen) == 3:
                os.kill(proc.pid, signal.SIGKILL)

        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            session.send("Write a long Python tutorial about lists.", on_text=on_text)
        assert time.monotonic() - started < 60
        backend.close()
    finally:
        stop(proc)
    assert str(caught.value).startswith(f"The connection to {url} broke mid-answer")
    rows = conversations.messages(db, users[0].id, session.conversation_id)
    answer = rows[-1]
    assert answer.role == "assistant"
    assert answer.content.startswith("".join(seen[:3]))
    assert not answer.complete
    assert answer.figures["finish_reason"] == "error"
