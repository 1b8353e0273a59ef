"""The interaction log from real answers, votes, tool results and statistics."""

import hashlib
import threading
import time
from pathlib import Path

import pytest

from codenook.assist import interactions
from codenook.assist.session import ChatSession
from codenook.auth import User
from codenook.engine import model_hash
from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.errors import UsageError
from codenook.store import conversations as store

OPTS = GenerationOptions(max_tokens=12, temperature=0.0, seed=1)
PW = "pumpkin-harbor-31"
TOOLS = {"lint_findings": 2, "validation_passed": True, "sandbox_exit": 0}


def quiet(_: str) -> None:
    pass


def answer(db, user, **figures) -> int:
    cid = store.create_conversation(db, user.id, title="t", system_prompt="sys")
    store.add_message(db, user.id, cid, role="user", content="q")
    return store.add_message(db, user.id, cid, role="assistant", content="a", **figures)


def test_an_answers_log_row_holds_every_field(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    a = s.send(
        "Write a Python function that adds two numbers.",
        on_text=quiet,
        task="generate",
        language="python",
        tool_results=TOOLS,
    )
    s.record_model_hash(timeout=120)
    [entry] = interactions.log_entries(db, alice)
    row = entry.as_dict()
    # Every field is filled; the adapter's stays empty: this model runs without one.
    assert all(value is not None for key, value in row.items() if key != "adapter"), row
    assert row["adapter"] is None
    assert entry.id == a.message_id and entry.conversation_id == a.conversation_id
    assert (entry.task, entry.language, entry.backend) == ("generate", "python", "llama.cpp")
    assert entry.model == embedded_backend.info.name
    assert entry.model_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    sha = hashlib.sha256(Path(embedded_model_path()).read_bytes()).hexdigest()
    assert entry.model_sha256 == sha
    assert entry.settings == {
        "max_tokens": 12,
        "temperature": 0.0,
        "top_p": 0.95,
        "stop": [],
        "seed": 1,
        "draft": "auto",
        "edit_grammar": True,
        "context_length": 2048,
        "gpu_layers": embedded_backend.info.gpu_layers,
        "threads": 2,
    }
    assert entry.tool_results == TOOLS
    r = a.result
    assert (entry.prompt_tokens, entry.answer_tokens) == (r.prompt_tokens, r.completion_tokens)
    assert entry.time_to_first_token == r.time_to_first_token > 0
    assert entry.tokens_per_second == pytest.approx(r.tokens_per_second)
    assert (entry.finish_reason, entry.complete, entry.vote) == (r.finish_reason, True, 0)
    assert (entry.turns_dropped, entry.cached_tokens) == (0, r.cached_tokens)


def test_a_slow_model_hash_never_holds_up_the_answer(
    db, users, embedded_backend, monkeypatch
) -> None:
    alice, _ = users
    release = threading.Event()

    def slow_hash(path: str) -> str:
        release.wait(30)  # a 4 GB file
        return "5" * 64

    monkeypatch.setattr(model_hash, "HASHES", model_hash.ModelHashes())
    monkeypatch.setattr(model_hash, "sha256_of", slow_hash)
    s = ChatSession(db, alice, embedded_backend, OPTS)
    started = time.perf_counter()
    first = s.send("Say hi.", on_text=quiet)
    assert time.perf_counter() - started < 20
    assert interactions.log_entries(db, alice)[0].model_sha256 is None
    release.set()
    second = s.send("Say bye.", on_text=quiet)  # fills in the first answer's hash too
    s.record_model_hash(timeout=10)
    hashes = {e.id: e.model_sha256 for e in interactions.log_entries(db, alice)}
    assert hashes == {first.message_id: "5" * 64, second.message_id: "5" * 64}


def test_votes_and_tool_results_belong_to_the_owner(db, users) -> None:
    alice, bob = users
    a = answer(db, alice, task="generate")
    assert interactions.vote(db, alice, a, "up") == 1
    assert interactions.vote(db, alice, a, "down") == -1
    with pytest.raises(interactions.AnswerNotFoundError) as foreign:
        interactions.vote(db, bob, a, "up")
    with pytest.raises(interactions.AnswerNotFoundError) as missing:
        interactions.vote(db, bob, 9999, "up")
    assert str(foreign.value).replace(str(a), "N") == str(missing.value).replace("9999", "N")
    with pytest.raises(interactions.AnswerNotFoundError):
        interactions.record_tool_results(db, bob, a, {"validation_passed": False})
    with pytest.raises(UsageError):
        interactions.vote(db, alice, a, "sideways")
    interactions.record_tool_results(db, alice, a, {"validation_passed": True})
    [entry] = interactions.log_entries(db, alice)
    assert (entry.vote, entry.tool_results) == (-1, {"validation_passed": True})
    assert interactions.vote(db, alice, a, "clear") == 0
    assert interactions.log_entries(db, bob) == []


def test_stats_per_job_and_model_with_percentiles_and_shares(db, users) -> None:
    alice, bob = users
    for n in range(1, 11):  # ask on model A: first token 0.1 .. 1.0 s, 10 .. 100 tokens/s
        a = answer(
            db, alice, task="ask", model="A", time_to_first_token=n / 10, tokens_per_second=n * 10
        )
        if n <= 3:
            interactions.vote(db, alice, a, "up")
    for passed in (True, True, True, False, None):
        g = answer(db, alice, task="generate", model="B", time_to_first_token=0.5)
        if passed is not None:
            interactions.record_tool_results(db, alice, g, {"validation_passed": passed})
    interactions.vote(db, alice, g, "down")
    answer(db, alice, task="ask", model="A", finish_reason="error")  # no figures at all
    answer(db, bob, task="ask", model="A", time_to_first_token=99.0)

    s = interactions.stats(db, alice)
    assert s.answers == 16
    groups = {(g.job, g.model): g for g in s.groups}
    assert set(groups) == {("ask", "A"), ("generate", "B")}
    ask = groups[("ask", "A")]
    assert ask.answers == 11
    assert ask.ttft_median == pytest.approx(0.55)
    assert ask.ttft_p90 == pytest.approx(0.91)
    assert ask.tokens_per_second_median == pytest.approx(55)
    assert ask.tokens_per_second_p90 == pytest.approx(91)
    assert groups[("generate", "B")].tokens_per_second_median is None
    assert s.overall.answers == 16 and s.overall.ttft_median == pytest.approx(0.5)
    assert (s.generate_validated, s.generate_passed) == (4, 3)
    assert s.validation_pass_rate == 0.75
    assert (s.thumbs_up, s.thumbs_down) == (3, 1)
    assert s.thumbs_up_share == 3 / 16 and s.thumbs_down_share == 1 / 16
    assert s.as_dict()["validation_pass_rate"] == 0.75

    empty = interactions.stats(db, User(424242, "nobody", False))
    assert empty.answers == 0 and empty.validation_pass_rate is None
    assert empty.thumbs_up_share is None and empty.overall.ttft_median is None
    bobs = interactions.stats(db, bob)
    assert bobs.answers == 1 and bobs.overall.ttft_median == 99.0


def test_percentile_interpolates_between_ranks() -> None:
    assert interactions.percentile([], 0.5) is None
    assert interactions.percentile([3.0], 0.9) == 3.0
    assert interactions.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert interactions.percentile(list(range(101)), 0.9) == 90


def test_since_takes_a_date_or_a_time() -> None:
    assert interactions.parse_since("2024-05-01") < interactions.parse_since("2024-05-01T14:30")
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        interactions.parse_since("last week")
