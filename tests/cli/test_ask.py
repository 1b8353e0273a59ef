"""``codenook ask`` through the real installed command, in a subprocess."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from codenook.engine.embedded import embedded_model_path
from codenook.store.db import open_database
from tests.cli.jobs_support import history_tasks
from tests.conftest import CODENOOK, run_cli

pytestmark = pytest.mark.usefixtures("account")


def one_error_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("codenook: error: ")
    return lines[0]


def test_ask_prints_code_from_the_embedded_model() -> None:
    proc = run_cli(
        "ask",
        "Write a Python function that adds two numbers",
        "--temperature",
        "0",
        "--seed",
        "1",
        "--max-tokens",
        "120",
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "def " in out or "return" in out
    assert out.endswith("\n")


def test_ask_reads_the_question_from_stdin() -> None:
    proc = run_cli(
        "ask", "-", "--max-tokens", "8", "--temperature", "0", input=b"What is a Python list?"
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip()


def test_ask_is_deterministic_with_a_seed() -> None:
    args = (
        "ask",
        "Name a Bash builtin.",
        "--max-tokens",
        "20",
        "--temperature",
        "0",
        "--seed",
        "5",
    )
    assert run_cli(*args).stdout == run_cli(*args).stdout


def test_ask_streams_token_by_token() -> None:
    """Output arrives in pieces while the process is still generating."""
    proc = subprocess.Popen(
        [
            str(CODENOOK),
            "ask",
            "Write a long Python tutorial.",
            "--max-tokens",
            "200",
            "--temperature",
            "0.5",
            "--seed",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = proc.stdout.read1(4096)
    assert first, "no output"
    still_running = proc.poll() is None
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    assert still_running, "the first bytes came only after the process ended"
    assert rest, "everything came in one piece"


def test_ctrl_c_stops_at_once_and_keeps_output() -> None:
    proc = subprocess.Popen(
        [
            str(CODENOOK),
            "ask",
            "Write a very long Python tutorial with many examples.",
            "--max-tokens",
            "2000",
            "--temperature",
            "0.7",
            "--seed",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    printed = proc.stdout.read1(4096)
    assert printed
    proc.send_signal(signal.SIGINT)
    sent = time.perf_counter()
    rest, err = proc.communicate(timeout=10)
    elapsed = time.perf_counter() - sent
    assert proc.returncode == 130, err.decode()
    # Generation stops at the next token; the rest is process teardown, which a loaded
    # machine slows down.
    assert elapsed < 3.0
    assert b"Traceback" not in err
    assert (printed + rest).strip()


@pytest.mark.parametrize("case", ["missing", "text", "truncated", "directory"])
def test_bad_model_file_gives_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    if case == "missing":
        model, expect = tmp_path / "absent.gguf", "not found"
    elif case == "text":
        model, expect = tmp_path / "renamed.gguf", "not a GGUF model file"
        model.write_text("just some text\n" * 100)
    elif case == "truncated":
        model, expect = tmp_path / "cut.gguf", "truncated"
        with embedded_model_path().open("rb") as f:
            model.write_bytes(f.read(30_000_000))
    else:
        model, expect = tmp_path, "is a folder"
    line = one_error_line(run_cli("ask", "hi", "--model", str(model)))
    assert expect in line


def test_unknown_option_gives_one_line_and_exit_2() -> None:
    line = one_error_line(run_cli("ask", "hi", "--no-such-option"))
    assert "--no-such-option" in line


def test_non_utf8_stdin_is_refused_clearly() -> None:
    line = one_error_line(run_cli("ask", "-", input=b"caf\xe9 \xff\xfe"))
    assert "not UTF-8" in line


def test_empty_question_is_refused() -> None:
    assert "empty" in one_error_line(run_cli("ask", "   "))


def test_prompt_longer_than_context_is_refused() -> None:
    proc = run_cli("ask", "-", "--context", "256", input=("word " * 2000).encode())
    line = one_error_line(proc)
    assert "context holds 256" in line


def test_bad_setting_value_is_one_line() -> None:
    assert "temperature" in one_error_line(run_cli("ask", "hi", "--temperature", "-3"))


def test_no_network_needed() -> None:
    """Proxies pointing nowhere change nothing: the model is local."""
    env = {
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HF_HUB_OFFLINE": "1",
        "PATH": os.environ["PATH"],
    }
    proc = run_cli("ask", "Say hi", "--max-tokens", "4", env=env)
    assert proc.returncode == 0, proc.stderr.decode()


def test_ask_is_grounded_in_local_docs_and_names_them() -> None:
    question = "How do I use subprocess.run?"
    proc = run_cli(
        "ask", question, "--max-tokens", "16", "--temperature", "0", "--seed", "1", timeout=600
    )
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().rstrip("\n").splitlines()
    assert lines[-1] == "Sources: pydoc subprocess.run"
    assert len(lines) > 1  # the answer came first
    assert history_tasks() == [(question, "ask", "python")]
    shown = run_cli("history", "show", "1", "--json")
    first = json.loads(shown.stdout)["messages"][0]
    # The history shows the question as typed; the prompt with the excerpts is beside it.
    assert first["content"] == question
    assert first["prompt"].startswith(question) and "[pydoc subprocess.run]" in first["prompt"]


def test_ask_without_lookups_names_no_sources() -> None:
    proc = run_cli("ask", "How do I use subprocess.run?", "--no-docs", "--max-tokens", "8")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Sources:" not in proc.stdout.decode()


@pytest.mark.parametrize("name", ["smollm2-135m-instruct", "smollm2-135m-instruct:Q4_1"])
def test_ask_takes_a_catalog_name_for_model(name: str) -> None:
    proc = run_cli("ask", "Say hi", "--model", name, "--max-tokens", "4", "--temperature", "0")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip()


def test_ask_and_serve_resolve_model_names_alike(tmp_path: Path) -> None:
    """One resolver: an installed file's name works, a missing model is said the same way."""
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "mine.gguf").symlink_to(embedded_model_path())
    assert run_cli("models", "scan", str(folder)).returncode == 0
    for name in ("mine", "mine.gguf"):
        proc = run_cli("ask", "Say hi", "--model", name, "--max-tokens", "4")
        assert proc.returncode == 0, proc.stderr.decode()
    for name, expect in [
        ("qwen2.5-coder-1.5b", "'codenook models pull qwen2.5-coder-1.5b:Q4_K_M' fetches it"),
        ("no-such-model", "No model called 'no-such-model' in the catalog"),
    ]:
        asked = one_error_line(run_cli("ask", "hi", "--model", name))
        served = one_error_line(run_cli("serve", "--port", "0", "--model", name))
        assert expect in asked and asked == served


def answer_finishes() -> list[str]:
    """The finish reason of every stored answer, oldest first."""
    db = open_database()
    try:
        rows = db.execute("SELECT finish_reason FROM messages WHERE role = 'assistant' ORDER BY id")
        return [r[0] for r in rows]
    finally:
        db.close()


def test_an_answer_cut_at_the_token_limit_is_marked() -> None:
    cut = run_cli("ask", "Write a long essay on Python.", "--max-tokens", "5", "--no-docs")
    assert cut.returncode == 0, cut.stderr.decode()
    assert answer_finishes() == ["length"]
    note = (
        "codenook: The answer was cut at the token limit (5 tokens): it is incomplete. "
        "Allow more with --max-tokens (now 5)."
    )
    assert note in cut.stderr.decode().splitlines()
    assert b"token limit" not in cut.stdout  # the answer itself stays as the model wrote it
    whole = run_cli(
        "ask", "Say hi.", "--no-docs", "--max-tokens", "100", "--temperature", "0", "--seed", "1"
    )
    assert whole.returncode == 0, whole.stderr.decode()
    assert answer_finishes()[1] == "stop"
    assert b"token limit" not in whole.stderr
