"""Before and after, measured: 'tune run' scores the fim suite on the held-out files twice
(the base, then the base with the exported adapter through llama.cpp) and keeps it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codenook.library.registry import load_adapters
from codenook.store import evals
from codenook.store.db import open_database
from codenook.tuning import session
from codenook.tuning.dataset import Dataset, Sample, Summary
from codenook.tuning.measure import FimFigures, before_after_lines, heldout_repo
from tests.conftest import run_cli
from tests.tuning.fixture_repo import make_style_repo, seed_base

pytestmark = pytest.mark.usefixtures("account")
TRAIN = ("--steps", "2", "--seq-len", "48", "--lr", "0.003", "--threads", "2")


def _side_by_side(out: str, label: str) -> tuple[str, str]:
    """The before and after cells of the row starting with ``label``."""
    [line] = [ln for ln in out.splitlines() if ln.startswith(label)]
    before, after = line[len(label) :].split()
    return before, after


def test_tune_run_measures_fim_before_and_after_and_keeps_it(
    tmp_path: Path,
    base_dir: Path,
) -> None:
    seed_base(base_dir)  # the base prepared once for the session, not again here
    repo = make_style_repo(tmp_path, modules=10, heldout=2)
    data = tmp_path / "dataset"
    built = run_cli("tune", "data", str(repo), "--heldout", "quoll/later/", "--out", str(data))
    assert built.returncode == 0, built.stderr
    bad = run_cli("tune", "run", "--data", str(data), "--fim-tasks", "-1")
    assert bad.returncode == 2 and b"--fim-tasks" in bad.stderr

    proc = run_cli(
        "tune", "run", "--data", str(data), "--name", "quoll", "--fim-tasks", "3", *TRAIN,
        timeout=900,
    )  # fmt: skip
    out = proc.stdout.decode()
    assert proc.returncode == 0, (out, proc.stderr.decode()[-2000:])
    print(out)
    ppl = _side_by_side(out, "held-out perplexity")
    exact = _side_by_side(out, "fim exact match (3 gaps)")
    similarity = _side_by_side(out, "fim edit similarity")
    assert all(re.fullmatch(r"\d+\.\d{3}", x) for x in (*ppl, *similarity)), out
    assert all(re.fullmatch(r"[0-3]/3", x) for x in exact), out

    [adapter] = load_adapters()
    assert adapter.fim_tasks == 3
    assert (
        f"{adapter.fim_exact_before}/3" == exact[0] and f"{adapter.fim_exact_after}/3" == exact[1]
    )
    assert f"{adapter.fim_similarity_before:.3f}" == similarity[0]
    assert f"{adapter.fim_similarity_after:.3f}" == similarity[1]
    assert adapter.eval_before and adapter.eval_after and adapter.eval_before != adapter.eval_after
    assert f"codenook eval compare {adapter.eval_before} {adapter.eval_after}" in out

    db = open_database()
    try:
        uid = db.execute("SELECT id FROM users WHERE name = 'tester'").fetchone()[0]
        before = evals.get_run(db, uid, adapter.eval_before)
        after = evals.get_run(db, uid, adapter.eval_after)
    finally:
        db.close()
    assert before is not None and after is not None
    for run, figure in (
        (before, adapter.fim_similarity_before),
        (after, adapter.fim_similarity_after),
    ):
        assert run.suite == "fim" and run.status == "finished" and run.done == 3
        assert abs(run.mean_score - figure) < 1e-3
        # Only the held-out files are measured: the gaps are all in quoll/later/.
        assert all(t.startswith("quollrepo/quoll/later/") for t in run.task_ids), run.task_ids
    assert before.task_ids == after.task_ids
    assert before.settings["repo"] == str(session.adapter_folder("quoll") / "heldout")
    assert before.settings["adapter"] is None
    assert after.settings["adapter"] == adapter.path and "adapter quoll" in after.model

    compared = run_cli("eval", "compare", str(adapter.eval_before), str(adapter.eval_after))
    assert compared.returncode == 0 and b"common tasks: 3" in compared.stdout, compared
    listed = run_cli("models", "list")
    assert listed.returncode == 0
    [row] = [ln for ln in listed.stdout.decode().splitlines() if "quoll  for" in ln]
    assert f"fim exact {exact[0]} → {exact[1]}" in row and "held-out perplexity" in row, row
    tuned = run_cli("tune", "list")
    assert tuned.returncode == 0 and f"fim exact {exact[0]} → {exact[1]}" in tuned.stdout.decode()

    # The fim part off: the run still trains, exports and registers, with perplexity only.
    plain = run_cli(
        "tune", "run", "--data", str(data), "--name", "plain", "--fim-tasks", "0", *TRAIN,
        timeout=900,
    )  # fmt: skip
    out = plain.stdout.decode()
    assert plain.returncode == 0, plain.stderr.decode()[-2000:]
    assert "held-out perplexity" in out and "Adapter 'plain' saved" in out, out
    assert "fim exact" not in out and "Measuring fill-in" not in out, out
    [record] = [a for a in load_adapters() if a.name == "plain"]
    assert record.fim_tasks is None and record.eval_before is None
    assert Path(record.path).is_file()


def test_heldout_repo_rebuilds_the_files_and_keeps_inside_its_folder(tmp_path: Path) -> None:
    text = "def a():\n    return 1\n" * 150  # long enough to be cut into chunks
    pieces = [text[:1800], text[1800:]]
    heldout = [Sample("causal", "r/pkg/a.py", p) for p in pieces]
    heldout += [Sample("causal", "../evil.py", "x = 1\n"), Sample("causal", "r/notes.md", "# n\n")]
    folder = heldout_repo(Dataset([], heldout, Summary()), tmp_path / "held")
    assert folder is not None
    assert (folder / "r" / "pkg" / "a.py").read_text() == text
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["a.py"]
    assert not (tmp_path / "evil.py").exists()
    assert heldout_repo(Dataset([], [], Summary()), tmp_path / "none") is None


def test_before_after_lines_align_both_measures() -> None:
    lines = before_after_lines(
        ppl_before=12.5,
        ppl_after=4.25,
        fim_before=FimFigures(3, 0, 0.4, 7),
        fim_after=FimFigures(3, 2, 0.8125, 8),
    )
    assert lines[1].split()[-2:] == ["12.500", "4.250"]
    assert lines[2].endswith("0/3       2/3") and lines[3].split()[-2:] == ["0.400", "0.812"]
    assert lines[-1] == "eval runs 7 and 8: 'codenook eval compare 7 8'"
    assert (
        before_after_lines(ppl_before=None, ppl_after=None, fim_before=None, fim_after=None) == []
    )


def test_held_out_files_without_gaps_leave_the_fim_part_out_with_a_reason(tmp_path: Path) -> None:
    said: list[str] = []
    tiny = Dataset([], [Sample("causal", "r/a.py", "x\n")], Summary())
    figures = session.measure_fim(
        tiny, tmp_path / "base.gguf", tmp_path / "a.gguf", name="tiny", tasks=3, say=said.append
    )
    assert figures == (None, None)
    assert said[-1].startswith("The fim before/after is left out:") and "hold out" in said[-1]
