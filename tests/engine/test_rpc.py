"""llama.cpp's RPC backend: the addresses rpc-server may listen on, and its memory question
asked of a real rpc-server on loopback."""

from __future__ import annotations

import time

import psutil
import pytest

from codenook.engine import rpc
from codenook.engine.rpc import Endpoint, ListenError, RpcError
from codenook.errors import UsageError
from tests.rpcserver import free_port, rpc_server

pytestmark = pytest.mark.timeout(120)


def test_endpoints_parse_and_bad_ones_are_refused() -> None:
    assert rpc.parse_endpoint("192.168.1.20:50052") == Endpoint("192.168.1.20", 50052)
    assert rpc.parse_endpoint(" xeon.local:6000 ") == Endpoint("xeon.local", 6000)
    assert rpc.parse_endpoint("[fd00::2]:50052") == Endpoint("fd00::2", 50052)
    assert str(Endpoint("fd00::2", 50052)) == "[fd00::2]:50052"
    for bad in ("", "host", "host:", ":50052", "host:0", "host:65536", "h:p", "a b:1", "x" * 400):
        with pytest.raises(UsageError, match="HOST:PORT"):
            rpc.parse_endpoint(bad)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "::1", "192.168.1.20", "10.0.0.7", "172.16.5.4", "fd00::2"]
)
def test_loopback_and_private_addresses_may_listen(host: str) -> None:
    rpc.check_listen(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "8.8.8.8", "2001:4860:4860::8888", "1.1.1.1"])
def test_every_and_public_addresses_are_refused_without_the_override(host: str) -> None:
    with pytest.raises(ListenError, match="no password and no encryption"):
        rpc.check_listen(host)
    rpc.check_listen(host, allow_any=True)  # said knowingly: allowed


def test_the_warning_says_what_to_do() -> None:
    private = " ".join(rpc.warning_lines("192.168.1.20", 50052))
    assert "no authentication and no encryption" in private
    assert "ufw allow from MAIN-IP to any port 50052" in private and "ssh -N -L" in private
    loopback = " ".join(rpc.warning_lines("127.0.0.1", 50052))
    assert "ssh -N -L 50052:127.0.0.1:50052" in loopback and "--rpc 127.0.0.1:50052" in loopback


def test_device_memory_of_a_real_rpc_server_is_its_ram() -> None:
    with rpc_server() as (endpoint, _):
        devices = rpc.device_memory(endpoint)
    # The CPU backend reports this machine's RAM: the same total psutil sees.
    assert len(devices) == 1
    d = devices[0]
    assert d.endpoint == endpoint and d.index == 0 and d.label == str(endpoint)
    assert d.total == psutil.virtual_memory().total
    assert 0 < d.free <= d.total


def test_a_host_that_is_down_is_named_at_once() -> None:
    endpoint = Endpoint("127.0.0.1", free_port())
    started = time.monotonic()
    with pytest.raises(RpcError, match=f"rpc-server at {endpoint} is unavailable") as caught:
        rpc.device_memory(endpoint)
    assert time.monotonic() - started < 10
    assert caught.value.down and caught.value.url == str(endpoint)
    assert "connection refused" in str(caught.value)
