"""Which machine answers: the local model or a named remote backend, per job, with failover.

The settings map each job to ``local`` or a ``[backends.NAME]``; ``--backend`` overrides
that for one command. When a remote server is down (refused, unknown host, TLS, timeout)
and ``routing.failover`` allows it, the local model answers and its ``info.backend`` says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from codenook import config
from codenook.config import LOCAL, RemoteBackendSettings, Settings
from codenook.engine.backend import Backend, GenerationOptions, Message, TokenStream
from codenook.errors import ConfigError
from codenook.library import backendkeys

if TYPE_CHECKING:
    from codenook.engine.fit import ModelFigures, PoolPlan
    from codenook.engine.remote import RemoteBackend
    from codenook.engine.rpcpool import PoolSpec

log = logging.getLogger(__name__)

#: Where a pooled model's llama-server listens: loopback (its port is chosen at start).
POOL_URL = "http://127.0.0.1"


@dataclass(frozen=True)
class BackendChoice:
    """A backend named for one command: ``--backend URL|NAME`` and its options."""

    target: str
    api_key_file: str | None = None
    model: str | None = None


def is_url(text: str) -> bool:
    """Whether ``text`` is a server URL rather than a backend's name."""
    return text.startswith(("http://", "https://"))


def open_remote(
    settings: Settings, target: str, *, api_key_file: str | None = None, model: str | None = None
) -> RemoteBackend:
    """Connect to a named backend or a URL (probing it); a RemoteError says what is wrong."""
    from codenook.engine.remote import RemoteBackend, split_credentials

    name: str | None = None
    credentials = None
    if is_url(target):
        remote = RemoteBackendSettings(url=target)
    else:
        remote = settings.backends.get(target)
        if remote is None:
            known = ", ".join(settings.backends) or "none yet"
            raise ConfigError(
                f"No backend named {target!r} (known: {known}); add it with "
                f"'codenook backends add {target} http://HOST:PORT'."
            )
        name = target
        if remote.rpc:
            return open_pool(name, remote)
        if split_credentials(remote.url)[1] is not None:
            remote = _move_credentials(name, remote)
        credentials = backendkeys.load_credentials(name)
    key = backendkeys.read_key_file(api_key_file) if api_key_file else None
    if key is None and name is not None:
        key = backendkeys.load_key(name)
    return RemoteBackend(
        remote.url,
        credentials=credentials,
        api_key=key,
        model=model or remote.model,
        name=name,
        connect_timeout=remote.connect_timeout,
        read_timeout=remote.read_timeout,
        context_length=remote.context_length,
        fill=remote.fill,
    )


def pool_spec(name: str, remote: RemoteBackendSettings) -> PoolSpec:
    """The pooled model ``[backends.NAME]`` describes (its ``rpc`` and ``gguf``)."""
    from pathlib import Path

    from codenook.engine.rpc import parse_endpoint
    from codenook.engine.rpcpool import PoolSpec

    return PoolSpec(
        name=name,
        model=Path(remote.gguf).expanduser(),
        rpc=tuple(parse_endpoint(e) for e in remote.rpc),
        context_length=remote.context_length,
        gpu_layers=remote.gpu_layers,
        read_timeout=remote.read_timeout,
        fill=remote.fill,
    )


def pool_plan(
    settings: Settings,
    name: str,
    *,
    figures: ModelFigures | None = None,
    context: int | None = None,
) -> PoolPlan:
    """How pool ``name`` lays out its model (or ``figures``' model) at ``context`` tokens.

    Asks each of its rpc-servers for its free memory now: an RpcError names one that does
    not answer (or is serving a pooled model already: it serves one client at a time).
    """
    from dataclasses import replace as changed

    from codenook.engine.rpcpool import plan_for

    remote = settings.backends.get(name)
    if remote is None or not remote.rpc:
        pools = ", ".join(n for n, b in settings.backends.items() if b.rpc) or "none yet"
        raise ConfigError(
            f"No pool named {name!r} (pools: {pools}); add one with "
            f"'codenook backends add-pool {name} --rpc HOST:PORT --model FILE'."
        )
    spec = pool_spec(name, remote)
    if context is not None:
        spec = changed(spec, context_length=context)
    return plan_for(spec, figures=figures)


def open_pool(name: str, remote: RemoteBackendSettings) -> RemoteBackend:
    """Start pooled model ``name``'s llama-server; an RpcError (``down``) names a lost host."""
    from codenook.engine.rpcpool import PooledBackend

    return PooledBackend(pool_spec(name, remote))


def _move_credentials(name: str, remote: RemoteBackendSettings) -> RemoteBackendSettings:
    """Move a user and password written in ``[backends.NAME]``'s url to the key store.

    A settings file edited by hand may hold them; they belong with the keys, and the
    settings keep the address alone. Where they cannot be moved, they are used as they are.
    """
    from codenook.engine.remote import display_url, split_credentials

    clean, credentials = split_credentials(remote.url)
    if credentials is None:
        return remote
    moved = replace(remote, url=display_url(clean))
    try:
        backendkeys.save_credentials(name, credentials)
        current = config.load_settings()
        if name in current.backends:
            entry = replace(current.backends[name], url=moved.url)
            config.save_settings(replace(current, backends={**current.backends, name: entry}))
    except (OSError, ConfigError) as exc:
        log.warning("Cannot move the user and password out of backends.%s.url: %s", name, exc)
        return remote
    log.info("Moved the user and password in backends.%s.url to the key store.", name)
    return moved


