"""The project suite: questions about the fixture repository, grounded and not."""

from __future__ import annotations

from pathlib import Path

from codenook.assist.eval import runner
from codenook.assist.eval.project import QUESTIONS, ProjectSuite, judge
from codenook.assist.tools.sandbox import Limits
from codenook.engine.backend import GenerationOptions
from codenook.engine.llama import LlamaBackend
from tests.assist.project.conftest import FIXTURE_REPO


def test_twenty_questions_each_about_a_definition_the_repository_holds() -> None:
    suite = runner.make_suite("project", repo=FIXTURE_REPO)
    tasks = suite.tasks()
    assert len(tasks) == 20 and len({t.id for t in tasks}) == 20
    for _, _, path, function in QUESTIONS:
        text = (FIXTURE_REPO / path).read_text(encoding="utf-8")
        assert function in text, (path, function)


def test_scoring_on_fixed_answers() -> None:
    path, fn = "stockroom/db.py", "low_stock"
    both = judge("Use `Repository.low_stock` in stockroom/db.py.", path, fn)
    assert (both.passed, both.score, both.outcome) == (True, 1.0, "both")
    only_file = judge("It is in db.py, near the top.", path, fn)
    assert (only_file.passed, only_file.score, only_file.outcome) == (True, 0.5, "file")
    only_fn = judge("Call low_stock(threshold).", path, fn)
    assert (only_fn.passed, only_fn.outcome) == (True, "function")
    # Near misses are not the file or function: another file, a longer name.
    for wrong in ("See dbx.py and low_stock_report.", "mydb.py: slow_stock", "No idea."):
        verdict = judge(wrong, path, fn)
        assert (verdict.passed, verdict.score, verdict.outcome) == (False, 0.0, "wrong"), wrong
    suite = ProjectSuite(FIXTURE_REPO)
    for task in suite.tasks():
        ok = suite.check(task, suite.reference(task), limits=Limits(), cancel=None)
        assert ok.passed and ok.score == 1.0


def test_two_questions_on_the_embedded_model_grounded_and_not(
    embedded_backend: LlamaBackend, tmp_path: Path
) -> None:
    options = GenerationOptions(max_tokens=48, temperature=0.0, seed=0)
    grounded = ProjectSuite(FIXTURE_REPO)
    bare = ProjectSuite(FIXTURE_REPO, context=False)
    try:
        tasks = [t for t in grounded.tasks() if t.id in ("db-low", "price-tax")]
        for task in tasks:
            with_passages = grounded.request(embedded_backend, task.data["question"], options)
            # The grounded request holds the definition the answer lives in, with its path.
            assert f"[{task.data['file']}:" in with_passages
            assert task.data["function"] in with_passages
            without = bare.request(embedded_backend, task.data["question"], options)
            assert task.data["file"] not in without
            for suite in (grounded, bare):
                gen = suite.ask(embedded_backend, task, options)
                assert gen.completion.strip() and gen.tokens > 0
                verdict = suite.check(task, gen.completion, limits=Limits(), cancel=None)
                assert verdict.score in (0.0, 0.5, 1.0)
                assert verdict.passed == (verdict.score > 0)
    finally:
        grounded.close()
    assert grounded._index is None
