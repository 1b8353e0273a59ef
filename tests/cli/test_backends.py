"""``codenook backends`` and ``--backend`` on the job commands, against loopback servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook import config
from tests.conftest import run_cli
from tests.engine import fakeservers
from tests.engine.fakeservers import FakeServer

pytestmark = pytest.mark.timeout(120)


def test_add_list_test_route_and_remove(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("backend-test-key-9911\n")
    with FakeServer(fakeservers.openai(["hi"], models=("qwen-coder", "llama"))) as server:
        added = run_cli("backends", "add", "xeon", server.url, "--api-key-file", str(key))
        assert added.returncode == 0, added.stderr.decode()
        assert b"Its API key is kept in" in added.stdout
        tested = run_cli("backends", "test", "xeon")
        assert tested.returncode == 0, tested.stderr.decode()
        out = tested.stdout.decode()
        assert out.startswith(f"{server.url}: answered in ")
        assert "models: qwen-coder, llama" in out
        assert "uses: qwen-coder" in out
        assert any("bearer backend-test-key-9911" in h.lower() for h in server.heads)
    assert run_cli("backends", "route", "review", "xeon").returncode == 0
    assert run_cli("backends", "failover", "on").returncode == 0
    listed = run_cli("backends", "list").stdout.decode()
    assert f"xeon: {server.url} (the server's first model; key stored" in listed
    assert "review -> xeon" in listed and "ask -> local" in listed
    assert "failover to local: on" in listed
    assert "backend-test-key-9911" not in config.paths().settings_file.read_text()
    removed = run_cli("backends", "remove", "xeon")
    assert removed.returncode == 0
    assert "review -> local" in run_cli("backends", "list").stdout.decode()


def test_testing_a_backend_that_is_down_says_so() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    proc = run_cli("backends", "test", url)
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith(f"codenook: error: Nothing answers at {url}")


@pytest.mark.usefixtures("account")
def test_ask_fails_over_to_local_when_allowed() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    assert run_cli("backends", "failover", "on").returncode == 0
    proc = run_cli("ask", "What is Bash?", "--no-docs", "--backend", url, "--max-tokens", "16")
    assert proc.returncode == 0, proc.stderr.decode()
    err = proc.stderr.decode()
    assert f"{url} is unavailable; the local model answers instead" in err
    assert f"answering on llama.cpp on this machine (failover: {url} was unavailable)" in err
    assert proc.stdout.strip()


@pytest.mark.usefixtures("account")
def test_ask_says_what_to_check_when_failover_is_off() -> None:
    url = f"http://127.0.0.1:{fakeservers.free_port()}"
    proc = run_cli("ask", "What is Bash?", "--backend", url)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith(f"codenook: error: Nothing answers at {url} (connection refused)")
    assert "routing.failover = true" in err
    assert "Traceback" not in err


@pytest.mark.usefixtures("account")
def test_a_server_that_answers_garbage_is_one_line() -> None:
    with FakeServer(fakeservers.garbage) as server:
        proc = run_cli("ask", "What is Bash?", "--backend", server.url)
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.startswith(f"codenook: error: {server.url} answered with something that is not JSON")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("account")
def test_chat_keeps_the_partial_answer_and_goes_on_after_a_drop() -> None:
    server = FakeServer(fakeservers.openai(["Python ", "is"], die_after=1))
    with server:
        proc = run_cli("chat", "--backend", server.url, input=b"What is Python?\nAnd Bash?\n")
    assert proc.returncode == 2
    assert proc.stdout.decode().startswith("Python ")
    err = proc.stderr.decode()
    assert err.count(f"codenook: error: The connection to {server.url} broke mid-answer") == 2
    assert "Traceback" not in err


def test_key_and_model_options_need_a_backend() -> None:
    proc = run_cli("ask", "x", "--remote-model", "qwen")
    assert proc.returncode == 2
    assert b"go with --backend" in proc.stderr
