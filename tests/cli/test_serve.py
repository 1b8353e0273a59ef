"""``codenook serve`` in a subprocess on 127.0.0.1, used by a second codenook as its backend."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
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
def server(
    tmp_path_factory: pytest.TempPathFactory, key_file: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """One ``codenook serve --api-key-file`` for the module; yields it and its URL."""
    proc, url = start_serve(tmp_path_factory.mktemp("server-home"), "--api-key-file", str(key_file))
    # The key is read from the file: it is nowhere on the server's command line.
    assert KEY not in Path(f"/proc/{proc.pid}/cmdline").read_text()
    yield proc, url
    stop(proc)


@pytest.fixture(scope="module")
def served(server: tuple[subprocess.Popen[str], str]) -> str:
    """The URL of the module's keyed server."""
    return server[1]


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A key-less ``codenook serve`` on loopback that lets one web origin in; yields its URL."""
    proc, url = start_serve(
        tmp_path_factory.mktemp("open-server-home"), "--cors-origin", "http://ok.example"
    )
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
        started = time.monotonic()
        with pytest.raises(RemoteError, match="too long for the model's context"):
            backend.stream_chat(
                [Message("user", "word " * 3000)], options=GenerationOptions(max_tokens=8)
            ).read()
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


# -- the server bounds what a client may take ------------------------------------------------

AUTH = {"Authorization": f"Bearer {KEY}"}


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def _send_200_mb(port: int, head: bytes, *, chunked: bool) -> bytes:
    """Send ``head`` and then up to 200 MB of body; return what the server answered."""
    block = b"x" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with contextlib.suppress(OSError):  # the server closes the connection: it should
            sock.sendall(head)
            for _ in range(200):
                sock.sendall(b"100000\r\n" + block + b"\r\n" if chunked else block)
        try:
            return sock.recv(200)
        except OSError:
            return b""


def test_a_200_mb_body_is_refused_without_the_server_growing(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = server
    port = _port(url)
    start = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    json_type = b"Content-Type: application/json\r\n"
    sends = [
        # No key, a declared 200 MB body: refused before a byte of it is read.
        (start + json_type + b"Content-Length: %d\r\n\r\n" % (200 << 20), False, b" 401 "),
        # No key, a chunked body (no length declared).
        (start + json_type + b"Transfer-Encoding: chunked\r\n\r\n", True, b" 401 "),
        # With the key: read only up to the limit, then refused.
        (
            start
            + f"Authorization: Bearer {KEY}\r\n".encode()
            + json_type
            + b"Transfer-Encoding: chunked\r\n\r\n",
            True,
            b" 413 ",
        ),
    ]
    before = peak = _rss_mb(proc.pid)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _rss_mb(proc.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        answers = [_send_200_mb(port, head, chunked=chunked) for head, chunked, _ in sends]
    finally:
        done.set()
        sampler.join()
    after = _rss_mb(proc.pid)
    print(f"server RSS: {before:.0f} MB before, {peak:.0f} MB at most, {after:.0f} MB after")
    for answer, (_, _, status) in zip(answers, sends, strict=True):
        assert answer.startswith(b"HTTP/1.1") and status in answer, answer
    assert peak - before < 20
    # The server still answers.
    assert httpx2.get(f"{url}/v1/models", headers=AUTH, timeout=30).status_code == 200


def test_silent_and_half_sent_connections_are_closed(served: str) -> None:
    port = _port(served)
    silent = socket.create_connection(("127.0.0.1", port), timeout=30)
    half = socket.create_connection(("127.0.0.1", port), timeout=30)
    started = time.monotonic()
    half.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz")
    with silent, half:
        assert silent.recv(100) == b""  # closed by the server, nothing said
        assert half.recv(100) == b""
        took = time.monotonic() - started
    print(f"silent and half-sent connections closed after {took:.1f} s")
    assert 5 < took < 20
    # An idle keep-alive connection after an answer is closed too.
    with socket.create_connection(("127.0.0.1", port), timeout=30) as idle:
        request = f"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        idle.sendall(request.encode() + b"\r\n")
        got = b""
        while b'"data"' not in got:
            got += idle.recv(4096)
        started = time.monotonic()
        while idle.recv(4096):
            pass
        assert time.monotonic() - started < 20


def test_connections_beyond_the_cap_are_turned_away(served: str) -> None:
    port = _port(served)
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(16)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            assert extra.recv(100).startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.5)  # the server sees them closed
    assert httpx2.get(f"{served}/v1/models", headers=AUTH, timeout=30).status_code == 200


def test_the_docs_and_the_schema_need_the_key(served: str) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert httpx2.get(f"{served}{path}", timeout=10).status_code == 401, path
    assert httpx2.get(f"{served}/openapi.json", headers=AUTH, timeout=10).status_code == 200
    # The interactive pages load scripts from the Internet: they are off.
    assert httpx2.get(f"{served}/docs", headers=AUTH, timeout=10).status_code == 404


def test_web_pages_from_other_origins_and_rebound_names_are_refused(open_server: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    path = f"{open_server}/v1/chat/completions"
    evil = httpx2.options(path, headers={**preflight, "Origin": "http://evil.example"}, timeout=10)
    assert "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-credentials" not in evil.headers
    listed = httpx2.options(path, headers={**preflight, "Origin": "http://ok.example"}, timeout=10)
    assert listed.headers["access-control-allow-origin"] == "http://ok.example"
    simple = httpx2.get(f"{open_server}/v1/models", headers={"Origin": "http://evil.example"})
    assert simple.status_code == 200 and "access-control-allow-origin" not in simple.headers
    # DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own name.
    rebound = httpx2.get(f"{open_server}/v1/models", headers={"Host": "evil.example"}, timeout=10)
    assert rebound.status_code == 400
    assert "does not name this server" in rebound.json()["error"]["message"]
    port = _port(open_server)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        ok = httpx2.get(f"{open_server}/v1/models", headers={"Host": host}, timeout=10)
        assert ok.status_code == 200, host


def test_a_too_long_prompt_is_a_client_error_not_500(served: str) -> None:
    long = [{"role": "user", "content": "word " * 3000}]
    for stream in (False, True):
        answer = httpx2.post(
            f"{served}/v1/chat/completions",
            headers=AUTH,
            json={"messages": long, "max_tokens": 8, "stream": stream},
            timeout=60,
        )
        assert answer.status_code == 400, (stream, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "context_length_exceeded"
        assert "context holds 2048" in error["message"]
    completion = httpx2.post(
        f"{served}/v1/completions",
        headers=AUTH,
        json={"prompt": "word " * 3000, "max_tokens": 8},
        timeout=60,
    )
    assert completion.status_code == 400, completion.text


def test_answers_name_the_model_not_its_path(served: str) -> None:
    answer = httpx2.post(
        f"{served}/v1/completions",
        headers=AUTH,
        json={"prompt": "def add(a, b):", "max_tokens": 4},
        timeout=60,
    )
    assert answer.status_code == 200
    assert answer.json()["model"] == MODEL
    chat = httpx2.post(
        f"{served}/v1/chat/completions",
        headers=AUTH,
        json={"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "stream": True},
        timeout=60,
    )
    events = [json.loads(x[5:]) for x in chat.text.splitlines() if x.startswith("data: {")]
    assert events and all(e["model"] == MODEL for e in events)
    assert "/" not in chat.text.replace("data: ", "").split('"model"')[1][:60]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_generation_stops_when_the_client_goes_away(served: str, stream: bool) -> None:
    # 1,500 tokens at least: half a minute of work on two cores, if nobody stops it.
    body = json.dumps(
        {"prompt": "1, 2, 3,", "max_tokens": 1500, "min_tokens": 1500, "stream": stream}
    ).encode()
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", _port(served)), timeout=30) as sock:
        sock.sendall(head + body)
        time.sleep(2)  # generating
    started = time.monotonic()
    # The model answers one request at a time: this waits for the abandoned one.
    listing = httpx2.get(f"{served}/v1/models", headers=AUTH, timeout=120)
    took = time.monotonic() - started
    print(f"model free {took:.2f} s after the client left ({'streamed' if stream else 'whole'})")
    assert listing.status_code == 200
    assert took < 5


# -- serve --rpc: llama.cpp's rpc-server, never beyond a trusted network ----------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8", "2001:4860:4860::8888"])
def test_serve_rpc_refuses_every_and_public_addresses(host: str) -> None:
    proc = run_cli("serve", "--rpc", "--host", host, timeout=60)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith(f"codenook: error: Refusing to serve llama.cpp's RPC on {host}")
    assert "--allow-any-address" in err and "SSH tunnel" in err


def test_serve_rpc_with_the_override_warns_serves_and_stops_on_ctrl_c() -> None:
    from codenook.engine import rpc
    from tests.rpcserver import free_port

    port = free_port()
    command = [str(CODENOOK), "serve", "--rpc", "--host", "0.0.0.0", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--allow-any-address", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].startswith(f"codenook serve: rpc-server listening on 0.0.0.0:{port}")
        assert lines[1].startswith("On the main machine: codenook backends add-pool NAME --rpc ")
        memory = rpc.device_memory(rpc.Endpoint("127.0.0.1", port))
        assert memory and memory[0].total > 0
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "no authentication and no encryption" in err and "ufw allow from MAIN-IP" in err
    assert rpc.reachable(rpc.Endpoint("127.0.0.1", port), timeout=1) is not None  # stopped too
