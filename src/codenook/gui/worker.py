"""Worker threads for the window: slow work runs here, results come back on a queue.

The Tk thread never waits: it submits callables and drains ``events`` with ``after()``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Event = tuple[str, Any]


class Worker:
    """One thread running submitted jobs in order; each job may post events."""

    def __init__(self, name: str, events: queue.Queue[Event]) -> None:
        self.name = name
        self.events = events
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"codenook-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None], *, on_error: str = "error") -> None:
        """Run ``job`` on this worker; an exception becomes an ``on_error`` event."""

        def guarded() -> None:
            try:
                job()
            except Exception as exc:  # shown to the user; the window must keep working
                log.exception("%s job failed", self.name)
                self.post(on_error, exc)

        self._jobs.put(guarded)

    def post(self, kind: str, payload: Any = None) -> None:
        """Hand an event to the Tk thread. Called from this worker."""
        self.events.put((kind, payload))

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()
            del job  # drop the job's references here and now, not at the next get()

    def stop(self, timeout: float = 2.0) -> None:
        """Finish the queued jobs and end the thread (waits at most ``timeout``)."""
        self._jobs.put(None)
        self._thread.join(timeout)

    @property
    def idle(self) -> bool:
        """Whether no job is queued (one may still be running)."""
        return self._jobs.empty()
