"""Serve a model to another machine: llama-cpp-python's OpenAI-compatible server, with
codenook's GPU-layer fit, context length and prompt formats.

The server renders chat prompts with codenook's own formats (the same tokens as in
process), and samples as the in-process backend does. A completion with a ``suffix``
is a fill-in-the-middle through codenook's own FIM prompt (the vocabulary's marker ids,
as ``codenook complete`` builds it): it ends at a FIM marker and never writes the suffix
again. It never listens beyond loopback
without an API key.

llama-cpp-python's app trusts its clients: it reads any body before checking the key,
answers every web origin, and keeps silent connections forever. So the app runs behind
:func:`guard` (the key, then the body, both bounded before the app sees the request; the
Host header; CORS only for listed origins) on a uvicorn protocol with a deadline for the
request head and a bound on connections (:class:`ServeLimits`, the one place for them).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import ipaddress
import json
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codenook.config import ModelSettings
from codenook.engine.backend import Message
from codenook.engine.fillcut import trim_suffix_repeat
from codenook.errors import CodenookError

log = logging.getLogger(__name__)

DEFAULT_PORT = 8642

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ServeError(CodenookError):
    """The server cannot start as asked (no API key off loopback, a port in use, ...)."""


@dataclass(frozen=True)
class ServeLimits:
    """What one client may take from ``codenook serve``: bytes, seconds and connections."""

    #: Largest request body in bytes; 0: :func:`body_limit` of the model's context.
    max_body: int = 0
    #: Seconds a client has to send a request's head (line and headers) once it starts.
    header_timeout: float = 10.0
    #: Seconds a request's whole body has to arrive in.
    body_timeout: float = 30.0
    #: Seconds an idle keep-alive connection stays open between requests.
    keep_alive: float = 5.0
    #: Connections open at once; more are answered 503 and closed.
    max_connections: int = 16
    #: Largest request head (line and headers) in bytes.
    max_header_bytes: int = 16 * 1024


def body_limit(context_length: int) -> int:
    """The largest request body worth reading for a model with this context (bytes).

    A prompt that fits the context is at most a few bytes a token, even JSON-escaped;
    64 bytes a token leaves ample room, with 1 MiB as the floor.
    """
    return max(1 << 20, context_length * 64)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::", "[::]")


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


# -- the Host header ---------------------------------------------------------------------


def _host_name(value: str) -> str:
    """The name or address in a Host header, without its port."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    name, sep, port = value.rpartition(":")
    return name if sep and port.isdigit() else value


def host_checker(bound: str, allowed: Sequence[str] = ()) -> Callable[[str], bool]:
    """Whether a request's Host header names this server, as bound to ``bound``.

    A web page can reach a server on this machine by a name of its own that resolves to
    127.0.0.1 (DNS rebinding); the browser then sends that name in Host. So only this
    machine's names and addresses pass, and the names in ``allowed``.
    """
    names = {_host_name(a).rstrip(".") for a in allowed if a.strip()}
    names.add("localhost")
    bound_name = _host_name(bound)
    wildcard = _is_wildcard(bound)
    loopback = is_loopback(bound_name)
    if not loopback:
        names.add(bound_name)
        with contextlib.suppress(OSError):
            hostname = socket.gethostname().lower()
            names.update({hostname, f"{hostname}.local", socket.getfqdn().lower()})

    def check(header: str) -> bool:
        name = _host_name(header).rstrip(".")
        if name in names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        if wildcard or address.is_loopback:
            # A rebinding page always uses a name; an address is one of this machine's.
            return wildcard or loopback
        return name == bound_name

    return check


# -- the guard in front of llama-cpp-python's app ----------------------------------------

#: Set while a request is served; llama.cpp's loop checks it once per token.
CLIENT_GONE: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "codenook_client_gone", default=None
)


