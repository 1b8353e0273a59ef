"""Retrieval quality on the fixture repository: recall@5 of each method and of their fusion."""

from __future__ import annotations

import json
from pathlib import Path

from codenook.assist.project import embed, index, search

QUESTIONS = json.loads(Path(__file__).with_name("questions.json").read_text())


def recall_at_5(db, user, method: str) -> tuple[float, list[str]]:
    """Share of questions with a right ``path:line`` among the first five hits; the misses."""
    missed = []
    for item in QUESTIONS:
        hits = search.search(db, user, item["q"], method=method, limit=5)
        if not {h.source for h in hits} & set(item["a"]):
            missed.append(f"{item['q']} -> {[h.source for h in hits]}")
    return 1 - len(missed) / len(QUESTIONS), missed


def test_the_fixture_has_enough_questions_with_real_answers(db, users, repo: Path) -> None:
    alice, _ = users
    index.add(db, alice, repo, semantic=False)
    starts = {
        f"{row['path']}:{row['start_line']}" for row in db.execute("SELECT * FROM project_chunks")
    }
    assert len(QUESTIONS) >= 30
    for item in QUESTIONS:
        # Every answer is where a definition, section or Q&A pair starts.
        assert set(item["a"]) <= starts, item


def test_recall_at_5_of_keyword_semantic_and_combined_and_the_vectors(
    db, users, repo: Path
) -> None:
    alice, _ = users
    assert embed.unavailable() is None, embed.unavailable()
    report = index.add(db, alice, repo)
    assert report.embedded == report.chunks > 0
    figures = {}
    for method in search.METHODS:
        figures[method], missed = recall_at_5(db, alice, method)
        print(f"recall@5 {method}: {figures[method]:.3f} ({len(QUESTIONS)} questions)")
        for m in missed:
            print(f"  missed ({method}): {m}")
    assert figures["combined"] >= 0.9
    # Each method alone finds most answers too; the fusion is no worse than either.
    assert figures["keyword"] >= 0.7 and figures["semantic"] >= 0.7
    assert figures["combined"] >= max(figures["keyword"], figures["semantic"]) - 0.03
    # Vectors are float32 blobs, kept when nothing changed.
    blob = db.execute("SELECT embedding FROM project_chunks LIMIT 1").fetchone()[0]
    assert len(blob) == embed.DIM * 4
    assert index.update(db, alice, "stockroom-repo").embedded == 0
    hits = search.search(db, alice, "make the price lower by some percent", method="semantic")
    assert hits[0].source == "stockroom/pricing.py:13"
