"""Every job grounded in the user's project, within the context budget, sources said."""

from __future__ import annotations

from pathlib import Path

import pytest

from codenook.assist import jobs
from codenook.assist.jobs import JobEvent
from codenook.assist.project import grounding, index, repomap
from codenook.assist.session import ChatSession
from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.store import conversations as conv
from codenook.store import projects as store

OPTS = GenerationOptions(max_tokens=16, temperature=0.0, seed=1)


class Seen:
    """The events a job reported, by kind."""

    def __init__(self) -> None:
        self.events: list[JobEvent] = []
        self.text = ""

    def on_text(self, piece: str) -> None:
        self.text += piece

    def on_event(self, event: JobEvent) -> None:
        self.events.append(event)

    def of(self, kind: str) -> list[str]:
        return [e.text for e in self.events if e.kind == kind]


def _prompt(db, user, session: ChatSession) -> str:
    return next(
        m.content for m in conv.messages(db, user.id, session.conversation_id) if m.role == "user"
    )


def test_ask_adds_the_passages_that_answer_and_ends_with_sources(
    db, users, repo: Path, embedded_backend
) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    seen = Seen()
    s = ChatSession(db, alice, embedded_backend, OPTS)
    r = jobs.ask(
        s,
        "How many backups are kept, and how are the older ones deleted?",
        lookup=False,
        on_text=seen.on_text,
        on_event=seen.on_event,
    )
    assert "scripts/backup.sh:15" in r.sources
    prompt = _prompt(db, alice, s)
    assert "[scripts/backup.sh:15-20] function rotate_backups" in prompt
    assert grounding.HEADER in prompt
    assert seen.of("sources") and seen.of("sources")[-1].startswith("Sources: ")
    assert "scripts/backup.sh:15" in seen.of("sources")[-1]
    # The Q&A set's closest pair rides along as an example, within the same budget.
    ctx = grounding.for_question(
        db,
        alice,
        "A staff member forgot their password; how do I set a new one?",
        count_tokens=embedded_backend.count_tokens,
        budget=800,
    )
    assert "docs/faq.jsonl:1" in ctx.sources and ctx.tokens <= 800
    assert grounding.EXAMPLES_HEADER in ctx.block()
    assert ctx.block().index(grounding.HEADER) < ctx.block().index(grounding.EXAMPLES_HEADER)


def test_no_context_sends_the_question_alone(db, users, repo: Path, embedded_backend) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    s = ChatSession(db, alice, embedded_backend, OPTS)
    question = "How many backups are kept?"
    r = jobs.ask(s, question, lookup=False, context=False, on_text=lambda _: None)
    assert r.sources == []
    assert _prompt(db, alice, s) == question


def test_the_budget_holds_on_a_small_context(db, users, repo: Path) -> None:
    alice, _ = users
    # One function alone is several times the whole context.
    body = "\n".join(f"    total += rotate_backups_weight({n}) * {n}" for n in range(400))
    (repo / "big.py").write_text(
        f"def rotate_backups_total():\n    total = 0\n{body}\n    return total\n"
    )
    index.add(db, alice, repo, semantic=False)
    with LlamaBackend(embedded_model_path(), context_length=512, threads=2) as small:
        seen = Seen()
        s = ChatSession(db, alice, small, GenerationOptions(max_tokens=64, temperature=0.0))
        r = jobs.ask(
            s,
            "rotate backups total weight: how are old backups rotated?",
            lookup=False,
            on_text=seen.on_text,
            on_event=seen.on_event,
        )
        notes = " ".join(seen.of("note"))
        assert "left out for room" in notes
        assert "big.py:1 shortened to fit" in notes or "big.py:1 (" in notes
        answer = r.answer
        assert answer is not None and answer.result.finish_reason in ("stop", "length")
        # The prompt fitted next to the answer's room.
        assert answer.result.prompt_tokens + 64 <= 512
        assert r.sources


def test_review_gets_the_definitions_it_calls_and_its_callers(
    db, users, repo: Path, embedded_backend
) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    code = (
        "from stockroom.pricing import gross_price\n\n\n"
        "def round_currency(x):\n    return x\n\n\n"
        "def quote(net):\n    return gross_price(net, 0.2)\n"
    )
    ctx = grounding.for_code(
        db,
        alice,
        code,
        language="python",
        path=None,
        count_tokens=embedded_backend.count_tokens,
        budget=1500,
    )
    # gross_price is called here; round_currency is defined here, and pricing.py calls it.
    assert ctx.sources[0] == "stockroom/pricing.py:25"
    assert {"stockroom/pricing.py:13", "stockroom/pricing.py:20"} <= set(ctx.sources)
    assert ctx.tokens <= 1500
    f = repo / "quote.py"
    f.write_text(code)
    seen = Seen()
    s = ChatSession(db, alice, embedded_backend, OPTS)
    r = jobs.review(s, path=f, on_text=seen.on_text, on_event=seen.on_event)
    assert "stockroom/pricing.py:25" in r.sources
    assert "[stockroom/pricing.py:25-28] function gross_price" in _prompt(db, alice, s)
    assert seen.of("sources")


def test_completion_and_generation_context(db, users, repo: Path, embedded_backend) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    count = embedded_backend.count_tokens
    near = grounding.for_completion(
        db,
        alice,
        "def total(repo):\n    rows = repo.low_stock(3)\n    return ",
        "\n",
        language="python",
        path=None,
        count_tokens=count,
        budget=400,
    )
    assert near.sources == ["stockroom/db.py:62"]
    gen = grounding.for_generation(
        db, alice, "apply a discount to every price", count_tokens=count, budget=600
    )
    assert "stockroom/pricing.py:" in gen.repo_map
    assert "stockroom/pricing.py:13" in gen.sources
    assert gen.tokens <= 600


def test_repository_map_ranks_the_most_called_and_fits_the_budget(
    db, users, repo: Path, embedded_backend
) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    p = store.find_project(db, alice.id, "stockroom-repo")
    count = embedded_backend.count_tokens
    full = repomap.project_map(db, alice, p.id, count_tokens=count, budget=10_000)
    assert full.shown == full.total > 20
    small = repomap.project_map(db, alice, p.id, count_tokens=count, budget=60)
    assert 0 < small.shown < full.total and small.tokens <= 60
    assert count(small.text) <= 60
    # round_currency is called by three functions: the most referenced, shown first.
    assert "def round_currency" in small.text
    assert repomap.project_map(db, alice, p.id, count_tokens=count, budget=1).shown == 0


@pytest.mark.parametrize("language", ["python", "bash"])
def test_names_used_reads_calls_and_definitions(language: str) -> None:
    if language == "python":
        code = "def f():\n    g(1)\n    obj.h()\n"
        assert grounding.names_used(code, language="python") == (["g", "h"], ["f"])
    else:
        code = 'backup() {\n  rotate_backups "$1"\n}\nbackup /tmp\n'
        calls, defined = grounding.names_used(code, language="bash")
        assert defined == ["backup"] and "rotate_backups" in calls