async def _reply(
    send: Send, status: int, message: str, *, code: str, close: bool, extra: Sequence = ()
) -> None:
    """An OpenAI-style JSON error response."""
    body = json.dumps(
        {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    if close:
        # The body may still be on its way; the connection is dropped instead of read.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class _HostCheck:
    """Refuse requests whose Host header does not name this server (DNS rebinding)."""

    def __init__(self, app: ASGIApp, check: Callable[[str], bool]) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            if host is not None and not self.check(host.decode("latin-1")):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                shown = host.decode("latin-1")[:100]
                await _reply(
                    send,
                    400,
                    f"The Host header {shown!r} does not name this server; a web page may be "
                    "trying to reach it (DNS rebinding). If you use that name, start the "
                    "server with --allow-host NAME.",
                    code="invalid_host",
                    close=True,
                )
                return
        await self.app(scope, receive, send)


class _Gate:
    """The API key checked before any body byte is read; the body read within limits.

    The body is read here, bounded in size and time, and handed on whole; then the
    connection is watched so a client that goes away stops the generation at once.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str | None,
        max_body: int,
        body_timeout: float,
        check_prompt: Callable[[str, Any], str | None] | None,
    ) -> None:
        self.app = app
        self.key = api_key.encode() if api_key else None
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.check_prompt = check_prompt

    def _key_ok(self, scope: Scope) -> bool:
        if self.key is None:
            return True
        given = _header(scope, b"authorization") or b""
        scheme, _, token = given.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self.key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._key_ok(scope):
            await _reply(
                send,
                401,
                "Invalid API key",
                code="invalid_api_key",
                close=True,
                extra=[(b"www-authenticate", b"Bearer")],
            )
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _reply(send, 400, "Bad Content-Length.", code="bad_request", close=True)
                return
            if int(declared) > self.max_body:
                await self._too_large(send)
                return
        body = await self._read_body(receive, send)
        if body is None:
            return
        said = await self._prompt_problem(scope, body)
        if said:
            await _reply(send, 400, said, code="context_length_exceeded", close=False)
            return
        await self._serve(scope, receive, send, body)

    async def _too_large(self, send: Send) -> None:
        await _reply(
            send,
            413,
            f"The request body is larger than this server takes ({self.max_body} bytes).",
            code="request_too_large",
            close=True,
        )

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None when it was refused here (or the client left)."""
        import anyio

        chunks: list[bytes] = []
        size = 0
        outcome = "timeout"
        with anyio.move_on_after(self.body_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    outcome = "large"
                    break
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
        chunks.clear()
        if outcome == "large":
            await self._too_large(send)
        else:
            await _reply(
                send,
                408,
                f"The request body did not arrive within {self.body_timeout:g} s.",
                code="request_timeout",
                close=True,
            )
        return None

    async def _prompt_problem(self, scope: Scope, body: bytes) -> str | None:
        """Why the prompt cannot be answered (too long for the context), said before any answer."""
        if self.check_prompt is None or scope.get("method") != "POST":
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None  # the app says what is wrong with it
        if not isinstance(data, dict):
            return None
        import anyio

        check = self.check_prompt
        path = str(scope.get("path", ""))
        # Tokenizing a long prompt takes a while: not on the event loop.
        return await anyio.to_thread.run_sync(lambda: check(path, data))

    async def _serve(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        import anyio

        gone = threading.Event()
        left = anyio.Event()
        handed = False

        async def replay() -> MutableMapping[str, Any]:
            nonlocal handed
            if not handed:
                handed = True
                return {"type": "http.request", "body": body, "more_body": False}
            await left.wait()
            return {"type": "http.disconnect"}

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            left.set()

        token = CLIENT_GONE.set(gone)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(watch)
                try:
                    await self.app(scope, replay, send)
                finally:
                    tasks.cancel_scope.cancel()
        finally:
            CLIENT_GONE.reset(token)


def guard(
    app: ASGIApp,
    *,
    api_key: str | None,
    host: str,
    limits: ServeLimits,
    max_body: int,
    cors_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    check_prompt: Callable[[str, Any], str | None] | None = None,
) -> ASGIApp:
    """``app`` behind the Host check, CORS for listed origins only, the key and body limits."""
    inner: ASGIApp = _Gate(
        app,
        api_key=api_key,
        max_body=max_body,
        body_timeout=limits.body_timeout,
        check_prompt=check_prompt,
    )
    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        # Outside the key check: a browser's preflight carries no key. No cookies are
        # used, so credentials stay off.
        inner = CORSMiddleware(
            inner,  # type: ignore[arg-type]
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return _HostCheck(inner, host_checker(host, allowed_hosts))


def protocol_class(limits: ServeLimits) -> type:
    """uvicorn's h11 protocol with a deadline for each request head and a connection cap.

    uvicorn times out only idle keep-alive connections: one that never sends, or sends
    half a request line, would stay open forever.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    refusal = (
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
        b"content-length: 29\r\nconnection: close\r\n\r\nToo many connections; retry.\n"
    )

    class GuardedH11Protocol(H11Protocol):  # type: ignore[misc]
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            if len(self.connections) > limits.max_connections:
                transport.write(refusal)
                transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.transport.is_closing():
                self._disarm()
            elif self.cycle is not None and not self.cycle.response_complete:
                self._disarm()  # a whole request head arrived
            elif self._head_timer is None:
                self._arm()  # the next request's head has begun

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._head_timer = self.loop.call_later(limits.header_timeout, self._head_late)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_late(self) -> None:
            self._head_timer = None
            waiting = self.cycle is None or self.cycle.response_complete
            if waiting and not self.transport.is_closing():
                self.transport.close()

    return GuardedH11Protocol


# -- the model side ------------------------------------------------------------------------


def _content(value: Any) -> str:
    """A message's text; OpenAI's list-of-parts form is joined."""
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return "" if value is None else str(value)


def _messages(raw: Sequence[Any]) -> list[Message]:
    """OpenAI messages as codenook's (unknown roles count as the user's)."""
    return [
        Message(
            m.get("role") if m.get("role") in ("system", "assistant") else "user",
            _content(m.get("content")),
        )
        for m in raw
        if isinstance(m, dict)
    ]


def too_long(tokens: int, n_ctx: int) -> str:
    """The message for a prompt that does not fit; the words llama-cpp-python maps to a 400."""
    return (
        f"Requested tokens ({tokens}) exceed context window of {n_ctx}: the prompt is too "
        "long for the model's context; shorten it or start a new conversation."
    )


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
        grammar: Any = None,
        **_ignored: Any,
    ) -> Any:
        tokens = prompts.tokenize(prompts.chat_prompt(_messages(messages)))
        n_ctx = llama.n_ctx()
        if len(tokens) >= n_ctx:
            # The guard refuses this before answering; here only if it could not tell.
            said = too_long(len(tokens), n_ctx)
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
            grammar=grammar,  # the request's GBNF, parsed by llama-cpp-python's server
        )
        return _convert_completion_to_chat(completion, stream=stream)

    return handle


def prompt_checker(llm: Any, prompts: Any) -> Callable[[str, Any], str | None]:
    """Why a request's prompt cannot be answered (longer than the context), or None."""
    n_ctx = llm.n_ctx()

    def check(path: str, data: Any) -> str | None:
        if path.endswith("/chat/completions") and isinstance(data.get("messages"), list):
            count = len(prompts.tokenize(prompts.chat_prompt(_messages(data["messages"]))))
        elif path.endswith("/completions") and "prompt" in data:
            prompt = data["prompt"]
            if isinstance(prompt, list):
                prompt = prompt[0] if prompt else ""
            if isinstance(prompt, list):
                count = len(prompt)  # token ids
            elif isinstance(prompt, str):
                suffix = data.get("suffix") if isinstance(data.get("suffix"), str) else ""
                count = len(llm.tokenize((prompt + suffix).encode("utf-8"), add_bos=True))
            else:
                return None
        else:
            return None
        if count < n_ctx:
            return None
        return (
            f"The prompt is {count} tokens but the model's context holds {n_ctx}: it is too "
            "long; shorten it or start a new conversation."
        )

    return check


def _bound_completion(llm: Any, name: str, prompts: Any) -> Callable[..., Any]:
    """``llm.create_completion`` that stops when the client has gone, names no path, and
    fills a gap through codenook's own FIM prompt.

    llama-cpp-python names the model by its absolute path unless told a name, and a
    non-streamed answer runs to its end even when nobody waits for it. Its own ``suffix``
    path writes FIM marker ids of 0; a request with a ``suffix`` gets the prompt that
    ``codenook complete`` builds (:func:`fill_request`) and only the middle back.
    """
    import llama_cpp

    original = llm.create_completion

    def create_completion(*args: Any, **kwargs: Any) -> Any:
        kwargs["model"] = name
        criteria = llama_cpp.StoppingCriteriaList()
        gone = CLIENT_GONE.get()
        if gone is not None:
            criteria.append(lambda _ids, _logits: gone.is_set())
        suffix = fill_request(prompts, kwargs) if not args else None
        if suffix is not None:
            control, start = prompts.vocab.control_tokens(), len(kwargs["prompt"])
            # A FIM marker written (<|fim_pad|>, <|file_sep|>, <|endoftext|>) ends the
            # middle; the prompt's own last token, <|fim_middle|>, does not.
            criteria.append(lambda ids, _logits: len(ids) > start and int(ids[-1]) in control)
        if criteria:
            criteria.extend(kwargs.get("stopping_criteria") or [])
            kwargs["stopping_criteria"] = criteria
        result = original(*args, **kwargs)
        if suffix is None:
            return result
        if kwargs.get("stream"):
            return _trimmed_chunks(result, suffix)
        return _trimmed_completion(result, suffix)

    return create_completion


def fill_request(prompts: Any, kwargs: dict[str, Any]) -> str | None:
    """Turn a completion request with a ``suffix`` into codenook's FIM prompt, in place.

    Returns the suffix (None: not a fill, or a model without FIM tokens, left as asked).
    The prompt becomes the token ids of the model's FIM format with the vocabulary's own
    marker ids, and the format's stop strings are added to the request's.
    """
    suffix, prefix = kwargs.get("suffix"), kwargs.get("prompt")
    if not isinstance(suffix, str) or not suffix or not isinstance(prefix, str):
        return None
    if not prompts.formats.fill_format:
        return None
    asked = kwargs.get("stop") or []
    stop = [asked] if isinstance(asked, str) else list(asked)
    stop += [s for s in prompts.fill_stop() if s not in stop]
    kwargs.update(
        prompt=prompts.tokenize(prompts.fill_prompt(prefix, suffix)),
        suffix=None,
        stop=stop,
        echo=False,  # the FIM prompt is no text to echo
    )
    return suffix


def _trimmed_completion(result: Any, suffix: str) -> Any:
    """A whole completion cut where it writes the suffix again."""
    choice = result["choices"][0]
    text = choice["text"]
    kept = "".join(piece for piece, _ in trim_suffix_repeat(iter([(text, 0)]), suffix))
    if kept != text:
        choice["text"], choice["finish_reason"] = kept, "stop"
    return result


def _trimmed_chunks(chunks: Iterator[Any], suffix: str) -> Iterator[Any]:
    """Streamed chunks cut where the answer writes the suffix again (generation stops)."""
    last: dict[str, Any] = {}
    ended: list[Any] = []

    def pieces() -> Iterator[tuple[str, int]]:
        try:
            for chunk in chunks:
                last.update(chunk)
                choice = chunk["choices"][0]
                if choice.get("finish_reason"):
                    ended.append(choice["finish_reason"])
                yield choice.get("text") or "", 1
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a cut stops the model

    def chunk(text: str, finish: Any) -> dict[str, Any]:
        choice = {**last["choices"][0], "text": text, "finish_reason": finish, "logprobs": None}
        return {**last, "choices": [choice]}

    for text, _ in trim_suffix_repeat(pieces(), suffix):
        if text:
            yield chunk(text, None)
    if last:
        yield chunk("", ended[-1] if ended else "stop")


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
    limits: ServeLimits
    max_body: int


def build_app(
    model: ModelSettings,
    *,
    api_key: str | None,
    host: str = "127.0.0.1",
    cors_origins: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    limits: ServeLimits | None = None,
) -> Served:
    """The guarded ASGI app serving ``model`` (the embedded one when the settings name none)."""
    import llama_cpp.server.app as server_app
    from llama_cpp.server.settings import ModelSettings as ServerModel
    from llama_cpp.server.settings import ServerSettings
    from starlette.middleware.cors import CORSMiddleware

    from codenook.engine.loader import model_and_layers
    from codenook.engine.prompts import PromptModel

    limits = limits or ServeLimits()
    path, layers, _, note = model_and_layers(model)
    threads = model.threads or serve_threads()
    # The file's name, never its path: a client learns nothing about this machine's folders.
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
    # Its CORS answers every origin, with credentials: any web page could use the model.
    app.user_middleware = [m for m in app.user_middleware if m.cls is not CORSMiddleware]
    # The interactive docs pull their scripts from a CDN; the schema stays, behind the key.
    off = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) not in off]
    llm = server_app._llama_proxy()  # the model create_app loaded
    prompts = PromptModel(llm, chat_format_name=model.chat_format)
    llm.chat_handler = chat_handler(prompts)
    llm.create_completion = _bound_completion(llm, name, prompts)
    max_body = limits.max_body or body_limit(llm.n_ctx())
    guarded = guard(
        app,
        api_key=api_key,
        host=host,
        limits=limits,
        max_body=max_body,
        cors_origins=cors_origins,
        allowed_hosts=allowed_hosts,
        check_prompt=prompt_checker(llm, prompts),
    )
    return Served(
        guarded,
        name,
        path,
        layers,
        llm.n_ctx(),
        note,
        prompts.formats.describe_chat(),
        limits,
        max_body,
    )


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

    limits = served.limits
    config = uvicorn.Config(
        served.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=protocol_class(limits),
        ws="none",
        timeout_keep_alive=max(1, round(limits.keep_alive)),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        # Requests in progress, beyond the connection cap the protocol keeps.
        limit_concurrency=limits.max_connections + 1,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
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
    limits = served.limits
    yield (
        f"limits: request body {served.max_body // 1024} KiB, request head "
        f"{limits.header_timeout:g} s, idle {limits.keep_alive:g} s, "
        f"{limits.max_connections} connections"
    )
