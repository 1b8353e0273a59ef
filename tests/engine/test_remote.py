"""The remote backend against real loopback sockets: streams, faults, cancel, messages."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable

import httpx2
import pytest

from codenook.engine.backend import GenerationOptions, Message
from codenook.engine.remote import RemoteBackend, RemoteError, api_base, display_url
from codenook.errors import GenerationError
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


def test_fill_through_chat_is_the_complete_jobs_not_the_engines() -> None:
    """fill = "chat": no native FIM; the complete job asks in its own chat request."""
    with FakeServer(fakeservers.openai(["x"])) as server:
        backend = RemoteBackend(server.url, probe=False, model="m")
        with backend:
            assert not backend.info.can_fill
            with pytest.raises(GenerationError, match="no fill-in-the-middle"):
                backend.fill("def add(a, b):\n", "\n", options=OPTIONS)
    assert server.requests == []


# -- what a server sends is bounded by the client, whatever the server does -------------


def test_an_endless_stream_stops_at_max_tokens() -> None:
    sent: list[int] = []
    server = FakeServer(fakeservers.endless("tok ", sent=sent))
    with server, RemoteBackend(server.url) as backend:
        started = time.monotonic()
        stream = backend.stream_chat(ASK, options=GenerationOptions(max_tokens=8))
        pieces = list(stream)
        took = time.monotonic() - started
        assert not backend._lock.locked()
        deadline = time.monotonic() + 5
        while not sent and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the closed connection
    assert pieces == ["tok "] * 8
    assert stream.result.text == "tok " * 8
    assert stream.result.finish_reason == "length"
    assert stream.result.completion_tokens == 8
    assert took < 5
    assert sent, "the connection was left open"
    print(f"endless stream: 8 pieces kept in {took:.2f} s; the server got {sent[0]} out")


def test_keep_alive_comments_do_not_hold_an_answer() -> None:
    with FakeServer(fakeservers.pings(0.1)) as server:
        backend = RemoteBackend(server.url, read_timeout=1.0)
        with backend:
            stream = backend.stream_chat(ASK, options=OPTIONS)
            started = time.monotonic()
            with pytest.raises(RemoteError) as caught:
                stream.read()
            took = time.monotonic() - started
            assert not backend._lock.locked()
    assert 0.9 <= took < 4, took
    said = f"{server.url} sent only keep-alive lines, no text, for 1 s"
    assert str(caught.value).startswith(said)
    assert not caught.value.down
    assert stream.result.finish_reason == "error"


def test_an_answer_stops_at_its_deadline_however_steadily_it_comes() -> None:
    server = FakeServer(fakeservers.endless("tok ", interval=0.1))
    with server, RemoteBackend(server.url, read_timeout=5.0, answer_timeout=2.0) as backend:
        stream = backend.stream_chat(ASK, options=GenerationOptions(max_tokens=10_000))
        shown: list[str] = []
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            for piece in stream:
                shown.append(piece)
        took = time.monotonic() - started
    assert 1.9 <= took < 4, took
    assert str(caught.value).startswith(f"{server.url} did not finish the answer within 2 s")
    assert 5 <= len(shown) < 40
    assert stream.result.text == "".join(shown)  # what is kept is what was shown


def test_the_default_deadline_follows_max_tokens() -> None:
    # 4 pieces a second, 2 s of read timeout: 8 tokens may take 2 + 8 * 0.5 = 6 s.
    server = FakeServer(fakeservers.endless("tok ", interval=0.25))
    with server, RemoteBackend(server.url, read_timeout=2.0) as backend:
        stream = backend.stream_chat(ASK, options=GenerationOptions(max_tokens=8))
        assert stream.read() == "tok " * 8
    assert stream.result.finish_reason == "length"


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_while(action: Callable[[], None]) -> tuple[float, float]:
    """This process's resident memory before ``action`` and at its highest during it (MB)."""
    before = peak = _rss_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.01):
            peak = max(peak, _rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        action()
    finally:
        done.set()
        sampler.join()
    return before, max(peak, _rss_mb())


def test_a_100_mb_body_is_cut_at_the_limit_with_memory_flat() -> None:
    caught: list[RemoteError] = []
    with FakeServer(fakeservers.huge_json(100 << 20)) as server:
        backend = RemoteBackend(server.url, probe=False, model="m")

        def read() -> None:
            try:
                backend.stream_chat(ASK, options=OPTIONS).read()
            except RemoteError as exc:
                caught.append(exc)

        with backend:
            before, peak = _peak_rss_while(read)
    print(f"100 MB body: client RSS {before:.0f} MB before, {peak:.0f} MB at most")
    assert caught
    assert str(caught[0]).startswith(f"{server.url} sent more than 16 MiB for one answer")
    assert peak - before < 40


@pytest.mark.parametrize(
    ("respond", "said"),
    [
        (fakeservers.endless("x", pad=50_000), "more than 16 MiB for one answer"),
        (fakeservers.long_line(100 << 20), "a line longer than 1 MiB"),
    ],
    ids=["100 MB of events", "a 100 MB line"],
)
def test_a_stream_of_100_mb_is_cut_and_what_is_kept_was_shown(
    respond: fakeservers.Respond, said: str
) -> None:
    shown: list[str] = []
    with FakeServer(respond) as server:
        backend = RemoteBackend(server.url, probe=False, model="m")
        with backend:
            stream = backend.stream_chat(ASK, options=GenerationOptions(max_tokens=100_000))

            def read() -> None:
                with pytest.raises(RemoteError) as caught:
                    for piece in stream:
                        shown.append(piece)
                assert said in str(caught.value)
                assert "the partial answer is kept" in str(caught.value)

            before, peak = _peak_rss_while(read)
    print(f"{said}: client RSS {before:.0f} MB before, {peak:.0f} MB at most")
    assert stream.result.text == "".join(shown)
    assert stream.result.finish_reason == "error"
    assert peak - before < 40


def test_credentials_in_the_url_go_in_a_header_only() -> None:
    import base64

    from codenook.redact import redact

    password = "url-pass-5521"
    server = FakeServer(fakeservers.openai(["ok"]))
    url = server.url.replace("http://", f"http://alice:{password}@")
    with server, RemoteBackend(url) as backend:
        backend.stream_chat(ASK, options=OPTIONS).read()
        shown = [backend.url, repr(backend.info)]
    basic = base64.b64encode(f"alice:{password}".encode()).decode()
    assert all(f"authorization: basic {basic}".lower() in h.lower() for h in server.heads)
    assert all(password not in h.split("\r\n", 1)[0] for h in server.heads)
    assert backend.url == server.url
    assert not any(password in s for s in shown)
    assert redact(f"connecting with {password}")[0] == "connecting with [REDACTED]"
    # A server that is down: the message names the address without the password.
    dead = f"http://alice:{password}@127.0.0.1:{fakeservers.free_port()}"
    with pytest.raises(RemoteError) as caught:
        RemoteBackend(dead)
    assert password not in str(caught.value) and password not in caught.value.url
