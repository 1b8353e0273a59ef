"""The window's worker threads: a user's mistake is logged as one line, a bug in full."""

from __future__ import annotations

import logging
import time

import pytest

from codenook.errors import UsageError
from codenook.gui.bus import Bus
from codenook.gui.events import WorkerFailed
from codenook.gui.worker import Worker


def failed_events(bus: Bus, worker: Worker) -> list[WorkerFailed]:
    seen: list[WorkerFailed] = []
    bus.subscribe(WorkerFailed, seen.append)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        bus.drain()
        time.sleep(0.01)
    return seen


@pytest.mark.parametrize(
    ("error", "level", "traceback"),
    [
        (UsageError("Type a question first."), logging.WARNING, False),
        (RuntimeError("a bug"), logging.ERROR, True),
    ],
)
def test_a_failed_job_is_reported_and_logged_for_what_it_is(
    caplog: pytest.LogCaptureFixture, error: Exception, level: int, traceback: bool
) -> None:
    bus = Bus()
    worker = Worker("store", bus)

    def job() -> None:
        raise error

    with caplog.at_level(logging.INFO, logger="codenook.gui.worker"):
        worker.submit(job)
        seen = failed_events(bus, worker)
    worker.stop()
    assert [e.error for e in seen] == [error]  # the user is told either way
    records = [r for r in caplog.records if r.name == "codenook.gui.worker"]
    assert [r.levelno for r in records] == [level]
    assert (records[0].exc_info is not None) is traceback
    assert str(error) in records[0].getMessage() or traceback
