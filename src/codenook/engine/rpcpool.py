"""A pooled model: one GGUF split over this machine and other machines' rpc-servers.

llama-cpp-python 0.3.36's ``Llama`` no longer takes ``rpc_servers``, so codenook runs
llama.cpp's own ``llama-server`` (built by ``make llama-tools`` from the very llama.cpp that
llama-cpp-python vendors) on loopback with ``--rpc``, ``-ngl`` and ``--tensor-split`` from
the pool planner (:func:`codenook.engine.fit.plan_pool`), and speaks to it through the
OpenAI-compatible :class:`RemoteBackend`: streaming, limits, cancel and failover as for any
server. What is added here: the plan, the process, and faults named by host.

Faults: an rpc-server down at start is named before llama-server starts (``down``, so a
route fails over); one that dies mid-answer makes llama-server abort, the answer's
connection breaks at once, and the error names the host that no longer answers; the
partial answer is kept as for any broken answer. The next request finds llama-server
gone, starts it again if every host answers, else fails as ``down`` (and over, if allowed).
"""

from __future__ import annotations

import logging
import os
import resource
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codenook.engine import rpc
from codenook.engine.fit import (
    ModelFigures,
    PoolDevice,
    PoolPlan,
    figures_from_metadata,
    plan_pool,
)
from codenook.engine.remote import FILL_CHAT, Extract, RemoteBackend, RemoteError
from codenook.engine.rpc import DeviceMemory, Endpoint, RpcError
from codenook.errors import ModelError
from codenook.redact import register_secret

log = logging.getLogger(__name__)

#: Seconds llama-server may take to load; a slow network link carries ~100 MB/s, so a big
#: model's share to an rpc-server adds its size at that rate.
START_SECONDS = 60.0
NETWORK_BYTES_S = 100e6
#: Seconds to wait for llama-server to end after an answer broke (it aborts on a lost host).
EXIT_WAIT = 3.0
#: Seconds a reachability probe of an rpc-server may take when naming the lost one.
FAULT_PROBE = 2.0
#: Lines of llama-server's log kept to explain a failed start.
LOG_TAIL = 8


@dataclass(frozen=True)
class PoolSpec:
    """A pooled model: its file, its rpc-servers, and how llama-server runs it."""

    name: str
    model: Path
    rpc: tuple[Endpoint, ...]
    context_length: int = 4096
    #: Layers to put on the devices; None: as many as fit (the planner's choice).
    gpu_layers: int | None = None
    threads: int | None = None
    read_timeout: float = 120.0
    fill: str = FILL_CHAT


def plan_for(
    spec: PoolSpec,
    *,
    figures: ModelFigures | None = None,
    memory: list[DeviceMemory] | None = None,
    local: list[PoolDevice] | None = None,
    ram_available: int | None = None,
) -> PoolPlan:
    """The layer plan for ``spec``: asks each rpc-server for its memory unless ``memory``.

    ``figures``: another model's (default: the pool's file). ``local`` are this machine's
    GPUs (default: detected). An RpcError names a host that does not answer; a ModelError
    a file that is not a usable GGUF model.
    """
    from codenook.engine import hardware
    from codenook.engine.fit import local_pool_devices
    from codenook.engine.gguf_meta import read_metadata

    if figures is None:
        try:
            figures = figures_from_metadata(read_metadata(spec.model))
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot plan a pool for {spec.model}: {exc}") from exc
    memory = rpc.memory_of(spec.rpc) if memory is None else memory
    if local is None or ram_available is None:
        hw = hardware.detect()
        local = local_pool_devices(hw) if local is None else local
        ram_available = hw.ram_available_bytes if ram_available is None else ram_available
    devices = [PoolDevice(d.label, d.free, remote=True) for d in memory] + local
    return plan_pool(
        figures,
        devices,
        context=spec.context_length,
        ram_available=ram_available,
        layers=spec.gpu_layers,
    )


