"""A model on another machine, behind an OpenAI-compatible HTTP API (streamed with SSE).

Works against ``codenook serve`` (llama-cpp-python's server), llama.cpp's own server,
Ollama's ``/v1`` and vLLM. Every failure becomes a :class:`RemoteError` whose one line
names the server and what to check; ``down`` says the server never took the request (so
the caller may answer with the local model instead).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx2

from codenook.engine.backend import (
    Backend,
    FinishReason,
    GenerationOptions,
    Message,
    ModelInfo,
    StreamResult,
    TokenStream,
)
from codenook.engine.fillcut import trim_suffix_repeat
from codenook.errors import GenerationError
from codenook.redact import register_secret

log = logging.getLogger(__name__)

#: How fill-in-the-middle reaches a server: none ("chat": the complete job asks through the
#: chat endpoint in its own words), the completions endpoint's ``suffix`` field (Ollama,
#: llama-cpp-python), or one of codenook's FIM formats named, sent as a raw prompt to the
#: completions endpoint.
FILL_CHAT = "chat"
FILL_SUFFIX = "suffix"
#: Characters per token assumed where the server cannot count (code runs at 3 to 4).
CHARS_PER_TOKEN = 3.0
#: Tokens a chat message costs beyond its text (role markers).
MESSAGE_OVERHEAD = 8
_ERROR_BODY = 300
#: Bytes one answer may take from the server, whatever it says it sends.
MAX_ANSWER_BYTES = 16 << 20
#: Bytes one line of a streamed answer (one event) may take.
MAX_LINE_BYTES = 1 << 20
#: Bytes kept of an error answer or a model listing.
MAX_SMALL_BODY = 1 << 20
#: Characters one token may bring; a server that sends more per piece is cut.
MAX_TOKEN_CHARS = 64
#: Seconds a token may take, for the default deadline of a whole answer (a slow CPU
#: server makes 2 to 5 tokens a second).
SECONDS_PER_TOKEN = 0.5

Extract = Callable[[dict[str, Any]], tuple[str, str | None]]


class RemoteError(GenerationError):
    """A remote server failed; the message names the server and what to check."""

    def __init__(self, message: str, *, url: str, down: bool = False) -> None:
        super().__init__(message)
        self.url = url
        #: The server never took the request (refused, unknown host, TLS, timeout).
        self.down = down


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without a ``user:password@`` part, and that part (None when it has none).

    The password (or a lone user name, which some servers take as a token) is registered
    as a secret, so no log line can carry it.
    """
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url, None
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    user, password = urllib.parse.unquote(user), urllib.parse.unquote(password)
    for secret in (password, userinfo) if password else (user, userinfo):
        if secret:
            register_secret(secret)
    return urllib.parse.urlunsplit(parts._replace(netloc=hostport)), (user, password)


def display_url(url: str) -> str:
    """The server's address as a person writes it: no credentials, no trailing slash, no ``/v1``."""
    url = split_credentials(url)[0].rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def api_base(url: str) -> str:
    """The OpenAI-compatible API root for ``url`` (``/v1`` added when missing)."""
    return display_url(url) + "/v1"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _server_message(body: str) -> str:
    """The error text of a server's answer: OpenAI's error.message, FastAPI's detail, or raw."""
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        data = json.loads(body)
        if isinstance(data, dict):
            err = data.get("error", data.get("detail"))
            if isinstance(err, dict):
                err = err.get("message", err)
            if err:
                return " ".join(str(err).split())[:_ERROR_BODY]
    return " ".join(body.split())[:_ERROR_BODY] or "no details"


class _Overflow(Exception):
    """The server sent more than a limit allows (the message says which)."""


class _Watch:
    """Stops an answer at its deadline, or when only keep-alive lines come for ``idle`` s.

    Runs in its own thread: the reading thread is blocked in the socket, so ``shut``
    (which shuts the socket) is how the stop reaches it.
    """

    def __init__(self, shut: Callable[[], None], *, deadline: float, idle: float) -> None:
        self.deadline = deadline
        self.idle = idle
        #: Why the answer was stopped: "deadline", "idle", or None.
        self.reason: str | None = None
        self._shut = shut
        self._start = self._last = time.monotonic()
        self._bytes_since_text = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="codenook-answer-watch", daemon=True)
        self._thread.start()

    def text(self) -> None:
        """Text arrived: the idle clock starts again."""
        self._last = time.monotonic()
        self._bytes_since_text = False

    def bytes(self) -> None:
        """Bytes arrived (maybe only a keep-alive comment): the idle clock goes on."""
        self._bytes_since_text = True

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            end, idle_end = self._start + self.deadline, self._last + self.idle
            if now >= end:
                self.reason = "deadline"
                break
            # Total silence is the HTTP read timeout's to report; here only pings count.
            if now >= idle_end and self._bytes_since_text:
                self.reason = "idle"
                break
            wait = min(end, idle_end) - now if now < idle_end else min(end - now, 0.25)
            if self._done.wait(max(wait, 0.01)):
                return
        self._shut()

    def stop(self) -> None:
        """The answer ended: the watch ends too."""
        self._done.set()


