"""Routing: which machine answers each job, failover to local, and where keys are kept."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from codenook import config
from codenook.config import RemoteBackendSettings, RoutingSettings, Settings
from codenook.engine.remote import RemoteBackend, RemoteError
from codenook.errors import ConfigError
from codenook.library import backendkeys, routing
from tests.engine import fakeservers
from tests.engine.fakeservers import FakeServer

pytestmark = pytest.mark.timeout(180)


def settings_for(url: str, *, failover: bool) -> Settings:
    """Settings that send ask to a backend called xeon at ``url``."""
    return replace(
        Settings(),
        model=replace(Settings().model, threads=1, context_length=1024),
        routing=RoutingSettings(ask="xeon", failover=failover),
        backends={"xeon": RemoteBackendSettings(url=url, read_timeout=2.0)},
    )


def test_jobs_run_locally_unless_routed() -> None:
    r = RoutingSettings(review="xeon")
    assert r.for_job("review") == "xeon"
    assert r.for_job("ask") == config.LOCAL
    assert r.for_job("anything-else") == config.LOCAL


def test_a_routed_job_uses_the_named_backend() -> None:
    with FakeServer(fakeservers.openai(["hi"])) as server:
        backend = routing.open_for_job(settings_for(server.url, failover=False), "ask")
        with backend:
            assert isinstance(backend, RemoteBackend)  # no failover allowed: the bare backend
            assert backend.name == "xeon"
            assert backend.info.backend.startswith(f"remote {server.url}")


def test_a_down_backend_fails_over_to_local_when_allowed() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    notes: list[str] = []
    backend = routing.open_for_job(settings_for(url, failover=True), "ask", on_note=notes.append)
    with backend:
        assert not isinstance(backend, RemoteBackend)
        assert backend.info.backend == (
            f"llama.cpp on this machine (failover: {url} was unavailable)"
        )
    assert notes and notes[0].startswith(f"{url} is unavailable; the local model answers instead")


def test_a_server_that_never_answers_fails_over_after_its_timeout() -> None:
    with FakeServer(fakeservers.silent) as server:
        backend = routing.open_for_job(settings_for(server.url, failover=True), "ask")
        with backend:
            assert "failover" in backend.info.backend


def test_a_server_found_down_at_the_request_fails_over_for_that_answer(
    db: object, users: tuple
) -> None:
    from codenook.assist.session import ChatSession
    from codenook.engine.backend import GenerationOptions
    from codenook.store import conversations

    server = FakeServer(fakeservers.openai(["hi"]))
    backend = routing.open_for_job(settings_for(server.url, failover=True), "ask")
    assert backend.info.backend.startswith(f"remote {server.url}")
    server.stop()  # gone between the connection test and the question
    with backend:
        options = GenerationOptions(max_tokens=8, temperature=0.0, seed=1)
        session = ChatSession(db, users[0], backend, options)
        answer = session.send("What is Python?", on_text=lambda _: None)
    assert answer.backend == f"llama.cpp on this machine (failover: {server.url} was unavailable)"
    assert answer.text
    rows = conversations.messages(db, users[0].id, answer.conversation_id)
    assert rows[-1].figures["backend"] == answer.backend
    assert rows[-1].complete


def test_a_down_backend_is_a_clear_error_when_failover_is_off() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    with pytest.raises(RemoteError) as caught:
        routing.open_for_job(settings_for(url, failover=False), "ask")
    message = str(caught.value)
    assert message.startswith(f"Nothing answers at {url}")
    assert "routing.failover = true" in message


def test_a_wrong_key_never_fails_over() -> None:
    with FakeServer(fakeservers.status(401)) as server, pytest.raises(RemoteError) as caught:
        routing.open_for_job(settings_for(server.url, failover=True), "ask")
    assert str(caught.value).startswith(f"wrong API key for {server.url}")


def test_an_unknown_backend_name_says_how_to_add_it() -> None:
    with pytest.raises(ConfigError, match="codenook backends add office"):
        routing.open_for_job(Settings(), "ask", choice=routing.BackendChoice("office"))


def test_backends_are_saved_without_their_key(tmp_path: Path, codenook_home: Path) -> None:
    key = tmp_path / "key"
    key.write_text("xeon-secret-key-0042\n")
    where = routing.add_backend("xeon", "http://10.0.0.5:8642/v1", api_key_file=str(key))
    assert where
    settings = config.load_settings()
    assert settings.backends["xeon"].url == "http://10.0.0.5:8642"
    assert "xeon-secret-key-0042" not in config.paths().settings_file.read_text()
    assert backendkeys.load_key("xeon") == "xeon-secret-key-0042"
    routing.set_route("all", "xeon")
    routing.set_failover(True)
    settings = config.load_settings()
    assert settings.routing.review == "xeon" and settings.routing.failover
    routing.remove_backend("xeon")
    settings = config.load_settings()
    assert settings.backends == {}
    assert settings.routing.review == config.LOCAL
    assert backendkeys.load_key("xeon") is None


def test_bad_backend_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        routing.add_backend("local", "http://h:1")
    with pytest.raises(ConfigError):
        routing.add_backend("xeon", "h:1")
    with pytest.raises(ConfigError, match="No backend named 'nope'"):
        routing.set_route("ask", "nope")


def test_a_key_read_is_blanked_in_the_log() -> None:
    from codenook.redact import redact

    backendkeys.save_key("xeon", "another-secret-0043")
    assert redact("sent another-secret-0043 to x")[0] == "sent [REDACTED] to x"


def test_a_password_in_a_backend_url_goes_to_the_key_store(codenook_home: Path) -> None:
    from codenook.redact import redact

    said = routing.add_backend("xeon", "http://bob:hunter2-url-77@10.0.0.5:8642/v1")
    assert said == [said[0]] and "user and password in its URL are kept in" in said[0]
    assert config.load_settings().backends["xeon"].url == "http://10.0.0.5:8642"
    assert "hunter2-url-77" not in config.paths().settings_file.read_text()
    assert backendkeys.load_credentials("xeon") == ("bob", "hunter2-url-77")
    assert redact("hunter2-url-77 typed")[0] == "[REDACTED] typed"
    # Another address without credentials: the old server's password is not kept for it.
    routing.add_backend("xeon", "http://10.0.0.6:8642")
    assert backendkeys.load_credentials("xeon") is None


def test_a_password_written_into_the_settings_by_hand_is_moved_out() -> None:
    settings = replace(
        Settings(),
        backends={"xeon": RemoteBackendSettings(url="http://carol:s3cr3t-77@127.0.0.1:9")},
    )
    config.save_settings(settings)
    with pytest.raises(RemoteError) as caught:
        routing.open_remote(config.load_settings(), "xeon")
    assert caught.value.url == "http://127.0.0.1:9"
    assert "s3cr3t-77" not in str(caught.value)
    assert config.load_settings().backends["xeon"].url == "http://127.0.0.1:9"
    assert "s3cr3t-77" not in config.paths().settings_file.read_text()
    assert backendkeys.load_credentials("xeon") == ("carol", "s3cr3t-77")
    routing.remove_backend("xeon")
    assert backendkeys.load_credentials("xeon") is None


def test_a_job_registered_later_is_routed_and_sent_back_home(codenook_home: Path) -> None:
    """Routes are a table by job: a new job needs no settings edit, and removal clears it."""
    from codenook.assist.jobs import registry
    from tests.assist.jobs.toy import TOY

    routing.add_backend("xeon", "http://10.0.0.5:8642")
    registry.register(replace(TOY, routable=True))
    try:
        routing.set_route("shout", "xeon")
        assert config.load_settings().routing.for_job("shout") == "xeon"
        assert "shout" in config.paths().settings_file.read_text()
    finally:
        registry.unregister(TOY.name)
    with pytest.raises(ConfigError, match="No job 'shout'"):
        routing.set_route("shout", "xeon")
    routing.remove_backend("xeon")
    assert config.load_settings().routing.for_job("shout") == config.LOCAL


def test_a_pool_is_saved_checked_routed_and_removed(tmp_path: Path) -> None:
    from codenook.engine.embedded import embedded_model_path
    from codenook.library.pool import BackendPool

    model = str(embedded_model_path())
    entry = routing.add_pool("both", ["192.168.1.20:50052", "[fd00::2]:6000"], model, gpu_layers=20)
    assert entry.rpc == ("192.168.1.20:50052", "[fd00::2]:6000")
    assert entry.gguf == model and entry.gpu_layers == 20 and entry.url == routing.POOL_URL
    routing.set_route("ask", "both")
    saved = config.load_settings()
    assert saved.backends["both"] == entry and saved.routing.for_job("ask") == "both"
    spec = routing.pool_spec("both", entry)
    assert [str(e) for e in spec.rpc] == ["192.168.1.20:50052", "[fd00::2]:6000"]
    assert spec.model == Path(model) and spec.gpu_layers == 20
    # A pool is keyed like any backend: a changed plan opens it afresh.
    changed = replace(saved, backends={"both": replace(entry, gpu_layers=10)})
    assert BackendPool.key(saved, "ask") != BackendPool.key(changed, "ask")
    for rpc, file, said in (
        ([], model, "at least one rpc-server"),
        (["a:1", "a:1"], model, "named twice"),
        (["a:1"], str(tmp_path / "none.gguf"), "No model file"),
    ):
        with pytest.raises(ConfigError, match=said):
            routing.add_pool("other", rpc, file)
    with pytest.raises(ConfigError, match="No pool named 'xeon'"):
        routing.pool_plan(saved, "xeon")
    routing.remove_backend("both")
    after = config.load_settings()
    assert "both" not in after.backends and after.routing.for_job("ask") == "local"
