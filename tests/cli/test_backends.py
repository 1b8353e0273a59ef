"""``codenook backends`` and ``--backend`` on the job commands, against loopback servers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codenook import config
from tests.conftest import run_cli
from tests.engine import fakeservers
from tests.engine.fakeservers import FakeServer

pytestmark = pytest.mark.timeout(120)


def _shown(stdout: bytes) -> str:
    """The first answer ``chat`` printed, without the question it may echo before it."""
    text = stdout.decode()
    if text.startswith("you> "):
        text = text.split("\n", 1)[1]
    return text.split("\nyou> ", 1)[0].rstrip("\n")


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
    assert _shown(proc.stdout).startswith("Python ")
    err = proc.stderr.decode()
    assert err.count(f"codenook: error: The connection to {server.url} broke mid-answer") == 2
    assert "Traceback" not in err


def test_key_and_model_options_need_a_backend() -> None:
    proc = run_cli("ask", "x", "--remote-model", "qwen")
    assert proc.returncode == 2
    assert b"go with --backend" in proc.stderr


def _stored_answers(user: str) -> list[tuple[str, bool]]:
    """The user's stored answers (text, complete), oldest first."""
    from codenook.store import conversations
    from codenook.store.accounts import user_by_name
    from codenook.store.db import open_database

    db = open_database()
    try:
        found = user_by_name(db, user)
        assert found is not None
        rows = [
            row
            for conv in conversations.list_conversations(db, found.id)
            for row in conversations.messages(db, found.id, conv.id)
            if row.role == "assistant"
        ]
    finally:
        db.close()
    return [(r.content, r.complete) for r in sorted(rows, key=lambda r: r.id)]


def test_max_tokens_8_stops_an_endless_stream_at_8(account: str) -> None:
    sent: list[int] = []
    with FakeServer(fakeservers.endless("tok ", sent=sent)) as server:
        started = time.monotonic()
        proc = run_cli(
            "chat", "--backend", server.url, "--max-tokens", "8", input=b"Count.\n", timeout=60
        )
        took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.decode()
    assert _shown(proc.stdout) == "tok " * 8
    assert _stored_answers(account) == [("tok " * 8, True)]
    print(f"chat --max-tokens 8 on an endless stream: 8 pieces, {took:.1f} s in all")


def test_a_100_mb_answer_is_cut_and_what_is_stored_is_what_was_shown(account: str) -> None:
    with FakeServer(fakeservers.endless("x", pad=50_000)) as server:
        proc = run_cli(
            "chat",
            "--backend",
            server.url,
            "--max-tokens",
            "100000",
            input=b"Say x.\n",
            timeout=60,
        )
    assert proc.returncode == 2
    errors = [x for x in proc.stderr.decode().splitlines() if x.startswith("codenook: error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"codenook: error: {server.url} sent more than 16 MiB for one")
    shown = _shown(proc.stdout)
    assert 100 < len(shown) < 400  # 16 MiB of 50 kB events
    assert _stored_answers(account) == [(shown, False)]


def test_url_credentials_stay_out_of_settings_output_and_logs(
    account: str, tmp_path: Path, codenook_home: Path
) -> None:
    import base64

    password = "pw-in-url-6620"
    outputs: list[bytes] = []
    with FakeServer(fakeservers.openai(["Hi", " there"])) as server:
        with_password = server.url.replace("http://", f"http://alice:{password}@")
        added = run_cli("backends", "add", "xeon", with_password)
        assert added.returncode == 0, added.stderr.decode()
        assert f"Added backend xeon: {server.url}\n" in added.stdout.decode()
        assert "user and password in its URL are kept in" in added.stdout.decode()
        tested = run_cli("backends", "test", "xeon")
        assert tested.returncode == 0, tested.stderr.decode()
        assert run_cli("backends", "route", "ask", "xeon").returncode == 0
        asked = run_cli("chat", "--json", input=b"Hello?\n")
        assert asked.returncode == 0, asked.stderr.decode()
        assert json.loads(asked.stdout)["backend"] == f"remote {server.url} (model fake-model)"
        direct = run_cli("chat", "--backend", with_password, input=b"Hello?\n")
        assert direct.returncode == 0, direct.stderr.decode()
        listed = run_cli("backends", "list")
        outputs += [p.stdout + p.stderr for p in (added, tested, asked, direct, listed)]
    basic = base64.b64encode(f"alice:{password}".encode()).decode().lower()
    assert all(f"authorization: basic {basic}" in h.lower() for h in server.heads)
    assert config.load_settings().backends["xeon"].url == server.url
    # A server that is down: the error and the log name it without the password.
    down = with_password.rsplit(":", 1)[0] + f":{fakeservers.free_port()}"
    failed = run_cli("chat", "--backend", down, input=b"Hello?\n")
    assert failed.returncode == 2
    outputs.append(failed.stdout + failed.stderr)
    assert all(password.encode() not in out for out in outputs)
    files = [p for p in codenook_home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".log" for p in files) and any(p.name.endswith(".db") for p in files)
    for path in files:
        assert password.encode() not in path.read_bytes(), path
    assert run_cli("backends", "remove", "xeon").returncode == 0


def test_add_pool_lists_plans_and_refuses_bad_input(tmp_path: Path) -> None:
    from codenook.engine.embedded import embedded_model_path
    from tests.rpcserver import rpc_server

    model = str(embedded_model_path())
    with rpc_server() as (endpoint, _):
        added = run_cli("backends", "add-pool", "both", "--rpc", str(endpoint), "--model", model)
        assert added.returncode == 0, added.stderr.decode()
        assert f"Added pool both: {model} over {endpoint}" in added.stdout.decode()
        listed = run_cli("backends", "list").stdout.decode()
        assert f"both: pool of {model} over rpc-servers {endpoint}" in listed
        assert run_cli("backends", "route", "ask", "both").returncode == 0
        info = run_cli("models", "info", model, "--pool", "both", "--context", "2048")
        assert info.returncode == 0, info.stderr.decode()
        out = info.stdout.decode()
        # The rpc-server's device is this machine's RAM: all 30 layers and the output fit.
        assert f"  {endpoint} (rpc-server, " in out and "layers 0–29 (30)" in out
        assert "fits pooled with 2,048 context: every layer on a device." in out
        assert "llama-server: --n-gpu-layers 31 --tensor-split 31" in out
    down = run_cli("models", "info", model, "--pool", "both")
    assert down.returncode == 2
    assert down.stderr.decode().startswith(
        f"codenook: error: The rpc-server at {endpoint} is unavailable (connection refused"
    )
    for bad, said in (
        (("--rpc", "host-without-port"), "not an rpc-server address"),
        (("--rpc", str(endpoint), "--model", str(tmp_path / "none.gguf")), "No model file"),
    ):
        args = ("--model", model, *bad) if "--model" not in bad else bad
        proc = run_cli("backends", "add-pool", "other", *args)
        assert proc.returncode == 2 and said in proc.stderr.decode(), proc.stderr
    assert run_cli("models", "info", model, "--pool", "nope").returncode == 2