def open_local(settings: Settings) -> Backend:
    """The model in this process, as the settings describe it."""
    from codenook.engine.loader import open_backend
    from codenook.library.registry import resolve_adapter

    # The settings name an adapter ('models use --adapter', the Tune window): its checked file.
    return open_backend(resolve_adapter(settings.model))


def open_for_job(
    settings: Settings,
    job: str,
    *,
    choice: BackendChoice | None = None,
    on_note: Callable[[str], None] | None = None,
    local: Callable[[Settings], Backend] | None = None,
) -> Backend:
    """The backend ``job`` runs on: ``choice``, else the settings' route, else local.

    A remote server that is down gives way to the local model when ``routing.failover``
    is on (``on_note`` hears why); otherwise its RemoteError says how to allow that.
    ``local`` opens the local model (default: :func:`open_local`).
    """
    from codenook.engine.remote import RemoteError

    local = local or open_local
    target = choice.target if choice else settings.routing.for_job(job)
    if target == LOCAL:
        return local(settings)
    try:
        remote = open_remote(
            settings,
            target,
            api_key_file=choice.api_key_file if choice else None,
            model=choice.model if choice else None,
        )
    except RemoteError as exc:
        if not exc.down:
            raise
        if not settings.routing.failover:
            raise RemoteError(
                f"{exc} (With routing.failover = true the local model answers instead.)",
                url=exc.url,
                down=True,
            ) from exc
        return fail_over(settings, exc, on_note, local)
    if settings.routing.failover:
        return FailoverBackend(remote, settings, on_note, local)
    return remote


def fail_over(
    settings: Settings,
    exc: Exception,
    on_note: Callable[[str], None] | None,
    local: Callable[[Settings], Backend] = open_local,
) -> Backend:
    """The local model, its ``info.backend`` saying which server it stands in for."""
    url = getattr(exc, "url", "the server")
    note = f"{url} is unavailable; the local model answers instead (routing.failover)."
    log.warning("%s Cause: %s", note, exc)
    if on_note is not None:
        on_note(f"{note} {exc}")
    backend = local(settings)
    backend.info = replace(
        backend.info,
        backend=f"{backend.info.backend} on this machine (failover: {url} was unavailable)",
    )
    return backend


class FailoverBackend(Backend):
    """A remote backend that gives way to the local model if a request finds it down.

    Only a server that never took the request fails over (refused, timed out before
    answering, 502-504); an answer that breaks halfway is kept and said, not redone.
    """

    def __init__(
        self,
        remote: RemoteBackend,
        settings: Settings,
        on_note: Callable[[str], None] | None,
        local: Callable[[Settings], Backend] = open_local,
    ) -> None:
        super().__init__()
        self.remote = remote
        self.local: Backend | None = None
        self._settings = settings
        self._on_note = on_note
        self._open_local = local
        self.info = remote.info

    @property
    def current(self) -> Backend:
        """The backend answering now."""
        return self.local or self.remote

    def _run(self, call: Callable[[Backend], TokenStream]) -> TokenStream:
        from codenook.engine.remote import RemoteError

        if self.local is None:
            try:
                return call(self.remote)
            except RemoteError as exc:
                if not exc.down:
                    raise
                self.local = fail_over(self._settings, exc, self._on_note, self._open_local)
                self.info = self.local.info
        return call(self.local)

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        options: GenerationOptions,
        cache_key: str | None = None,
    ) -> TokenStream:
        """As the backend answering now, failing over first if the server is down."""
        return self._run(lambda b: b.stream_chat(messages, options=options, cache_key=cache_key))

    def stream_completion(self, prompt: str, *, options: GenerationOptions) -> TokenStream:
        """As the backend answering now, failing over first if the server is down."""
        return self._run(lambda b: b.stream_completion(prompt, options=options))

    def fill(self, prefix: str, suffix: str, *, options: GenerationOptions) -> TokenStream:
        """As the backend answering now, failing over first if the server is down."""
        return self._run(lambda b: b.fill(prefix, suffix, options=options))

    def count_prompt(self, messages: Sequence[Message]) -> int:
        """As the backend answering now."""
        return self.current.count_prompt(messages)

    def count_tokens(self, text: str) -> int:
        """As the backend answering now."""
        return self.current.count_tokens(text)

    def cancel(self) -> None:
        """Stop the answer in progress, wherever it runs."""
        self.current.cancel()

    def close(self) -> None:
        """Close the remote connection and the local model, if it was loaded."""
        if self._closed:
            return
        super().close()
        self.remote.close()
        if self.local is not None:
            self.local.close()


