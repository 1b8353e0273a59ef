"""One event bus for the window: workers put typed events, the Tk thread delivers them.

Learnt from Thonny's workbench (``queue_event`` and ``bind`` with many subscribers):
an event is a small frozen dataclass, a subscriber names the event class it wants, and
any number of subscribers may want the same class. Worker threads call :meth:`Bus.put`
(a thread-safe queue); the Tk thread calls :meth:`Bus.drain` from ``after()``, so every
subscriber runs on the Tk thread, in the order the events were put. Code on the Tk thread
may :meth:`Bus.publish` an event to deliver it at once. A subscriber that raises is
logged with its traceback (the error log, ``applog``) and reported to ``on_failure``;
the other subscribers of the same event still run, and so do the later events.
"""

from __future__ import annotations

import logging
import queue
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]
#: Told about a subscriber that raised: ``(event, exception)``. Tk thread.
OnFailure = Callable[[object, Exception], None]


class Bus:
    """Typed events from any thread, delivered to their subscribers on the Tk thread."""

    def __init__(self, *, on_failure: OnFailure | None = None) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._subscribers: dict[type, list[Handler]] = defaultdict(list)
        self.on_failure = on_failure

    def subscribe(self, kind: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler(event)`` for each event of class ``kind``; returns an unsubscribe."""
        self._subscribers[kind].append(handler)

        def unsubscribe() -> None:
            if handler in self._subscribers[kind]:
                self._subscribers[kind].remove(handler)

        return unsubscribe

    def put(self, event: object) -> None:
        """Queue ``event`` for the Tk thread. Safe from any thread; never blocks."""
        self._queue.put(event)

    def empty(self) -> bool:
        """Whether no event waits to be delivered."""
        return self._queue.empty()

    def publish(self, event: object) -> None:
        """Deliver ``event`` now to its subscribers. Tk thread only."""
        for handler in list(self._subscribers.get(type(event), ())):
            try:
                handler(event)
            except Exception as exc:  # one broken subscriber must not silence the rest
                log.exception("window subscriber %r failed on %r", handler, type(event).__name__)
                if self.on_failure is not None:
                    try:
                        self.on_failure(event, exc)
                    except Exception:
                        log.exception("the failure report itself failed")

    def drain(self) -> int:
        """Deliver every queued event in order. Tk thread; returns how many were delivered.

        Consecutive events of a class with a ``join`` method (the answer's tokens) are
        joined first, so a burst of tokens costs the transcript one update.
        """
        count = 0
        held: Any = None
        while True:
            try:
                event: Any = self._queue.get_nowait()
            except queue.Empty:
                break
            count += 1
            if held is not None and type(event) is type(held):
                held = held.join(event)
                continue
            if held is not None:
                self.publish(held)
                held = None
            if hasattr(event, "join"):
                held = event
            else:
                self.publish(event)
        if held is not None:
            self.publish(held)
        return count


class Subscriptions:
    """The subscriptions one view holds, dropped together when the view goes."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._drops: list[Callable[[], None]] = []

    def add(self, kind: type[E], handler: Callable[[E], None]) -> None:
        """Subscribe ``handler`` to ``kind`` until :meth:`close`."""
        self._drops.append(self.bus.subscribe(kind, handler))

    def for_view(self, view: object, handlers: list[tuple[type, Handler]]) -> None:
        """Subscribe each ``(kind, handler)``, called only for events whose ``view`` is
        ``view`` (a window that may be open more than once hears only its own run)."""
        for kind, handler in handlers:
            self.add(kind, lambda e, h=handler: h(e) if e.view is view else None)

    def close(self) -> None:
        """Drop every subscription."""
        for drop in self._drops:
            drop()
        self._drops.clear()
