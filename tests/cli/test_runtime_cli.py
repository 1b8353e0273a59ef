"""Runtimes through the real ``codenook`` command: bad locations in one line, Meta's own
checkpoint answering ``ask``, and a ``chat`` on the transformers runtime stored like any."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codenook.engine.backend import Message
from codenook.engine.transformers_backend import TransformersBackend
from tests.cli.test_ask import one_error_line
from tests.conftest import DEAD_HUB, run_cli
from tests.metackpt import build_meta_checkpoint

pytestmark = [pytest.mark.usefixtures("account"), pytest.mark.timeout(600)]


def _bad(root: Path, kind: str) -> Path:
    if kind == "missing":
        return root / "nowhere.gguf"
    if kind == "corrupt":
        path = root / "broken.gguf"
        path.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\x00" * 40)
        return path
    folder = root / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8\xff")
    return folder


@pytest.mark.parametrize("runtime", ["auto", "llama.cpp", "transformers"])
@pytest.mark.parametrize("kind", ["missing", "corrupt", "neither"])
def test_a_bad_model_location_is_one_line_and_exit_2(
    tmp_path: Path, runtime: str, kind: str
) -> None:
    where = _bad(tmp_path, kind)
    proc = run_cli("ask", "hi", "--model", str(where), "--runtime", runtime, "--max-tokens", "4")
    line = one_error_line(proc)
    assert str(where) in line or where.name in line, line


def test_an_unreachable_server_url_is_one_line_and_exit_2() -> None:
    proc = run_cli("ask", "hi", "--model", DEAD_HUB, "--max-tokens", "4")
    assert "127.0.0.1:9" in one_error_line(proc)


@pytest.fixture(scope="module")
def meta_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama as Meta's download lays it out."""
    return build_meta_checkpoint(tmp_path_factory.mktemp("meta") / "TinyLlama-meta")


def test_metas_checkpoint_answers_through_ask(meta_dir: Path, codenook_home: Path) -> None:
    proc = run_cli(
        "ask", "def add(a, b):", "--model", str(meta_dir), "--max-tokens", "8",
        "--temperature", "0", "--no-docs",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.strip(), "the model wrote nothing"
    # Converted once into the cache; the second run finds it there.
    converted = list((codenook_home / "cache" / "meta-converted").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").is_file()
    info = run_cli("info", "--model", str(meta_dir))
    out = info.stdout.decode()
    assert info.returncode == 0, info.stderr.decode()
    assert "runtime:" in out and "transformers" in out and "device:" in out


def test_chat_on_transformers_keeps_the_history(
    transformers_backend: TransformersBackend, db: sqlite3.Connection
) -> None:
    questions = ["What is a list?", "And a tuple?", "Which of the two is faster?"]
    proc = run_cli(
        "chat", "--runtime", "transformers", "--max-tokens", "10", "--temperature", "0",
        "--threads", "2", input="\n".join(questions).encode() + b"\n", timeout=400,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert "answering on" not in proc.stderr.decode()  # said only for another machine
    conv = db.execute("SELECT id, system_prompt FROM conversations").fetchall()
    assert len(conv) == 1
    rows = db.execute(
        "SELECT role, content, prompt_tokens, model FROM messages "
        "WHERE conversation_id = ? ORDER BY id",
        (conv[0][0],),
    ).fetchall()
    assert [r[0] for r in rows] == ["user", "assistant"] * 3
    assert [r[1] for r in rows[::2]] == questions
    # Turn 3's prompt is exactly system + turns 1 and 2 + question 3, in these tokens.
    messages = [Message("system", conv[0][1])]
    messages += [Message(role, content) for role, content, _, _ in rows[:5]]
    assert rows[5][2] == transformers_backend.count_prompt(messages)
    assert rows[5][2] > rows[3][2] > rows[1][2]
