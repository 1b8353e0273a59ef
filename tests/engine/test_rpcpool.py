"""A pooled model on loopback: llama-server with half of the embedded model's layers on a
real rpc-server (CPU backend), against the same model in process; faults named by host."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook import config
from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.engine.remote import RemoteError
from codenook.engine.rpc import RpcError
from codenook.engine.rpcpool import PooledBackend, PoolSpec
from codenook.library import routing
from tests.rpcserver import rpc_server

pytestmark = pytest.mark.timeout(300)

OPTS = GenerationOptions(max_tokens=24, temperature=0.0, seed=1)
PROMPTS = (
    "def fibonacci(n):\n",
    "The capital of France is",
    "# A Bash loop over the files in a folder\nfor f in",
    "A list comprehension in Python",
    "import os\n\ndef list_python_files(folder):\n    ",
)


@pytest.fixture(scope="module")
def half_pool() -> Iterator[PooledBackend]:
    """The embedded model (30 layers) with layers 15-29 and the output on the rpc-server."""
    with rpc_server() as (endpoint, _):
        spec = PoolSpec(
            "half",
            embedded_model_path(),
            (endpoint,),
            context_length=2048,
            gpu_layers=15,
            threads=1,
        )
        backend = PooledBackend(spec)
        yield backend
        backend.close()


def test_half_of_the_layers_go_to_the_rpc_server(half_pool: PooledBackend) -> None:
    plan = half_pool.plan
    assert plan.layers == 30 and plan.cpu_layers == 15
    assert [(s.layers, s.first, s.remote) for s in plan.shares] == [(15, 15, True)]
    # llama.cpp's own report: 15 repeating layers and the output layer on the RPC device.
    log = Path(half_pool._log.name).read_text(errors="replace")
    assert "offloaded 16/31 layers to GPU" in log
    assert f"RPC0[{half_pool.spec.rpc[0]}]" in log or "RPC0" in log
    assert half_pool.info.backend.startswith("pool half (SmolLM2-135M-Instruct.Q4_1.gguf: ")


def test_temperature_zero_answers_are_the_local_models(
    half_pool: PooledBackend, embedded_backend: LlamaBackend
) -> None:
    for prompt in PROMPTS:
        local = "".join(embedded_backend.stream_completion(prompt, options=OPTS))
        pooled = "".join(half_pool.stream_completion(prompt, options=OPTS))
        assert local.strip(), prompt
        assert pooled == local, prompt


def _local(_: config.Settings) -> LlamaBackend:
    return LlamaBackend(embedded_model_path(), context_length=2048, threads=2, embedded=True)


def _pool_settings(endpoint: str, *, failover: bool) -> config.Settings:
    routing.add_pool("both", [endpoint], str(embedded_model_path()), context_length=2048)
    routing.set_route("ask", "both")
    routing.set_failover(failover)
    return config.load_settings()


def test_a_host_down_at_start_is_named_and_failed_over_when_allowed() -> None:
    with rpc_server() as (endpoint, _):
        pass  # it was there; now nothing listens on its port
    settings = _pool_settings(str(endpoint), failover=False)
    started = time.monotonic()
    with pytest.raises(RemoteError, match=f"rpc-server at {endpoint} is unavailable") as caught:
        routing.open_for_job(settings, "ask", local=_local)
    assert time.monotonic() - started < 10
    assert caught.value.down and "routing.failover = true" in str(caught.value)
    notes: list[str] = []
    settings = _pool_settings(str(endpoint), failover=True)
    backend = routing.open_for_job(settings, "ask", local=_local, on_note=notes.append)
    with backend:
        assert f"failover: {endpoint} was unavailable" in backend.info.backend
        assert backend.info.local
    assert notes and str(endpoint) in notes[0]


def test_a_host_killed_mid_answer_keeps_the_partial_and_fails_over(db, users) -> None:
    from codenook.assist.session import ChatSession
    from codenook.store import conversations

    with rpc_server() as (endpoint, server):
        settings = _pool_settings(str(endpoint), failover=True)
        backend = routing.open_for_job(settings, "ask", local=_local)
        try:
            session = ChatSession(
                db, users[0], backend, GenerationOptions(max_tokens=200, temperature=0.0)
            )
            seen: list[str] = []
            killed: list[float] = []

            def on_text(piece: str) -> None:
                seen.append(piece)
                if len(seen) == 3:
                    server.send_signal(signal.SIGKILL)
                    killed.append(time.monotonic())

            with pytest.raises(RpcError) as caught:
                session.send("Write a long story about a lighthouse keeper.", on_text=on_text)
            assert time.monotonic() - killed[0] < 10
            said = str(caught.value)
            assert said.startswith(f"The rpc-server at {endpoint} stopped answering mid-answer")
            assert "The partial answer is kept." in said
            rows = conversations.messages(db, users[0].id, session.conversation_id)
            answer = rows[-1]
            assert answer.role == "assistant" and answer.content.startswith("".join(seen[:3]))
            assert not answer.complete and answer.figures["finish_reason"] == "error"
            # The next question finds the host still gone: the local model answers.
            again = session.send("Say hello.", on_text=lambda _: None)
            assert again.result.text.strip()
            assert f"failover: {endpoint} was unavailable" in again.backend
        finally:
            backend.close()