def add_backend(
    name: str,
    url: str,
    *,
    model: str = "",
    api_key_file: str | None = None,
    read_timeout: float | None = None,
    context_length: int | None = None,
    fill: str | None = None,
) -> list[str]:
    """Save ``[backends.NAME]`` (its key and URL credentials outside the settings).

    Returns what went where, one line each (empty when nothing secret was given).
    """
    from codenook.engine.remote import display_url, split_credentials

    config.check_backend_name(name)
    # The address alone from here on: a password in it is neither stored nor shown.
    url, credentials = split_credentials(url)
    if not is_url(url):
        raise ConfigError(f"{url!r} is not a server URL; write it as http://HOST:PORT.")
    settings = config.load_settings()
    old = settings.backends.get(name)
    entry = RemoteBackendSettings(url=display_url(url), model=model)
    if old is not None:
        entry = replace(old, url=display_url(url), model=model or old.model)
    changes = {
        k: v
        for k, v in (
            ("read_timeout", read_timeout),
            ("context_length", context_length),
            ("fill", fill),
        )
        if v is not None
    }
    entry = replace(entry, **changes)
    new = replace(settings, backends={**settings.backends, name: entry})
    config.validate(new)
    said = []
    if api_key_file:
        where = backendkeys.save_key(name, backendkeys.read_key_file(api_key_file))
        said.append(f"Its API key is kept in {where}.")
    if credentials is not None:
        where = backendkeys.save_credentials(name, credentials)
        said.append(f"The user and password in its URL are kept in {where}, not in the settings.")
    elif old is not None and display_url(old.url) != entry.url:
        # Another server: the old one's password must not be sent to it.
        backendkeys.delete_credentials(name)
    config.save_settings(new)
    return said


def add_pool(
    name: str,
    rpc: Sequence[str],
    model: str,
    *,
    context_length: int | None = None,
    gpu_layers: int | None = None,
    read_timeout: float | None = None,
) -> RemoteBackendSettings:
    """Save pooled model ``[backends.NAME]``: ``model`` split over the ``rpc`` servers.

    The addresses and the file are checked here (not the servers: they may be off now).
    """
    from pathlib import Path

    from codenook.engine.rpc import parse_endpoint

    config.check_backend_name(name)
    if not rpc:
        raise ConfigError("A pool needs at least one rpc-server: --rpc HOST:PORT.")
    endpoints = tuple(str(parse_endpoint(e)) for e in rpc)
    if len(set(endpoints)) != len(endpoints):
        raise ConfigError(f"An rpc-server is named twice in {', '.join(endpoints)}.")
    path = Path(model).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"No model file {path}; a pool loads a GGUF file (--model FILE).")
    settings = config.load_settings()
    old = settings.backends.get(name)
    entry = replace(
        old or RemoteBackendSettings(url=POOL_URL),
        url=POOL_URL,
        model="",
        rpc=endpoints,
        gguf=str(path),
        gpu_layers=gpu_layers,
    )
    changes = {
        k: v
        for k, v in (("read_timeout", read_timeout), ("context_length", context_length))
        if v is not None
    }
    entry = replace(entry, **changes)
    new = replace(settings, backends={**settings.backends, name: entry})
    config.validate(new)
    if old is not None and not old.rpc:
        backendkeys.delete_key(name)  # a server's key has nothing to do with a pool
    config.save_settings(new)
    return entry


def remove_backend(name: str) -> None:
    """Forget ``[backends.NAME]``, its key, and the routes to it (they go back to local)."""
    settings = config.load_settings()
    if name not in settings.backends:
        raise ConfigError(f"No backend named {name!r}; 'codenook backends list' shows them.")
    routes = {job: LOCAL for job, target in routes_of(settings).items() if target == name}
    backends = {k: v for k, v in settings.backends.items() if k != name}
    config.save_settings(
        replace(settings, backends=backends, routing=replace(settings.routing, **routes))
    )
    backendkeys.delete_key(name)


def routes_of(settings: Settings) -> dict[str, str]:
    """Each job the ``[routing]`` settings name, and where it goes."""
    return settings.routing.as_dict()


def set_route(job: str, target: str, *, jobs: Sequence[str] | None = None) -> None:
    """Send ``job`` (or every job, for "all") to ``target``: "local" or a backend's name.

    ``jobs`` are the jobs that may be routed; None: the job registry's routable jobs.
    """
    from codenook.assist.jobs import registry

    settings = config.load_settings()
    known = tuple(jobs) if jobs is not None else registry.routable()
    chosen = known if job == "all" else (job,)
    if job != "all" and job not in known:
        raise ConfigError(f"No job {job!r}; the jobs are {', '.join(known)} (or all).")
    if target != LOCAL and target not in settings.backends:
        raise ConfigError(f"No backend named {target!r}; add it with 'codenook backends add'.")
    routing = replace(settings.routing, **dict.fromkeys(chosen, target))
    config.save_settings(replace(settings, routing=routing))


def set_failover(allowed: bool) -> None:
    """Allow (or forbid) answering locally when a remote backend is down."""
    settings = config.load_settings()
    config.save_settings(replace(settings, routing=replace(settings.routing, failover=allowed)))