class _Pieces:
    """The text pieces of one streamed response; ``close()`` releases it even if never read."""

    def __init__(self, gen: Iterator[tuple[str, int]], release: Callable[[], None]) -> None:
        self._gen = gen
        self._release = release

    def __iter__(self) -> _Pieces:
        return self

    def __next__(self) -> tuple[str, int]:
        return next(self._gen)

    def close(self) -> None:
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()
        self._release()


class RemoteBackend(Backend):
    """A model served over an OpenAI-compatible API (chat completions and completions)."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        model: str = "",
        name: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 120.0,
        context_length: int = 4096,
        fill: str = FILL_CHAT,
        probe: bool = True,
        credentials: tuple[str, str] | None = None,
        answer_timeout: float | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        super().__init__()
        # Credentials in the URL go in a header, never in a shown or stored address.
        url, in_url = split_credentials(url)
        credentials = in_url or credentials
        self.url = display_url(url)
        self.name = name
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        #: Seconds a whole answer may take; None: read_timeout plus SECONDS_PER_TOKEN a token.
        self.answer_timeout = answer_timeout
        self.max_answer_bytes = max_answer_bytes
        self.max_line_bytes = max_line_bytes
        if api_key:
            register_secret(api_key)  # blanked in any log line, whoever writes it
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # A server behind a proxy that wants a user and password (unless a key is given).
        auth = httpx2.BasicAuth(*credentials) if credentials and not api_key else None
        # trust_env off: a proxy from the environment must not see a LAN server's key.
        self._client = httpx2.Client(
            base_url=api_base(url),
            headers=headers,
            auth=auth,
            timeout=httpx2.Timeout(read_timeout, connect=connect_timeout),
            trust_env=False,
        )
        self._response: httpx2.Response | None = None
        self._stopping = threading.Event()
        self._release_lock = threading.Lock()
        self.latency: float | None = None
        self.server_models: list[str] = []
        if probe:
            model = self._probe(model)
        self.model = model
        self.fill_mode = fill
        self.info = self._model_info(model, fill, context_length)

    def _probe(self, model: str) -> str:
        """List the server's models and time it; the model to use (the first, unnamed).

        The client is closed when the server cannot be used, so a refused backend holds
        no connection.
        """
        try:
            started = time.perf_counter()
            self.server_models = self.models()
            self.latency = time.perf_counter() - started
        except BaseException:
            self._client.close()
            raise
        if model and model not in self.server_models and self.server_models:
            self._client.close()
            listed = ", ".join(self.server_models[:8])
            raise RemoteError(
                f"{self.url} has no model {model!r} (it serves: {listed}); fix the name "
                "(--remote-model, or backends.NAME.model in the settings).",
                url=self.url,
            )
        if not model:
            if not self.server_models:
                self._client.close()
                raise RemoteError(
                    f"{self.url} lists no models; load one on the server, or name it with "
                    "--remote-model.",
                    url=self.url,
                )
            model = self.server_models[0]
        return model

    def _model_info(self, model: str, fill: str, context_length: int) -> ModelInfo:
        """What this backend is: its model, context and how it fills in the middle."""
        fill_format = None if fill in (FILL_CHAT, FILL_SUFFIX) else fill
        if fill_format is not None:
            from codenook.engine.formats import fill_format as check_fill

            check_fill(fill_format)  # a wrong name fails here, not at the first completion
        where = f"remote {self.url} (model {model or 'default'})"
        return ModelInfo(
            path=f"{self.url}/{model}",
            name=model or self.url,
            architecture="remote",
            backend=where,
            context_length=context_length,
            trained_context_length=None,
            gpu_layers=0,
            layer_count=None,
            threads=0,
            gpu_offload_supported=False,
            # Native fill-in-the-middle only: with "chat" the complete job asks in a chat.
            can_fill=fill != FILL_CHAT,
            fill_format=fill_format,
            chat_format_note=f"the server at {self.url} renders the chat prompt",
            fill_format_note={
                FILL_CHAT: "none: the complete job's request through the chat endpoint",
                FILL_SUFFIX: "the completions endpoint's suffix field",
            }.get(fill, f"{fill} as a raw prompt to the completions endpoint"),
            runtime="remote",
            # codenook serve and llama-server both take a request's "grammar" field.
            grammars=True,
            local=False,
            device=self.url,
        )

    # -- requests --------------------------------------------------------------------

    def _where(self) -> str:
        if self.name:
            return f"backends.{self.name}."
        return "the backend's (codenook backends add NAME URL --timeout S --context N) "

    def transport_error(self, exc: BaseException, *, tokens: int = -1) -> RemoteError:
        """A one-line RemoteError for a failed connection; ``tokens`` >= 0: mid-answer."""
        url = self.url
        text = " ".join(str(e) for e in _causes(exc)).lower()
        kinds = [type(e) for e in _causes(exc)]
        if tokens >= 0:
            if isinstance(exc, httpx2.ReadTimeout):
                return RemoteError(
                    f"{url} stopped sending for {self.read_timeout:g} s mid-answer (after "
                    f"{tokens} pieces); the partial answer is kept. Check the server.",
                    url=url,
                )
            return RemoteError(
                f"The connection to {url} broke mid-answer (after {tokens} pieces): the server "
                "stopped or the network dropped; the partial answer is kept.",
                url=url,
            )
        if isinstance(exc, httpx2.ConnectTimeout):
            return RemoteError(
                f"{url} did not accept a connection within {self.connect_timeout:g} s: check that "
                "the machine is on and its firewall lets the port through.",
                url=url,
                down=True,
            )
        if isinstance(exc, httpx2.TimeoutException):
            return RemoteError(
                f"{url} did not answer within {self.read_timeout:g} s: the server is stuck or "
                f"overloaded; check it, or raise {self._where()}read_timeout.",
                url=url,
                down=True,
            )
        if any(issubclass(k, ssl.SSLError) for k in kinds) or "ssl" in text or "tls" in text:
            return RemoteError(
                f"The TLS handshake with {url} failed: use http:// for a server without TLS "
                "(codenook serve has none), or check the server's certificate.",
                url=url,
                down=True,
            )
        if any(issubclass(k, socket.gaierror) for k in kinds) or any(
            s in text for s in ("name or service not known", "nodename nor servname", "errno -")
        ):
            return RemoteError(
                f"Cannot find the host of {url} (DNS lookup failed): check the name in the URL, "
                "or use the machine's IP address.",
                url=url,
                down=True,
            )
        if any(issubclass(k, ConnectionRefusedError) for k in kinds) or "refused" in text:
            return RemoteError(
                f"Nothing answers at {url} (connection refused): is 'codenook serve' (or the "
                "server) running there, on that port?",
                url=url,
                down=True,
            )
        if isinstance(exc, httpx2.ConnectError):
            return RemoteError(
                f"Cannot connect to {url} ({exc}): check the address and the network.",
                url=url,
                down=True,
            )
        return RemoteError(
            f"{url} closed the connection without answering: check the server and its log.",
            url=url,
            down=True,
        )

    def status_error(self, status: int, body: str) -> RemoteError:
        """A one-line RemoteError for an HTTP error status."""
        url, said = self.url, _server_message(body)
        if status in (401, 403):
            return RemoteError(
                f"wrong API key for {url} (HTTP {status}): give the key the server was started "
                "with (--api-key-file F, or 'codenook backends add NAME URL --api-key-file F').",
                url=url,
            )
        if status == 404:
            return RemoteError(
                f"{url} has no model {self.model_name!r} or no OpenAI-compatible API there "
                f"(HTTP 404: {said}); 'codenook backends test NAME' lists its models.",
                url=url,
            )
        lowered = said.lower()
        if status in (400, 413, 422) and any(
            w in lowered for w in ("context", "exceed", "too long", "maximum", "too many tokens")
        ):
            return RemoteError(
                f"The prompt is too long for the model's context on {url} ({said}); shorten "
                f"the input or start a new conversation (and set {self._where()}context_length).",
                url=url,
            )
        if status >= 500:
            return RemoteError(
                f"{url} failed with HTTP {status} ({said}): see the server's log.",
                url=url,
                down=status in (502, 503, 504),
            )
        return RemoteError(f"{url} refused the request with HTTP {status}: {said}", url=url)

    def not_json(self, body: str) -> RemoteError:
        """A one-line RemoteError for an answer that is not JSON."""
        snippet = " ".join(body.split())[:60]
        return RemoteError(
            f"{self.url} answered with something that is not JSON ({snippet!r}): is it an "
            "OpenAI-compatible API? (vLLM: http://HOST:8000, Ollama: http://HOST:11434, "
            "codenook serve: the URL it printed)",
            url=self.url,
        )

    @property
    def model_name(self) -> str:
        """The server's model this backend asks for."""
        return getattr(self, "model", "")

    def _read_small(self, response: httpx2.Response) -> str:
        """A short answer's text (an error, a listing): at most MAX_SMALL_BODY bytes read."""
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk[: MAX_SMALL_BODY - len(data)]
            if len(data) >= MAX_SMALL_BODY:
                break
        return data.decode("utf-8", "replace")

    def _get_json(self, path: str) -> Any:
        try:
            with self._client.stream("GET", path) as response:
                text = self._read_small(response)
        except httpx2.HTTPError as exc:
            raise self.transport_error(exc) from exc
        if response.status_code != 200:
            raise self.status_error(response.status_code, text)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise self.not_json(text) from exc

    def models(self) -> list[str]:
        """The model names the server lists (GET /v1/models)."""
        data = self._get_json("/models")
        try:
            return [str(m["id"]) for m in data["data"]]
        except (KeyError, TypeError) as exc:
            raise self.not_json(json.dumps(data)[:200]) from exc

    # -- counting --------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """An estimate (the API has no tokenizer): about three characters a token."""
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """An estimate of the rendered chat prompt's tokens."""
        return MESSAGE_OVERHEAD + sum(
            self.count_tokens(m.content) + MESSAGE_OVERHEAD for m in messages
        )

    # -- generation ------------------------------------------------------------------

    def _body(self, options: GenerationOptions, stop: Sequence[str] = ()) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        stops = [*options.stop, *(s for s in stop if s not in options.stop)]
        if stops:
            body["stop"] = stops
        if options.seed is not None:
            body["seed"] = options.seed
        if options.grammar:
            body["grammar"] = options.grammar
        return body

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """Stream an answer from /v1/chat/completions (the server renders the prompt)."""
        body = self._body(options)
        body["messages"] = [{"role": m.role, "content": m.content} for m in messages]
        return self._stream("/chat/completions", body, _chat_piece, self.count_prompt(messages))

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """Stream a continuation of ``prompt`` from /v1/completions."""
        body = {**self._body(options), "prompt": prompt}
        return self._stream("/completions", body, _text_piece, self.count_tokens(prompt))

    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """Stream the code between ``prefix`` and ``suffix`` through the server's own FIM.

        That is the completions endpoint's ``suffix`` field, or a FIM format as a raw
        prompt; with ``fill = "chat"`` there is none (``info.can_fill`` is false) and the
        complete job asks in its own chat request.
        """
        prompt_tokens = self.count_tokens(prefix) + self.count_tokens(suffix)

        def middle_only(pieces: Iterator[tuple[str, int]]) -> Iterator[tuple[str, int]]:
            return trim_suffix_repeat(pieces, suffix)

        if self.fill_mode == FILL_SUFFIX:
            body = {**self._body(options), "prompt": prefix, "suffix": suffix}
            return self._stream("/completions", body, _text_piece, prompt_tokens, wrap=middle_only)
        if self.fill_mode == FILL_CHAT:
            raise GenerationError(
                f"{self.url} has no fill-in-the-middle here (fill = chat); codenook completes "
                "code with it through a chat request instead."
            )
        from codenook.engine.formats import fill_format

        fmt = fill_format(self.fill_mode)
        body = {**self._body(options, fmt.stop), "prompt": fmt.text(prefix, suffix)}
        return self._stream("/completions", body, _text_piece, prompt_tokens, wrap=middle_only)

    def _require_open(self) -> None:
        if self._closed:
            raise GenerationError(f"The connection to {self.url} was closed; open it again.")

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        extract: Extract,
        prompt_tokens: int,
        *,
        wrap: Callable[[Iterator[tuple[str, int]]], Iterator[tuple[str, int]]] | None = None,
    ) -> TokenStream:
        self._require_open()
        if not self._lock.acquire(blocking=False):
            raise GenerationError(f"{self.url} is busy with another answer; wait or cancel it.")
        self._stopping.clear()
        released = False
        watch: _Watch | None = None

        def release() -> None:
            nonlocal released
            with self._release_lock:
                if released:
                    return
                released = True
                if watch is not None:
                    watch.stop()
                response, self._response = self._response, None
                if response is not None:
                    with contextlib.suppress(Exception):
                        response.close()
                self._active = None
                self._lock.release()

        max_tokens = max(1, int(body.get("max_tokens") or 1))
        deadline = self.answer_timeout
        if deadline is None:
            deadline = self.read_timeout + max_tokens * SECONDS_PER_TOKEN
        # From the request on: a server that sends only keep-alive lines is stopped too.
        # The watch shuts this answer's socket only, never a later answer's.
        sent: list[httpx2.Response] = []
        watch = _Watch(lambda: sent and _shut(sent[0]), deadline=deadline, idle=self.read_timeout)
        try:
            request = self._client.build_request("POST", path, json=body)
            response = self._client.send(request, stream=True)
        except httpx2.HTTPError as exc:
            reason = watch.reason
            release()
            if reason is not None:
                raise self._watch_error(reason, deadline, 0) from exc
            raise self.transport_error(exc) from exc
        except BaseException:
            release()
            raise
        self._response = response
        sent.append(response)
        if response.status_code != 200:
            try:
                text = self._read_small(response)
            except httpx2.HTTPError:
                text = ""
            release()
            raise self.status_error(response.status_code, text)
        result = StreamResult(prompt_tokens=prompt_tokens)
        gen = self._pieces(response, extract, result, max_tokens, watch, deadline)
        pieces = _Pieces(wrap(gen) if wrap else gen, release)
        stream = TokenStream(pieces, result=result)
        self._active = stream
        return stream

    def _watch_error(self, reason: str, deadline: float, count: int) -> RemoteError:
        """The RemoteError for an answer the watch stopped."""
        if reason == "deadline":
            return RemoteError(
                f"{self.url} did not finish the answer within {deadline:g} s (after {count} "
                "pieces); it was stopped there and the partial answer is kept.",
                url=self.url,
            )
        return RemoteError(
            f"{self.url} sent only keep-alive lines, no text, for {self.read_timeout:g} s "
            f"(after {count} pieces); the partial answer is kept. Check the server, or raise "
            f"{self._where()}read_timeout.",
            url=self.url,
        )

    def _lines(self, response: httpx2.Response, watch: _Watch) -> Iterator[str]:
        """The response's lines, its bytes counted against the answer's and a line's limit."""
        buffer = bytearray()
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > self.max_answer_bytes:
                raise _Overflow(f"more than {_size(self.max_answer_bytes)} for one answer")
            watch.bytes()
            buffer += chunk
            while (cut := buffer.find(b"\n")) >= 0:
                line = bytes(buffer[:cut])
                del buffer[: cut + 1]
                yield line.rstrip(b"\r").decode("utf-8", "replace")
            if len(buffer) > self.max_line_bytes:
                raise _Overflow(f"a line longer than {_size(self.max_line_bytes)}")
        if buffer:
            yield buffer.decode("utf-8", "replace")

    def _read_limited(self, response: httpx2.Response, watch: _Watch) -> str:
        """A whole (unstreamed) body, at most ``max_answer_bytes``."""
        data = bytearray()
        for chunk in response.iter_bytes():
            if len(data) + len(chunk) > self.max_answer_bytes:
                raise _Overflow(f"more than {_size(self.max_answer_bytes)} for one answer")
            watch.bytes()
            data += chunk
        return data.decode("utf-8", "replace")

    def _whole_body(
        self,
        response: httpx2.Response,
        extract: Extract,
        result: StreamResult,
        max_tokens: int,
        watch: _Watch,
    ) -> Iterator[tuple[str, int]]:
        """The answer of a server that ignores "stream": one JSON body (or garbage)."""
        raw = self._read_limited(response, watch)
        try:
            chunk = json.loads(raw)
            text, finish = extract(chunk)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise self.not_json(raw) from exc
        result.finish_reason = "length" if finish == "length" else "stop"
        max_chars = max_tokens * MAX_TOKEN_CHARS
        if len(text) > max_chars:
            text, result.finish_reason = text[:max_chars], "length"
        if text:
            yield text, min(max_tokens, self.count_tokens(text))

    def _event(self, data: str, extract: Extract) -> tuple[str, str | None]:
        """One SSE event's text and finish reason; an error event is a RemoteError."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise self.not_json(data) from exc
        if isinstance(chunk, dict) and chunk.get("error"):
            said = _server_message(data)
            if "context" in said.lower():
                raise self.status_error(400, data)
            raise RemoteError(
                f"{self.url} stopped the answer with an error ({said}); the partial "
                "answer is kept.",
                url=self.url,
            )
        try:
            return extract(chunk)
        except (TypeError, KeyError, IndexError) as exc:
            raise self.not_json(data) from exc

    def _pieces(
        self,
        response: httpx2.Response,
        extract: Extract,
        result: StreamResult,
        max_tokens: int,
        watch: _Watch,
        deadline: float,
    ) -> Iterator[tuple[str, int]]:
        """The response's SSE ``data:`` lines as (text, tokens); one event is one token.

        Counted here, whatever the server does: at most ``max_tokens`` pieces and
        MAX_TOKEN_CHARS characters a token, the answer's and each line's bytes, and the
        whole answer's time. What is yielded is all that is kept.
        """
        ctype = response.headers.get("content-type", "")
        count, finished, shown = 0, False, 0
        max_chars = max_tokens * MAX_TOKEN_CHARS
        try:
            if "text/event-stream" not in ctype:
                yield from self._whole_body(response, extract, result, max_tokens, watch)
                return
            for line in self._lines(response, watch):
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, blank separators
                data = line[5:].strip()
                if data == "[DONE]":
                    finished = True
                    break
                text, finish = self._event(data, extract)
                if finish:
                    finished = True
                    result.finish_reason = finish_reason(finish)
                if text:
                    watch.text()
                    # Asked for max_tokens: the rest is not read, whatever the server sends.
                    cut = count + 1 >= max_tokens or shown + len(text) >= max_chars
                    text = text[: max_chars - shown]
                    count += 1
                    shown += len(text)
                    yield text, 1
                    if cut:
                        finished = True
                        result.finish_reason = finish_reason(finish) if finish else "length"
                        break
            if not finished and not self._stopping.is_set():
                if watch.reason is not None:
                    raise self._watch_error(watch.reason, deadline, count)
                raise self.transport_error(httpx2.RemoteProtocolError("no [DONE]"), tokens=count)
        except _Overflow as exc:
            raise RemoteError(
                f"{self.url} sent {exc}; the answer was cut there and the partial answer is "
                "kept. Is it an OpenAI-compatible server?",
                url=self.url,
            ) from exc
        except httpx2.HTTPError as exc:
            if self._stopping.is_set():
                result.finish_reason = "cancelled"
                return
            if watch.reason is not None:
                raise self._watch_error(watch.reason, deadline, count) from exc
            raise self.transport_error(exc, tokens=count) from exc
        finally:
            watch.stop()
        if self._stopping.is_set():
            result.finish_reason = "cancelled"

    def cancel(self) -> None:
        """Stop the answer now: the socket is shut, so a read blocked on it returns at once."""
        active = self._active
        if active is None:
            return
        self._stopping.set()
        active.cancel()
        response = self._response
        if response is not None:
            _shut(response)

    def close(self) -> None:
        """Stop any answer and release the HTTP client."""
        if self._closed:
            return
        super().close()
        self._client.close()


def _shut(response: httpx2.Response) -> None:
    """Shut a response's socket, so a read blocked on it returns at once."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def finish_reason(finish: str) -> FinishReason:
    """A server's finish_reason as codenook records it."""
    return "length" if finish == "length" else "stop"


def _size(n: int) -> str:
    """Bytes as a person reads them (KiB or MiB)."""
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"


def _chat_piece(chunk: dict[str, Any]) -> tuple[str, str | None]:
    choice = chunk["choices"][0] if chunk["choices"] else {}
    delta = choice.get("delta") or choice.get("message") or {}
    return delta.get("content") or "", choice.get("finish_reason")


def _text_piece(chunk: dict[str, Any]) -> tuple[str, str | None]:
    choice = chunk["choices"][0] if chunk["choices"] else {}
    return choice.get("text") or "", choice.get("finish_reason")
