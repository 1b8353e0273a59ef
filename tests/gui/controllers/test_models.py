"""The models controller against a minimal host: the status bar and library errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.gui.controllers.models import ModelsController
from codenook.gui.events import LibraryFailed, Note, StateChanged, StatusText
from tests.gui.controllers.fakehost import FakeHost
from tests.scripted import ScriptedBackend


@pytest.fixture
def host() -> Iterator[FakeHost]:
    h = FakeHost()
    yield h
    h.close()


def test_the_status_bar_follows_state_figures_and_notes(host: FakeHost) -> None:
    m = ModelsController(host)
    m.build_status(host.root).pack()
    bus = host.bus
    bus.publish(StatusText("loading model…"))
    assert m.status.cget("text") == "loading   ·   loading model…"
    backend = ScriptedBackend(context_length=4096)
    bus.publish(StateChanged("ready", backend, {}))
    bus.publish(StatusText("late loading note"))  # once loaded, load notes are not shown
    assert m.status.cget("text") == "scripted · scripted · CPU   ·   ready"
    figures = {
        "tokens_per_second": 81.25,
        "time_to_first_token": 0.142,
        "prompt_tokens": 400,
        "answer_tokens": 12,
    }
    bus.publish(StateChanged("ready", backend, figures))
    bus.publish(Note("Code copied"))
    text = m.status.cget("text")
    assert "81.2 tok/s" in text and "first token 142 ms" in text
    assert "context 412/4,096" in text and text.endswith("Code copied")


def test_a_library_error_without_a_models_window_goes_to_the_transcript(host: FakeHost) -> None:
    m = ModelsController(host)
    m.build_status(host.root)
    host.library.submit(lambda: 1 / 0, on_error=LibraryFailed)
    host.pump(lambda: "Models:" in host.transcript.content())
    assert "Models: division by zero" in host.transcript.content()
    m.first_run_finished("the embedded model")
    assert m.status.cget("text").endswith("Using the embedded model")
