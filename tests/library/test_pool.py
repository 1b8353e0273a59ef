"""The backend pool both faces use: one backend per route and model, opened once."""

from __future__ import annotations

from dataclasses import replace

from codenook.config import RemoteBackendSettings, RoutingSettings, Settings
from codenook.engine.backend import Backend
from codenook.library.pool import BackendPool
from tests.conftest import DEAD_HUB
from tests.scripted import ScriptedBackend


def test_one_backend_per_route_and_model_opened_once_and_closed_together() -> None:
    opened: list[ScriptedBackend] = []

    def local(settings: Settings) -> Backend:
        opened.append(ScriptedBackend(["hi"]))
        return opened[-1]

    notes: list[str] = []
    pool = BackendPool(on_note=notes.append, local=local)
    settings = replace(
        Settings(),
        routing=RoutingSettings(review="box", failover=True),
        backends={"box": RemoteBackendSettings(url=DEAD_HUB, connect_timeout=1.0)},
    )
    ask = pool.get(settings, "ask")
    assert pool.get(settings, "generate") is ask  # the same local model for both jobs
    review = pool.get(settings, "review")  # the server is down: the local model stands in
    assert review is not ask and "failover" in review.info.backend
    assert notes and DEAD_HUB in notes[0]
    assert pool.get(settings, "review") is review and len(opened) == 2
    # Another model is another backend; the old one stays until the pool is closed.
    other = replace(settings, model=replace(settings.model, context_length=1024))
    assert pool.get(other, "ask") is not ask and len(pool) == 3
    assert pool.has(settings, "ask") and pool.has(settings, "debug")  # debug runs locally
    pool.close_all()
    assert all(b._closed for b in opened) and len(pool) == 0
    assert pool.get(settings, "ask") is not ask  # opened afresh
