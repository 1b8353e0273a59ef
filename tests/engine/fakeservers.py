"""Misbehaving servers on 127.0.0.1 for the remote backend's fault tests: real sockets.

``FakeServer(respond)`` accepts connections on a free loopback port and hands each parsed
request to ``respond(server, conn, method, path, body)``. The responders below cover a
server that never answers, one that answers garbage, an HTTP error status, a small
OpenAI-compatible stream that can stop halfway or go slowly, and servers that never stop:
an endless stream, keep-alive comments only, a huge body, a line with no end.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

Respond = Callable[["FakeServer", socket.socket, str, str, bytes], None]
MODEL = "fake-model"


def free_port() -> int:
    """A loopback port where nothing listens (bound once, then released unlistened)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _read_request(conn: socket.socket) -> tuple[str, str, bytes, str] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, path, body, head.decode("latin-1")


class FakeServer:
    """A threaded loopback server whose behaviour is one function."""

    def __init__(self, respond: Respond, *, greeting: bytes = b"") -> None:
        self.respond = respond
        #: Sent as soon as a connection is accepted (a plain-HTTP answer to a TLS hello).
        self.greeting = greeting
        self.stopping = threading.Event()
        self.requests: list[tuple[str, str, bytes]] = []
        #: The request heads (request line and headers), in order.
        self.heads: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)  # so stop() is not left waiting in accept()
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            if self.greeting:
                conn.sendall(self.greeting)
            while not self.stopping.is_set():
                request = _read_request(conn)
                if request is None:
                    break
                method, path, body, head = request
                self.requests.append((method, path, body))
                self.heads.append(head)
                self.respond(self, conn, method, path, body)
        with contextlib.suppress(OSError):
            conn.close()

    def stop(self) -> None:
        """Close the listening socket and every connection."""
        self.stopping.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def send_response(
    conn: socket.socket, status: int, body: bytes, *, ctype: str = "application/json"
) -> None:
    """One complete HTTP/1.1 response that keeps the connection open."""
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    conn.sendall(head + body)


def reset(conn: socket.socket) -> None:
    """Drop the connection abruptly (an RST, as a killed process leaves)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def silent(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes) -> None:
    """Accept the request and never answer."""
    server.stopping.wait()


def garbage(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes) -> None:
    """Answer 200 with a web page instead of JSON."""
    send_response(conn, 200, b"<html><body>It works!</body></html>", ctype="text/html")


def status(code: int, message: str = "something broke") -> Respond:
    """Answer every request with HTTP ``code`` and an OpenAI-style error body."""

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        payload = json.dumps({"error": {"message": message, "code": code}}).encode()
        send_response(conn, code, payload)

    return respond


def chunk(text: str, finish: str | None = None) -> bytes:
    """One chat-completion SSE event."""
    data: dict[str, Any] = {
        "object": "chat.completion.chunk",
        "choices": [
            {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
        ],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


def openai(
    pieces: list[str],
    *,
    models: tuple[str, ...] = (MODEL,),
    die_after: int | None = None,
    delay: float = 0.0,
    delay_from: int = 0,
    sse_garbage: bool = False,
) -> Respond:
    """A tiny OpenAI-compatible server: lists ``models``, streams ``pieces`` to any POST.

    ``die_after`` drops the connection (RST) after that many pieces; ``delay`` waits
    before each piece from number ``delay_from`` on; ``sse_garbage`` sends an event
    whose data is not JSON.
    """

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        if method == "GET" and path.endswith("/models"):
            listing = {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
            send_response(conn, 200, json.dumps(listing).encode())
            return
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
        )
        if sse_garbage:
            conn.sendall(b"data: <html>oops</html>\n\n")
            server.stopping.wait(1)
            conn.close()
            return
        for n, text in enumerate(pieces):
            if die_after is not None and n == die_after:
                time.sleep(0.3)  # let the client read what was sent: an RST discards it
                reset(conn)
                return
            if delay and n >= delay_from and server.stopping.wait(delay):
                return
            conn.sendall(chunk(text))
        conn.sendall(chunk("", "stop") + b"data: [DONE]\n\n")
        time.sleep(0.05)
        conn.close()

    return respond


def _sse_head(conn: socket.socket) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )


def endless(
    piece: str = "tok ", *, interval: float = 0.0, pad: int = 0, sent: list[int] | None = None
) -> Respond:
    """An OpenAI-compatible server that streams ``piece`` forever, whatever max_tokens says.

    ``pad`` adds that many bytes of filler to each event (a field no client reads);
    ``sent`` (if given) gets the number of events sent once the client has gone.
    """

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        if method == "GET":
            listing = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
            send_response(conn, 200, json.dumps(listing).encode())
            return
        _sse_head(conn)
        event = chunk(piece)
        if pad:
            data = json.loads(event[len(b"data: ") :])
            data["pad"] = "x" * pad
            event = f"data: {json.dumps(data)}\n\n".encode()
        count = 0
        try:
            while not server.stopping.is_set():
                conn.sendall(event)
                count += 1
                if interval:
                    server.stopping.wait(interval)
        except OSError:
            pass  # the client stopped reading: what this server is here to show
        if sent is not None:
            sent.append(count)
        with contextlib.suppress(OSError):
            conn.close()

    return respond


def pings(interval: float = 0.1) -> Respond:
    """A server that starts a stream and then sends only keep-alive comments, forever."""

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        if method == "GET":
            listing = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
            send_response(conn, 200, json.dumps(listing).encode())
            return
        _sse_head(conn)
        with contextlib.suppress(OSError):
            while not server.stopping.wait(interval):
                conn.sendall(b": ping\n\n")

    return respond


def huge_json(size: int) -> Respond:
    """A server that ignores "stream" and answers one JSON body of ``size`` bytes."""

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        head = b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "'
        tail = b'"}, "finish_reason": "stop"}]}'
        filler = size - len(head) - len(tail)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
            + head
        )
        block = b"x" * (1 << 20)
        with contextlib.suppress(OSError):
            while filler > 0 and not server.stopping.is_set():
                conn.sendall(block[: min(filler, len(block))])
                filler -= len(block)
            conn.sendall(tail)

    return respond


def long_line(size: int) -> Respond:
    """A server whose stream is one ``data:`` line of ``size`` bytes with no end."""

    def respond(server: FakeServer, conn: socket.socket, method: str, path: str, body: bytes):
        _sse_head(conn)
        block = b"x" * (1 << 20)
        with contextlib.suppress(OSError):
            conn.sendall(b'data: {"pad": "')
            for _ in range(size // len(block)):
                conn.sendall(block)

    return respond
