"""A minimal window host for controller tests (as IDLE's ``mock_idle`` fakes an editor).

Real parts where they are cheap (a real Tk root under Xvfb, the real bus, real worker
threads, a real database under the test's CODENOOK_HOME, the real transcript widget);
only the shell's other panes and dialogs are left out.
"""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Callable
from typing import Any

from codenook import config
from codenook.engine.backend import Backend
from codenook.gui.bus import Bus
from codenook.gui.host import WorkerDb
from codenook.gui.theme import THEMES
from codenook.gui.transcript import Actions, Transcript
from codenook.gui.worker import Worker


class FakeHost:
    """What a controller sees of the window, and nothing else."""

    def __init__(self, settings: config.Settings | None = None) -> None:
        self.root = tk.Tk()
        self.failures: list[tuple[object, Exception]] = []
        self.bus = Bus(on_failure=lambda event, exc: self.failures.append((event, exc)))
        self.settings = settings or config.Settings()
        self.user: Any = None
        self.conversation_id: int | None = None
        self.model = Worker("model", self.bus)
        self.store = Worker("store", self.bus)
        self.tools = Worker("tools", self.bus)
        self.library = Worker("library", self.bus)
        self.store_db, self.model_db = WorkerDb(), WorkerDb()
        noop = lambda *_a: None  # noqa: E731
        self.transcript = Transcript(
            self.root,
            actions=Actions(copy=noop, save=noop, run=noop, vote=noop, open_link=noop),
            theme=THEMES["light"],
            size=11,
        )
        self.transcript.pack()
        self.backend: Backend | None = None
        self.busy = False
        self.applied: list[config.Settings] = []
        self.inserted: list[str] = []
        self.focused = 0
        self.first_run_said: list[str] = []

    def apply_settings(self, new: config.Settings) -> None:
        """Recorded, and in use."""
        self.applied.append(new)
        self.settings = new

    def insert_into_editor(self, code: str) -> None:
        """Recorded."""
        self.inserted.append(code)

    def focus_input(self) -> None:
        """Counted."""
        self.focused += 1

    def first_run_finished(self, what: str) -> None:
        """Recorded."""
        self.first_run_said.append(what)

    def pump(self, until: Callable[[], bool], timeout: float = 30.0) -> None:
        """Deliver the bus's events on this (the Tk) thread until ``until()`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            self.bus.drain()
            self.root.update()
            if until():
                return
            assert time.monotonic() < deadline, "timed out waiting for the bus"
            time.sleep(0.005)

    def idle(self) -> bool:
        """Whether the workers have nothing queued and the bus is empty."""
        return self.store.idle and self.model.idle and self.tools.idle and self.bus.empty()

    def close(self) -> None:
        """Stop the workers and the window."""
        for w in (self.model, self.store, self.tools, self.library):
            w.stop(timeout=5)
        self.root.destroy()


def recorder(bus: Bus, kind: type) -> list[Any]:
    """The events of class ``kind`` delivered on ``bus``, in order."""
    seen: list[Any] = []
    bus.subscribe(kind, seen.append)
    return seen
