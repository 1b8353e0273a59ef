"""A stand-in for the Hugging Face hub on 127.0.0.1, serving files the way the hub does.

``HEAD``/``GET /{repo}/resolve/{revision}/{file}`` answers 302 with the hub's headers
(``X-Repo-Commit``, ``X-Linked-Etag`` = the SHA-256, ``X-Linked-Size``) and a ``Location``
on a second server (another port, so another origin, like the hub's CDN), which serves the
bytes with Range support. Switches let a test drop the connection halfway, lie about the
checksum, or make a repository gated.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFile:
    """One file the fake hub serves."""

    repo: str
    name: str
    data: bytes
    #: Announce this SHA-256 instead of the real one (a corrupted transfer).
    fake_sha256: str | None = None

    @property
    def sha256(self) -> str:
        """The checksum the hub announces."""
        return self.fake_sha256 or hashlib.sha256(self.data).hexdigest()


@dataclass
class HubState:
    """What the fake hub serves and what it saw."""

    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    gated: set[str] = field(default_factory=set)
    #: Drop the connection after this many bytes, for this many GETs.
    drop_after: int | None = None
    drops_left: int = 0
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    bytes_sent: int = 0
    cdn_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, name: str, data: bytes, *, fake_sha256: str | None = None) -> HubFile:
        """Serve ``data`` as ``repo``/``name``."""
        f = HubFile(repo, name, data, fake_sha256)
        self.files[(repo, name)] = f
        return f

    def gets(self, prefix: str = "/cdn/") -> list[dict[str, str]]:
        """Headers of the GET requests for file bytes."""
        return [h for m, p, h in self.requests if m == "GET" and p.startswith(prefix)]


def _handler(state: HubState, *, cdn: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            """Quiet."""

        def _record(self) -> None:
            with state.lock:
                state.requests.append(
                    (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                )

        def _hub(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) < 5 or parts[2] != "resolve":
                self._error(404, "RepoNotFound")
                return
            repo, name = "/".join(parts[:2]), "/".join(parts[4:])
            if repo in state.gated and "authorization" not in {k.lower() for k in self.headers}:
                self._error(401, "GatedRepo")
                return
            f = state.files.get((repo, name))
            if f is None:
                known = any(r == repo for r, _ in state.files)
                self._error(404, "EntryNotFound" if known else "RepoNotFound")
                return
            self.send_response(302)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("X-Linked-Etag", f'"{f.sha256}"')
            self.send_header("X-Linked-Size", str(len(f.data)))
            self.send_header("ETag", '"pointer-etag"')
            self.send_header("Location", f"{state.cdn_url}/cdn/{repo}/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _error(self, status: int, code: str) -> None:
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _cdn(self, *, body: bool) -> None:
            path = self.path.split("?")[0].removeprefix("/cdn/")
            repo, _, name = path.partition("/")
            repo2, _, name = name.partition("/")
            f = state.files.get((f"{repo}/{repo2}", name))
            if f is None:
                self._error(404, "EntryNotFound")
                return
            start = 0
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng.removeprefix("bytes=").split("-")[0])
            payload = f.data[start:]
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(f.data) - 1}/{len(f.data)}")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            if not body:
                return
            with state.lock:
                drop = state.drop_after if state.drops_left > 0 else None
                if drop is not None:
                    state.drops_left -= 1
            if drop is not None:
                cut = max(0, drop - start)
                self.wfile.write(payload[:cut])
                self.wfile.flush()
                with state.lock:
                    state.bytes_sent += cut
                # Vanish mid-body, as a dropped connection does.
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(payload)
            with state.lock:
                state.bytes_sent += len(payload)

        def do_HEAD(self) -> None:
            self._record()
            if cdn:
                self._cdn(body=False)
            else:
                self._hub()

        def do_GET(self) -> None:
            self._record()
            if cdn:
                self._cdn(body=True)
            else:
                self._hub()

    return Handler


@contextmanager
def fake_hub() -> Iterator[tuple[str, HubState]]:
    """Run a fake hub and CDN on loopback; yields (endpoint URL, state)."""
    state = HubState()
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, cdn=True))
    hub = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, cdn=False))
    state.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (cdn, hub)]
    for t in threads:
        t.start()
    try:
        yield f"http://127.0.0.1:{hub.server_address[1]}", state
    finally:
        for s in (hub, cdn):
            s.shutdown()
            s.server_close()
