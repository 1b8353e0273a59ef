"""Serve a model to another machine: llama-cpp-python's OpenAI-compatible server, with
codenook's GPU-layer fit, context length and prompt formats.

The server renders chat prompts with codenook's own formats (the same tokens as in
process), and samples as the in-process backend does. It never listens beyond loopback
without an API key.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codenook.config import ModelSettings
from codenook.engine.backend import Message
from codenook.errors import CodenookError

log = logging.getLogger(__name__)

DEFAULT_PORT = 8642


class ServeError(CodenookError):
    """The server cannot start as asked (no API key off loopback, a port in use, ...)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, api_key: str | None) -> None:
    """Refuse a non-loopback address without an API key (anyone there could use the model)."""
    if not is_loopback(host) and not api_key:
        raise ServeError(
            f"Refusing to listen on {host} without an API key: anyone on that network could "
            "use the model. Give --api-key-file F (a file holding a long random key, e.g. "
            "'openssl rand -hex 24 > F; chmod 600 F'), or listen on 127.0.0.1."
        )


def lan_address() -> str:
    """This machine's address on its network (for the line to paste on the other one)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # UDP: picks the outgoing interface, sends nothing
        return str(s.getsockname()[0])
    return socket.gethostname()


def serve_threads() -> int:
    """llama.cpp threads for serving: on a small machine, one core is left for the server.

    llama.cpp's threads wait for each other by spinning; when the HTTP side pre-empts
    one of them, every step of every token waits a scheduler tick (seconds per token
    on two cores, measured).
    """
    from codenook.engine.llama import default_threads

    cores = default_threads()
    return cores - 1 if 1 < cores <= 4 else cores


def _content(value: Any) -> str:
    """A message's text; OpenAI's list-of-parts form is joined."""
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return "" if value is None else str(value)


def chat_handler(prompts: Any) -> Callable[..., Any]:
    """A llama-cpp-python chat handler that renders and tokenizes with codenook's formats."""
    from llama_cpp.llama_chat_format import _convert_completion_to_chat

    from codenook.engine.llama import SAMPLER

    def handle(
        *,
        llama: Any,
        messages: list[dict[str, Any]],
        stream: bool = False,
        max_tokens: int | None = None,
        temperature: float = 0.2,
        top_p: float = 0.95,
        stop: str | list[str] | None = None,
        seed: int | None = None,
        **_ignored: Any,
    ) -> Any:
        msgs = [
            Message(
                m.get("role") if m.get("role") in ("system", "assistant") else "user",
                _content(m.get("content")),
            )
            for m in messages
        ]
        tokens = prompts.tokenize(prompts.chat_prompt(msgs))
        n_ctx = llama.n_ctx()
        if len(tokens) >= n_ctx:
            # Said as an SSE event: once a stream has started, an exception only cuts it.
            said = f"The prompt is {len(tokens)} tokens but the server's context holds {n_ctx}"
            if stream:
                return iter([{"error": {"message": said, "type": "invalid_request_error"}}])
            raise ValueError(said)
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        stops += [s for s in prompts.chat_stop() if s not in stops]
        # The in-process backend's sampler, so both machines answer alike.
        completion = llama.create_completion(
            **SAMPLER,
            prompt=tokens,
            stream=stream,
            max_tokens=max_tokens,
            temperature=temperature,
            top_p=top_p,
            stop=stops,
            seed=seed,
        )
        return _convert_completion_to_chat(completion, stream=stream)

    return handle


@dataclass
class Served:
    """What ``codenook serve`` runs."""

    app: Any
    name: str
    path: Path
    gpu_layers: int
    context_length: int
    fit_note: str
    chat_note: str


def build_app(model: ModelSettings, *, api_key: str | None) -> Served:
    """The FastAPI app serving ``model`` (the embedded one when the settings name none)."""
    import llama_cpp.server.app as server_app
    from llama_cpp.server.settings import ModelSettings as ServerModel
    from llama_cpp.server.settings import ServerSettings

    from codenook.engine.loader import model_and_layers
    from codenook.engine.prompts import PromptModel

    path, layers, _, note = model_and_layers(model)
    threads = model.threads or serve_threads()
    name = path.stem.split(".")[0] if not model.path else path.stem
    # A CONFIG_FILE in the environment would replace everything set here.
    os.environ.pop("CONFIG_FILE", None)
    model_settings = ServerModel(
        model=str(path),
        model_alias=name,
        n_gpu_layers=layers,
        n_ctx=model.context_length,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=False,
        verbose=False,
    )
    server_settings = ServerSettings(api_key=api_key, interrupt_requests=False)
    app = server_app.create_app(server_settings=server_settings, model_settings=[model_settings])
    llm = server_app._llama_proxy()  # the model create_app loaded
    prompts = PromptModel(llm, chat_format_name=model.chat_format)
    llm.chat_handler = chat_handler(prompts)
    return Served(app, name, path, layers, llm.n_ctx(), note, prompts.formats.describe_chat())


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port), or a ServeError."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ServeError(f"Cannot listen on {host}: {exc}; check the address.") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}): another program may use "
            "that port; pick another with --port."
        ) from exc
    return sock


def run(served: Served, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM). Blocks."""
    import uvicorn

    config = uvicorn.Config(served.app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def url_for(host: str, port: int) -> str:
    """The URL a client on another machine uses for ``host``:``port``."""
    shown = lan_address() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def lines(served: Served) -> Iterator[str]:
    """What the fit and the formats chose, one line each."""
    where = f"{served.gpu_layers} GPU layers" if served.gpu_layers else "the CPU"
    if served.gpu_layers < 0:
        where = "all layers on the GPU"
    yield f"model {served.name} ({served.path.name}), context {served.context_length}, {where}"
    if served.fit_note:
        yield served.fit_note
    if served.chat_note:
        yield served.chat_note
