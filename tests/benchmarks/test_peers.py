"""benchmarks/peers.py's parsing of a peer's output (no timing: the benchmark times)."""

import importlib.util
import sys
from pathlib import Path

import pytest

PEERS = Path(__file__).resolve().parents[2] / "benchmarks" / "peers.py"


@pytest.fixture(scope="module")
def peers():
    spec = importlib.util.spec_from_file_location("peers_bench", PEERS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_sse_text_reads_the_content_pieces_and_stops_at_done(peers) -> None:
    lines = [
        b'data: {"choices":[{"delta":{"role":"assistant"}}]}\n',
        b"\n",
        b'data: {"choices":[{"delta":{"content":"def "}}]}\n',
        b": keep-alive comment\n",
        b'data: {"choices":[{"delta":{"content":"f():"}}]}\n',
        b'data: {"choices":[{"delta":{},"finish_reason":"length"}]}\n',
        b"data: [DONE]\n",
        b'data: {"choices":[{"delta":{"content":"after the end"}}]}\n',
    ]
    assert list(peers.sse_text(lines)) == ["def ", "f():"]


def test_stream_times_skips_empty_pieces_and_keeps_a_piece_s_own_stamp(peers) -> None:
    pieces = ["", peers._Stamped("a", 10.0), "", peers._Stamped("b", 12.5)]
    t = peers.stream_times(pieces, start=9.0)
    assert (t.start, t.first, t.last, t.text) == (9.0, 10.0, 12.5, "ab")
    assert peers.tokens_per_second(t, lambda text: 6) == pytest.approx(2.0)
    assert peers.tokens_per_second(peers.stream_times([], start=1.0), len) is None
