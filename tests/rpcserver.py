"""A real llama.cpp rpc-server (CPU backend) on a free loopback port, for the pool tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator

from codenook.engine import rpc


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def rpc_server(threads: int = 1) -> Iterator[tuple[rpc.Endpoint, subprocess.Popen[bytes]]]:
    """rpc-server on 127.0.0.1 (its CPU as the device), stopped at the end."""
    port = free_port()
    proc = rpc.start_server("127.0.0.1", port, threads=threads, output=subprocess.DEVNULL)
    try:
        yield rpc.Endpoint("127.0.0.1", port), proc
    finally:
        rpc.stop_server(proc)
