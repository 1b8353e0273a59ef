"""Worker threads for the window: slow work runs here, results come back on the bus.

The Tk thread never waits: it submits callables, and each job puts typed events on the
window's :class:`~codenook.gui.bus.Bus`, which the Tk thread drains with ``after()``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from codenook.errors import CodenookError
from codenook.gui.bus import Bus
from codenook.gui.events import WorkerFailed

log = logging.getLogger(__name__)

#: Turns a job's exception into the event that reports it.
OnError = Callable[[Exception], object]


class Worker:
    """One thread running submitted jobs in order; each job may post events."""

    def __init__(self, name: str, bus: Bus) -> None:
        self.name = name
        self.bus = bus
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"codenook-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None], *, on_error: OnError | None = None) -> None:
        """Run ``job`` on this worker; an exception becomes ``on_error(exc)`` on the bus.

        Without ``on_error`` it becomes a :class:`~codenook.gui.events.WorkerFailed`.
        """

        def guarded() -> None:
            try:
                job()
            except CodenookError as exc:
                # A refused input, a missing file, a server down: the user is told, and the
                # log says what happened in one line, as the CLI does; no traceback.
                log.warning("%s job: %s", self.name, exc)
                self.post(on_error(exc) if on_error else WorkerFailed(self.name, exc))
            except Exception as exc:  # a bug: shown to the user; the window must keep working
                log.exception("%s job failed", self.name)
                self.post(on_error(exc) if on_error else WorkerFailed(self.name, exc))

        self._jobs.put(guarded)

    def post(self, event: object) -> None:
        """Hand a typed event to the Tk thread. Called from this worker."""
        self.bus.put(event)

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
