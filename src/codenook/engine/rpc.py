"""llama.cpp's RPC backend: its ``rpc-server``, the addresses it may listen on, and its memory.

``rpc-server`` (built by ``make llama-tools``) exposes a machine's GPU (or CPU) to another
machine's llama.cpp, which places some of a model's layers there. Its protocol has no
authentication and no encryption: whoever reaches the port can allocate memory and run
work on that device. So it listens on loopback or a private network only, unless the user
overrides that knowingly, and says what to do about it.

The memory question speaks the protocol itself (ggml/src/ggml-rpc/ggml-rpc.cpp of the
vendored llama.cpp, protocol 7.x): a request is ``| command (1 byte) | size (u64) | data |``,
an answer ``| size (u64) | data |``, little-endian; a connection starts with HELLO.
``rpc-server`` serves one client at a time, so the question is asked before llama-server
connects, never while a pooled model runs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import struct
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from codenook.engine.remote import RemoteError
from codenook.errors import CodenookError, UsageError

log = logging.getLogger(__name__)

#: rpc-server's own default port.
DEFAULT_PORT = 50052
#: The protocol version this llama.cpp speaks (ggml-rpc.h RPC_PROTO_MAJOR_VERSION).
PROTO_MAJOR = 7
_CMD_GET_DEVICE_MEMORY = 11
_CMD_HELLO = 14
_CMD_DEVICE_COUNT = 15
#: Bytes of the connection capabilities in HELLO (transport.h RPC_CONN_CAPS_SIZE).
_CONN_CAPS = 24
#: Devices one rpc-server may report (bounds what a server can make us ask).
MAX_DEVICES = 16
#: Seconds to wait for an rpc-server's answer before naming it as down.
PROBE_TIMEOUT = 5.0
#: Longest HOST:PORT accepted.
MAX_ENDPOINT = 300


class RpcError(RemoteError):
    """An rpc-server cannot be used; the message names the host and what to check.

    A RemoteError, so a route to a pooled model fails over like any remote backend
    (``url`` is the host's HOST:PORT).
    """


class ListenError(CodenookError):
    """``serve --rpc`` was asked to listen where it must not (a public or every address)."""


@dataclass(frozen=True)
class Endpoint:
    """An rpc-server's address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DeviceMemory:
    """One device an rpc-server exposes, with its free and total memory in bytes."""

    endpoint: Endpoint
    index: int
    free: int
    total: int

    @property
    def label(self) -> str:
        """HOST:PORT, with the device's index when the server has several."""
        return f"{self.endpoint}" if self.index == 0 else f"{self.endpoint}#{self.index}"


def parse_endpoint(text: str) -> Endpoint:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as an Endpoint, or a UsageError."""
    raw = text.strip()
    if not raw or len(raw) > MAX_ENDPOINT or any(c.isspace() or c in "/@," for c in raw):
        raise UsageError(f"{text[:60]!r} is not an rpc-server address; write it as HOST:PORT.")
    host, sep, port = raw.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"{raw!r} is not an rpc-server address; write it as HOST:PORT "
            f"(rpc-server's port is {DEFAULT_PORT} unless it was given another)."
        )
    return Endpoint(host, int(port))


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses ``host`` (an address or a name) stands for."""
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(host.strip("[]"))]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UsageError(
            f"Cannot find the address of {host!r} ({exc}); give an IP address."
        ) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def listen_allowed(host: str) -> bool:
    """Whether ``host`` is loopback or on a private network (RFC 1918, IPv6 ULA, link-local).

    Every-address binds (0.0.0.0, ::) are not: they include the public interfaces.
    """
    addresses = _addresses(host)
    return bool(addresses) and all(
        not a.is_unspecified
        and (a.is_loopback or a.is_private or a.is_link_local)
        and not a.is_multicast
        for a in addresses
    )


def check_listen(host: str, *, allow_any: bool = False) -> None:
    """Refuse to listen on ``host`` unless it is loopback or private (or ``allow_any``)."""
    if allow_any or listen_allowed(host):
        return
    raise ListenError(
        f"Refusing to serve llama.cpp's RPC on {host}: that address is not loopback or a "
        "private network, and the RPC protocol has no password and no encryption, so anyone "
        "who reaches it can use this machine's GPU and memory. Give this machine's private "
        "address (e.g. 192.168.x.y), or 127.0.0.1 with an SSH tunnel; --allow-any-address "
        "overrides this if a firewall already limits who can connect."
    )


def warning_lines(host: str, port: int) -> list[str]:
    """What the person starting an rpc-server must know, and what to do about it."""
    lines = [
        "WARNING: llama.cpp's RPC protocol has no authentication and no encryption. Anyone "
        f"who can connect to {Endpoint(host, port)} can use this machine's GPU and memory.",
    ]
    if listen_allowed(host) and all(a.is_loopback for a in _addresses(host)):
        lines.append(
            "It listens on loopback only: reach it from the main machine through an SSH "
            f"tunnel: ssh -N -L {port}:127.0.0.1:{port} USER@THIS-MACHINE, then use "
            f"--rpc 127.0.0.1:{port} there."
        )
    else:
        lines.append(
            "Let only the main machine in, e.g. with ufw: sudo ufw allow from MAIN-IP to "
            f"any port {port} proto tcp && sudo ufw deny {port}/tcp; or listen on 127.0.0.1 "
            f"and use an SSH tunnel (ssh -N -L {port}:127.0.0.1:{port} USER@THIS-MACHINE)."
        )
    return lines