def server_command(tool: Path, spec: PoolSpec, plan: PoolPlan, port: int) -> list[str]:
    """llama-server's command line for ``spec`` laid out as ``plan``, on loopback ``port``.

    Flash attention and the KV cache type of the in-process model, one slot, and no
    automatic fit (the plan decides): the same arithmetic as the in-process model, so the
    same layers mean the same answers.
    """
    from codenook.engine.llama import DEFAULT_KV_CACHE, default_threads

    cmd = [
        str(tool),
        *("--model", str(spec.model), "--alias", spec.name),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--rpc", ",".join(str(e) for e in spec.rpc)),
        *("--n-gpu-layers", str(plan.gpu_layers)),
        *("--ctx-size", str(spec.context_length), "--parallel", "1"),
        *("--threads", str(spec.threads or default_threads())),
        *("--flash-attn", "on", "--fit", "off", "--no-warmup"),
        *("--cache-type-k", DEFAULT_KV_CACHE, "--cache-type-v", DEFAULT_KV_CACHE),
        # Its log says where each layer went (a few lines a request, none a token).
        *("--log-verbosity", "4"),
    ]
    if plan.gpu_layers:
        cmd += ["--tensor-split", ",".join(str(n) for n in plan.tensor_split)]
    return cmd


def _no_core_dump() -> None:
    """In the child before exec: an aborted llama-server leaves no core file behind."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PooledBackend(RemoteBackend):
    """A pooled model behind its own llama-server on loopback (started here, stopped on close)."""

    def __init__(self, spec: PoolSpec, *, plan: PoolPlan | None = None) -> None:
        self.spec = spec
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="codenook-pool-", suffix=".log")  # noqa: SIM115
        self._restart_lock = threading.Lock()
        self._key = secrets.token_hex(24)
        register_secret(self._key)
        self.plan = plan or plan_for(spec)
        port = self._start(self.plan)
        try:
            super().__init__(
                f"http://127.0.0.1:{port}",
                api_key=self._key,
                model=spec.name,
                name=spec.name,
                read_timeout=spec.read_timeout,
                context_length=spec.context_length,
                fill=spec.fill,
            )
        except BaseException:
            self._stop()
            raise
        self.info = self._pool_info()

    # -- the process -------------------------------------------------------------------

    def _start(self, plan: PoolPlan) -> int:
        """Start llama-server as ``plan`` says and wait for it to load; its port."""
        from codenook.engine.llamatools import tool_path

        if plan.gpu_layers == 0:
            raise ModelError(
                f"Pool {self.spec.name}: no layer of {self.spec.model.name} fits on its "
                f"devices ({plan.sentence}); it would run on this machine's CPU alone."
            )
        port = _free_port()
        cmd = server_command(tool_path("llama-server"), self.spec, plan, port)
        log.info("pool %s: %s", self.spec.name, " ".join(cmd))
        self._log.seek(0)
        self._log.truncate()
        # On a lost host llama.cpp aborts: at once, without a debugger's backtrace or a core.
        # A key of its own (in its environment, which only this user can read): on loopback
        # any local program, or a web page in a browser, could otherwise use the server.
        env = {**os.environ, "GGML_NO_BACKTRACE": "1", "LLAMA_API_KEY": self._key}
        self._proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_no_core_dump,
        )
        self._wait_ready(port, plan)
        return port

    def _wait_ready(self, port: int, plan: PoolPlan) -> None:
        """Wait until llama-server answers /health; name the host if it fails to load."""
        import httpx2

        remote_bytes = sum(s.bytes for s in plan.shares if s.remote)
        wait = START_SECONDS + remote_bytes / NETWORK_BYTES_S
        deadline = time.monotonic() + wait
        url = f"http://127.0.0.1:{port}/health"
        proc = self._proc
        assert proc is not None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise self._start_error(proc.returncode)
            try:
                if httpx2.get(url, timeout=1.0, trust_env=False).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        self._stop()
        raise RpcError(
            f"Pool {self.spec.name}: llama-server did not load {self.spec.model.name} within "
            f"{wait:.0f} s: {self._log_tail() or 'no output'}",
            url=self.spec.name,
            down=True,
        )

    def _log_tail(self) -> str:
        try:
            lines = Path(self._log.name).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip() for line in lines[-LOG_TAIL:] if line.strip())[-600:]

    def _lost_host(self) -> tuple[Endpoint, BaseException] | None:
        """The first of the pool's rpc-servers that no longer accepts a connection."""
        for endpoint in self.spec.rpc:
            why = rpc.reachable(endpoint, timeout=FAULT_PROBE)
            if why is not None:
                return endpoint, why
        return None

    def _start_error(self, code: int | None) -> RemoteError:
        """Why llama-server stopped while loading: a lost host by name, else its log."""
        lost = self._lost_host()
        if lost is not None:
            return rpc.down_error(lost[0], lost[1], FAULT_PROBE)
        return RemoteError(
            f"Pool {self.spec.name}: llama-server stopped while loading (exit {code}): "
            f"{self._log_tail() or 'no output'}",
            url=self.spec.name,
            down=True,
        )

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            rpc.stop_server(proc)

    def _ensure_running(self) -> None:
        """Start llama-server again after it stopped (a host was lost); ``down`` if it cannot."""
        with self._restart_lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                return
            # Asking each host first names one that is still down, before a long load.
            self.plan = plan_for(self.spec)
            port = self._start(self.plan)
            self._client.base_url = f"http://127.0.0.1:{port}/v1"
            self.url = f"http://127.0.0.1:{port}"
            self.info = self._pool_info()

    # -- answers ---------------------------------------------------------------------

    def _pool_info(self) -> Any:
        hosts = ", ".join(f"{s.device} {s.span}" for s in self.plan.shares if s.layers)
        cpu = f", CPU layers 0–{self.plan.cpu_layers - 1}" if self.plan.cpu_layers else ""
        return replace(
            self.info,
            path=str(self.spec.model),
            name=self.spec.name,
            backend=f"pool {self.spec.name} ({self.spec.model.name}: {hosts}{cpu})",
            layer_count=self.plan.layers,
            gpu_layers=self.plan.gpu_layers,
            device=", ".join(str(e) for e in self.spec.rpc),
        )

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        extract: Extract,
        prompt_tokens: int,
        *,
        wrap: Callable[[Iterator[tuple[str, int]]], Iterator[tuple[str, int]]] | None = None,
    ) -> Any:
        self._require_open()
        self._ensure_running()

        def named(pieces: Iterator[tuple[str, int]]) -> Iterator[tuple[str, int]]:
            try:
                yield from wrap(pieces) if wrap else pieces
            except RemoteError as exc:
                raise self._fault(exc) from exc

        try:
            return super()._stream(path, body, extract, prompt_tokens, wrap=named)
        except RemoteError as exc:
            raise self._fault(exc, started=False) from exc

    def _fault(self, exc: RemoteError, *, started: bool = True) -> RemoteError:
        """``exc`` said by host: the rpc-server that was lost, or llama-server's own end."""
        proc = self._proc
        if proc is None or (proc.poll() is None and not (started or exc.down)):
            return exc  # an answer from a running llama-server (context, limits, ...)
        try:
            proc.wait(EXIT_WAIT)  # it aborts when it loses a host: give it a moment
        except subprocess.TimeoutExpired:
            return exc
        # Only now are the hosts asked: a busy rpc-server queues connections (two at most).
        lost = self._lost_host()
        kept = " The partial answer is kept." if started else ""
        if lost is not None:
            endpoint, why = lost
            return RpcError(
                f"The rpc-server at {endpoint} stopped answering "
                f"{'mid-answer' if started else 'before the answer'} ({why}); the pooled "
                f"model {self.spec.name} stopped.{kept} Check that machine, or answer "
                "locally (codenook backends failover on).",
                url=str(endpoint),
                down=not started,
            )
        return RemoteError(
            f"The pooled model {self.spec.name}'s llama-server stopped (exit "
            f"{proc.returncode}).{kept} {self._log_tail()}",
            url=self.spec.name,
            down=not started,
        )

    def close(self) -> None:
        """Stop any answer, then llama-server."""
        if self._closed:
            return
        super().close()
        self._stop()
        self._log.close()
