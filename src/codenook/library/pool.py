"""One pool of open backends for both faces: one per route and model, opened once (through
:func:`routing.open_for_job`, so failover-wrapped where allowed) and closed together when
the settings change or the face closes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from codenook.config import LOCAL, Settings
from codenook.engine.backend import Backend
from codenook.library.routing import BackendChoice, open_for_job


class BackendPool:
    """Open backends keyed by where a job is routed and what that route opens."""

    def __init__(
        self,
        *,
        on_note: Callable[[str], None] | None = None,
        local: Callable[[Settings], Backend] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._open: dict[Hashable, Backend] = {}
        self._on_note = on_note
        self._local = local

    @staticmethod
    def key(settings: Settings, job: str, choice: BackendChoice | None = None) -> Hashable:
        """What makes two jobs share a backend: the same target with the same settings."""
        target = choice.target if choice else settings.routing.for_job(job)
        if target == LOCAL:
            return (LOCAL, settings.model)
        # A remote route may fail over to the local model, so that belongs to its key too.
        fallback = settings.model if settings.routing.failover else None
        return (target, settings.backends.get(target), choice, fallback)

    def has(self, settings: Settings, job: str, choice: BackendChoice | None = None) -> bool:
        """Whether ``job``'s backend is open already."""
        with self._lock:
            found = self._open.get(self.key(settings, job, choice))
            return found is not None and not found._closed

    def get(self, settings: Settings, job: str, choice: BackendChoice | None = None) -> Backend:
        """``job``'s backend, opened on first use. Slow the first time: call from a worker."""
        key = self.key(settings, job, choice)
        with self._lock:
            backend = self._open.get(key)
            if backend is None or backend._closed:
                backend = open_for_job(
                    settings, job, choice=choice, on_note=self._on_note, local=self._local
                )
                self._open[key] = backend
            return backend

    def close_all(self) -> None:
        """Close every backend in the pool (the next get opens afresh)."""
        with self._lock:
            backends, self._open = list(self._open.values()), {}
        for backend in backends:
            try:
                backend.close()
            except Exception:  # one that fails to close must not keep the others open
                continue

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)