# -- the protocol -----------------------------------------------------------------------------


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return bytes(data)


def _call(sock: socket.socket, cmd: int, payload: bytes, answer_size: int) -> bytes:
    """Send one command and read its fixed-size answer."""
    sock.sendall(struct.pack("<BQ", cmd, len(payload)) + payload)
    (size,) = struct.unpack("<Q", _recv_exact(sock, 8))
    if size != answer_size:
        raise ConnectionError(f"an answer of {size} bytes where {answer_size} were due")
    return _recv_exact(sock, answer_size)


def down_error(endpoint: Endpoint, exc: BaseException, timeout: float) -> RpcError:
    """The one-line RpcError for an rpc-server that cannot be reached."""
    if isinstance(exc, ConnectionRefusedError):
        why = "connection refused: is 'codenook serve --rpc' running there, on that port?"
    elif isinstance(exc, socket.timeout | TimeoutError):
        why = (
            f"no answer within {timeout:g} s: is the machine on, does its firewall let the "
            "port through, or is another llama.cpp using that rpc-server now?"
        )
    elif isinstance(exc, socket.gaierror):
        why = "its name is not found: check it, or give the IP address"
    else:
        why = f"{exc}: check the machine and the network"
    return RpcError(
        f"The rpc-server at {endpoint} is unavailable ({why}).", url=str(endpoint), down=True
    )


def device_memory(endpoint: Endpoint, *, timeout: float = PROBE_TIMEOUT) -> list[DeviceMemory]:
    """Each device ``endpoint``'s rpc-server exposes, with its free memory (GET_DEVICE_MEMORY).

    An RpcError (``down``) names the host when it cannot be reached within ``timeout``.
    """
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            hello = _call(sock, _CMD_HELLO, bytes(_CONN_CAPS), 4 + _CONN_CAPS)
            major, minor, patch = hello[0], hello[1], hello[2]
            if major != PROTO_MAJOR:
                raise RpcError(
                    f"The rpc-server at {endpoint} speaks RPC protocol {major}.{minor}.{patch}, "
                    f"this llama.cpp {PROTO_MAJOR}.x: build both from the same codenook "
                    "('make llama-tools').",
                    url=str(endpoint),
                )
            (count,) = struct.unpack("<I", _call(sock, _CMD_DEVICE_COUNT, b"", 4))
            found = []
            for index in range(min(count, MAX_DEVICES)):
                answer = _call(sock, _CMD_GET_DEVICE_MEMORY, struct.pack("<I", index), 16)
                free, total = struct.unpack("<QQ", answer)
                found.append(DeviceMemory(endpoint, index, free, total))
            return found
    except RpcError:
        raise
    except (OSError, ConnectionError) as exc:
        raise down_error(endpoint, exc, timeout) from exc


def reachable(endpoint: Endpoint, *, timeout: float = 2.0) -> BaseException | None:
    """None when ``endpoint`` accepts a TCP connection, else why not.

    Only a connection, never a command: it may be serving llama-server right now.
    """
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            return None
    except OSError as exc:
        return exc


# -- the server -------------------------------------------------------------------------------


def server_command(
    tool: Path, host: str, port: int, *, threads: int | None = None, cache: bool = False
) -> list[str]:
    """The rpc-server command line: its devices on ``host``:``port``."""
    cmd = [str(tool), "--host", host, "--port", str(port)]
    if threads:
        cmd += ["--threads", str(threads)]
    if cache:
        cmd.append("--cache")
    return cmd


def start_server(
    host: str,
    port: int,
    *,
    threads: int | None = None,
    cache: bool = False,
    wait: float = 30.0,
    output: int | IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    """Start an rpc-server and wait until it answers; a CodenookError says why it did not.

    ``output`` takes its stdout and stderr (default: this process's).
    """
    from codenook.engine.llamatools import tool_path

    cmd = server_command(tool_path("rpc-server"), host, port, threads=threads, cache=cache)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    endpoint = Endpoint("127.0.0.1" if host in ("0.0.0.0", "") else host, port)
    endpoint = Endpoint("::1", port) if host == "::" else endpoint
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise CodenookError(
                f"rpc-server stopped at start (exit {proc.returncode}): is port {port} in use, "
                f"or is {host} not an address of this machine?"
            )
        if reachable(endpoint, timeout=0.5) is None:
            return proc
        time.sleep(0.1)
    stop_server(proc)
    raise CodenookError(f"rpc-server did not start listening on {endpoint} within {wait:g} s.")


def stop_server(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """Stop an rpc-server (or llama-server) this process started."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory_of(
    endpoints: Sequence[Endpoint], *, timeout: float = PROBE_TIMEOUT
) -> list[DeviceMemory]:
    """Every device of every rpc-server in ``endpoints``, in order."""
    return [d for e in endpoints for d in device_memory(e, timeout=timeout)]
