"""The remote backend against real loopback sockets: streams, faults, cancel, messages."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx2
import pytest

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.remote import RemoteBackend, RemoteError, api_base, display_url, unfence
from tests.engine import fakeservers
from tests.engine.fakeservers import FakeServer

pytestmark = pytest.mark.timeout(60)
OPTIONS = GenerationOptions(max_tokens=16, temperature=0.0, seed=1)
ASK = [Message("user", "hi")]


def test_urls_are_written_without_v1_and_the_api_has_it() -> None:
    assert display_url("http://h:8000/v1/") == "http://h:8000"
    assert api_base("http://h:11434") == "http://h:11434/v1"
    assert api_base("http://h:11434/v1") == "http://h:11434/v1"


def test_a_stream_arrives_piece_by_piece_and_names_the_server() -> None:
    server = FakeServer(fakeservers.openai(["Hel", "lo", "!"]))
    with server, RemoteBackend(server.url) as backend:
        assert backend.model == fakeservers.MODEL
        assert backend.info.backend == f"remote {server.url} (model {fakeservers.MODEL})"
        stream = backend.stream_chat(ASK, options=OPTIONS)
        assert list(stream) == ["Hel", "lo", "!"]
    assert stream.result.finish_reason == "stop"
    assert stream.result.completion_tokens == 3
    assert json.loads(server.requests[-1][2])["stream"] is True


def test_nothing_listening_is_said_with_the_url_and_counts_as_down() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        RemoteBackend(url)
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith(f"Nothing answers at {url} (connection refused)")
    assert caught.value.down


def test_a_server_that_never_answers_times_out_in_the_configured_time() -> None:
    with FakeServer(fakeservers.silent) as server:
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            RemoteBackend(server.url, read_timeout=1.0)
        took = time.monotonic() - started
    assert 0.9 <= took < 5
    assert f"{server.url} did not answer within 1 s" in str(caught.value)
    assert caught.value.down


def test_a_stream_that_goes_silent_times_out_mid_answer() -> None:
    server = FakeServer(fakeservers.openai(["one ", "two"], delay=3.0))
    with server, RemoteBackend(server.url, read_timeout=1.0) as backend:
        stream = backend.stream_chat(ASK, options=OPTIONS)
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            stream.read()
        assert time.monotonic() - started < 3
    assert caught.value.down is False
    assert f"{server.url} stopped sending for 1 s mid-answer" in str(caught.value)
    assert stream.result.finish_reason == "error"


def test_garbage_instead_of_json_names_the_server() -> None:
    with FakeServer(fakeservers.garbage) as server, pytest.raises(RemoteError) as caught:
        RemoteBackend(server.url)
    message = str(caught.value)
    assert message.startswith(f"{server.url} answered with something that is not JSON")
    assert "\n" not in message


def test_garbage_inside_the_stream_names_the_server() -> None:
    with (
        FakeServer(fakeservers.openai([], sse_garbage=True)) as server,
        RemoteBackend(server.url) as backend,
    ):
        stream = backend.stream_chat(ASK, options=OPTIONS)
        with pytest.raises(RemoteError, match="not JSON"):
            stream.read()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (401, "wrong API key for {url}"),
        (403, "wrong API key for {url}"),
        (404, "{url} has no model"),
        (500, "{url} failed with HTTP 500 (something broke): see the server's log"),
    ],
)
def test_http_errors_are_one_line_naming_the_server(code: int, expected: str) -> None:
    with FakeServer(fakeservers.status(code)) as server, pytest.raises(RemoteError) as caught:
        RemoteBackend(server.url)
    message = str(caught.value)
    assert message.startswith(expected.format(url=server.url))
    assert "\n" not in message
    assert not caught.value.down


def test_an_unknown_model_lists_what_the_server_has() -> None:
    with (
        FakeServer(fakeservers.openai([], models=("qwen", "llama"))) as server,
        pytest.raises(RemoteError, match=r"has no model 'mistral' \(it serves: qwen, llama\)"),
    ):
        RemoteBackend(server.url, model="mistral")


def test_a_too_long_prompt_is_said_as_such() -> None:
    said = "Requested tokens (5000) exceed context window of 2048"
    with FakeServer(fakeservers.status(400, said)) as server:
        backend = RemoteBackend(server.url, probe=False, model="m")
        with backend, pytest.raises(RemoteError, match="too long for the model's context"):
            backend.stream_chat(ASK, options=OPTIONS)


def test_a_connection_dropped_mid_stream_keeps_the_partial_answer() -> None:
    with (
        FakeServer(fakeservers.openai(["def ", "f():", " pass"], die_after=2)) as server,
        RemoteBackend(server.url) as backend,
    ):
        stream = backend.stream_chat(ASK, options=OPTIONS)
        got = []
        with pytest.raises(RemoteError) as caught:
            for piece in stream:
                got.append(piece)
    assert got == ["def ", "f():"]
    assert stream.result.text == "def f():"
    assert stream.result.finish_reason == "error"
    assert str(caught.value).startswith(f"The connection to {server.url} broke mid-answer")


def test_cancel_from_another_thread_stops_a_blocked_read_at_once() -> None:
    slow = fakeservers.openai(["first", "never"], delay=30, delay_from=1)
    with FakeServer(slow) as server, RemoteBackend(server.url) as backend:
        stream = backend.stream_chat(ASK, options=OPTIONS)
        assert next(stream) == "first"
        timer = threading.Timer(0.3, backend.cancel)
        timer.start()
        started = time.monotonic()
        assert list(stream) == []
        assert time.monotonic() - started < 5
        assert not backend._lock.locked()  # free for the next answer
    assert stream.result.finish_reason == "cancelled"
    assert stream.result.text == "first"


def test_tls_to_a_plain_server_is_a_tls_error() -> None:
    plain = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with FakeServer(fakeservers.silent, greeting=plain) as server:
        url = server.url.replace("http://", "https://")
        with pytest.raises(RemoteError) as caught:
            RemoteBackend(url, connect_timeout=3)
    assert str(caught.value).startswith(f"The TLS handshake with {url} failed")
    assert caught.value.down


def test_a_dns_failure_is_said_as_one() -> None:
    backend = RemoteBackend("http://no-such-host.invalid:8642", probe=False)
    cause = socket.gaierror(-2, "Name or service not known")
    error = httpx2.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = cause
    message = str(backend.transport_error(error))
    backend.close()
    assert message.startswith(
        "Cannot find the host of http://no-such-host.invalid:8642 (DNS lookup failed)"
    )


def test_the_api_key_goes_in_the_header_only() -> None:
    key = "test-key-0123456789"
    server = FakeServer(fakeservers.openai(["ok"]))
    with server, RemoteBackend(server.url, api_key=key) as backend:
        backend.stream_chat(ASK, options=OPTIONS).read()
    assert len(server.heads) == 2
    assert all(f"Authorization: Bearer {key}".lower() in h.lower() for h in server.heads)
    assert all(key.encode() not in body for _, _, body in server.requests)
    assert key not in repr(backend.info)


def test_unfence_drops_the_opening_fence_and_stops_at_the_closing_one() -> None:
    pieces = iter([("``", 1), ("`py", 1), ("thon\n", 1), ("x = 1\n", 1), ("``", 1), ("`\nmore", 1)])
    assert "".join(t for t, _ in unfence(pieces)) == "x = 1\n"
    plain = iter([("x = ", 1), ("1", 1)])
    assert "".join(t for t, _ in unfence(plain)) == "x = 1"


def _text_chunks(pieces: list[str]) -> fakeservers.Respond:
    """A completions endpoint: streams ``pieces`` as text chunks."""

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
        for text in pieces:
            event = {"choices": [{"index": 0, "text": text, "finish_reason": None}]}
            conn.sendall(f"data: {json.dumps(event)}\n\n".encode())
        conn.sendall(b"data: [DONE]\n\n")
        conn.close()

    return respond


def test_fill_through_the_suffix_field() -> None:
    with FakeServer(_text_chunks(["return a + b"])) as server:
        backend = RemoteBackend(server.url, probe=False, model="m", fill="suffix")
        with backend:
            assert backend.info.can_fill
            text = backend.fill("def add(a, b):\n    ", "\n", options=OPTIONS).read()
    method, path, body = server.requests[-1]
    sent = json.loads(body)
    assert (method, path, text) == ("POST", "/v1/completions", "return a + b")
    assert sent["prompt"] == "def add(a, b):\n    " and sent["suffix"] == "\n"


def test_fill_with_a_fim_format_sends_the_raw_prompt() -> None:
    with FakeServer(_text_chunks(["a + b"])) as server:
        backend = RemoteBackend(server.url, probe=False, model="m", fill="qwen2.5-coder")
        with backend:
            assert backend.info.fill_format == "qwen2.5-coder"
            backend.fill("x = ", "\n", options=OPTIONS).read()
    sent = json.loads(server.requests[-1][2])
    assert sent["prompt"] == "<|fim_prefix|>x = <|fim_suffix|>\n<|fim_middle|>"
    assert "suffix" not in sent


def test_fill_through_chat_drops_the_fence_and_the_echo() -> None:
    pieces = ["```python\n", "def add(a, b):\n", "    return a + b\n", "```\n", "Done."]
    with FakeServer(fakeservers.openai(pieces)) as server:
        backend = RemoteBackend(server.url, probe=False, model="m")
        with backend:
            assert not backend.info.can_fill
            text = backend.fill("def add(a, b):\n", "\n", options=OPTIONS).read()
    assert text == "    return a + b\n"
    assert json.loads(server.requests[-1][2])["messages"][0]["role"] == "system"
