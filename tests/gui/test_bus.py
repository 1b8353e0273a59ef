"""The window's event bus: order, the Tk thread, isolated subscriber errors, joined tokens."""

from __future__ import annotations

import logging
import threading
import tkinter as tk
from dataclasses import dataclass

import pytest

from codenook import applog
from codenook.gui.bus import Bus
from codenook.gui.events import Token
from tests.gui.conftest import pump


@dataclass(frozen=True)
class Numbered:
    n: int


def test_events_from_many_workers_arrive_in_order_on_the_tk_thread() -> None:
    root = tk.Tk()
    bus = Bus()
    seen: list[tuple[int, str]] = []
    bus.subscribe(Numbered, lambda e: seen.append((e.n, threading.current_thread().name)))

    def tick() -> None:
        bus.drain()
        root.after(5, tick)

    root.after(5, tick)
    workers = [
        threading.Thread(
            target=lambda k=k: [bus.put(Numbered(k * 1000 + i)) for i in range(200)],
            name=f"worker-{k}",
        )
        for k in range(3)
    ]
    for w in workers:
        w.start()
    try:
        pump(root, lambda: len(seen) == 600, timeout=20)
    finally:
        for w in workers:
            w.join()
        root.destroy()
    assert {name for _, name in seen} == {threading.main_thread().name}
    for k in range(3):  # each worker's events in the order it put them
        mine = [n for n, _ in seen if n // 1000 == k]
        assert mine == [k * 1000 + i for i in range(200)]


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    failures: list[tuple[object, Exception]] = []
    bus = Bus(on_failure=lambda event, exc: failures.append((event, exc)))
    first: list[int] = []
    last: list[int] = []

    def broken(event: Numbered) -> None:
        first.append(event.n)
        if event.n == 2:
            raise RuntimeError("subscriber on fire")

    bus.subscribe(Numbered, broken)
    bus.subscribe(Numbered, lambda e: last.append(e.n))
    applog.setup_logging(debug=False)
    try:
        with caplog.at_level(logging.ERROR, logger="codenook.gui.bus"):
            for n in (1, 2, 3):
                bus.put(Numbered(n))
            assert bus.drain() == 3
        log_text = applog.log_file().read_text()
    finally:
        applog.shutdown_logging()
    assert first == [1, 2, 3] and last == [1, 2, 3]  # the later subscriber and events ran
    assert [(e, str(x)) for e, x in failures] == [(Numbered(2), "subscriber on fire")]
    [record] = [r for r in caplog.records if r.name == "codenook.gui.bus"]
    assert record.exc_info is not None and "Numbered" in record.getMessage()
    assert "subscriber on fire" in log_text and "Traceback" in log_text


def test_a_burst_of_tokens_is_joined_and_other_events_keep_their_place() -> None:
    bus = Bus()
    order: list[object] = []
    bus.subscribe(Token, order.append)
    bus.subscribe(Numbered, order.append)
    for event in (Token("a"), Token("b"), Numbered(1), Token("c"), Token("d"), Token("e")):
        bus.put(event)
    assert bus.drain() == 6
    assert order == [Token("ab"), Numbered(1), Token("cde")]


def test_publish_delivers_at_once_and_unsubscribe_stops_delivery() -> None:
    bus = Bus()
    seen: list[int] = []
    unsubscribe = bus.subscribe(Numbered, lambda e: seen.append(e.n))
    bus.publish(Numbered(1))
    assert seen == [1] and bus.empty()
    unsubscribe()
    bus.publish(Numbered(2))
    bus.put(Numbered(3))
    bus.drain()
    assert seen == [1]
