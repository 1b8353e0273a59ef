"""``codenook eval``: runs stored per task, kept when stopped, resumed, listed and compared."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codenook.assist.eval import runner
from codenook.store import evals as store
from codenook.store.db import open_database
from tests import qwen
from tests.conftest import CODENOOK, run_cli

pytestmark = pytest.mark.usefixtures("account")


def _user_id() -> int:
    db = open_database()
    try:
        return int(db.execute("SELECT id FROM users WHERE name = 'tester'").fetchone()[0])
    finally:
        db.close()


def _run(run_id: int) -> store.EvalRun:
    db = open_database()
    try:
        found = store.get_run(db, _user_id(), run_id)
    finally:
        db.close()
    assert found is not None
    return found


def _json_run(*args: str, timeout: float = 300) -> dict:
    proc = run_cli("eval", *args, "--json", timeout=timeout)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


# A model answers 5 tasks of each suite on two cores: minutes, not the default 300 s.
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("suite", ["humaneval", "bash"])
def test_a_five_task_subset_on_the_qwen_model_holds_up_when_checked_again(
    suite: str, qwen_model: Path
) -> None:
    # One thread: on a shared machine llama.cpp's threads wait on each other at every token.
    data = _json_run(
        suite, "--model", str(qwen_model), "--limit", "5", "--jobs", "2", "--context", "2048",
        "--threads", "1", timeout=1400,
    )  # fmt: skip
    assert data["done"] == 5 and data["status"] == "finished"
    run = _run(data["id"])
    assert run.model_sha256 == qwen.SHA256
    assert run.model_file == qwen.FILE_NAME
    assert run.runtime == "llama.cpp" and run.backend == "local"
    assert run.settings["temperature"] == 0.0 and run.settings["limit"] == 5
    assert run.machine["cores"] >= 1 and "cpu" in run.machine
    assert len(run.results) == 5
    for result in run.results:
        assert result.generate_seconds > 0 and result.tokens > 0
        assert result.completion.strip() or not result.passed
        again = runner.recheck(run, result)
        assert again.passed == result.passed, (result.task_id, result.completion, again.detail)
    print(
        f"{suite}: {run.passed}/5 passed on Qwen2.5-Coder-0.5B-Instruct Q4_K_M; answers "
        f"{sum(r.generate_seconds for r in run.results):.0f} s, "
        f"{sum(r.tokens for r in run.results)} tokens; "
        + ", ".join(f"{r.task_id}={r.outcome}" for r in run.results)
    )


def test_ctrl_c_keeps_finished_tasks_and_resume_finishes_the_rest() -> None:
    proc = subprocess.Popen(
        [str(CODENOOK), "eval", "bash", "--answers", "reference", "--jobs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 120
        run_id = None
        while time.monotonic() < deadline:
            time.sleep(0.2)
            db = open_database()
            try:
                row = db.execute(
                    "SELECT run_id, COUNT(*) FROM eval_results GROUP BY run_id"
                ).fetchone()
            finally:
                db.close()
            if row and row[1] >= 3:
                run_id = int(row[0])
                break
        assert run_id is not None, "no task finished"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    assert f"--resume {run_id}" in err.decode()
    stopped = _run(run_id)
    total = len(stopped.task_ids)
    assert stopped.status == "stopped"
    assert 3 <= stopped.done < total and stopped.passed == stopped.done
    data = _json_run("bash", "--resume", str(run_id))
    assert data["id"] == run_id and data["status"] == "finished"
    finished = _run(run_id)
    assert finished.done == total == finished.passed
    assert len({r.task_id for r in finished.results}) == total  # none run twice


def test_list_show_compare_json_and_plot(tmp_path: Path) -> None:
    good = _json_run("bash", "--answers", "reference", "--limit", "8", "--seed", "3")
    bad = _json_run("bash", "--answers", "empty", "--limit", "8", "--seed", "3")
    assert (good["passed"], bad["passed"]) == (8, 0)
    listed = json.loads(run_cli("eval", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [bad["id"], good["id"]]
    shown = run_cli("eval", "show", str(good["id"]))
    assert shown.returncode == 0
    assert "pass@1 100.0%" in shown.stdout.decode()
    assert shown.stdout.decode().count(" passed ") >= 8
    chart = tmp_path / "cmp.png"
    proc = run_cli("eval", "compare", str(good["id"]), str(bad["id"]), "--plot", str(chart))
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode()
    assert "Tasks only A passed: 8; only B passed: 0; common tasks: 8" in out
    assert "A - B = +100.0 points" in out and "p = 0.00781" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000
    data = json.loads(run_cli("eval", "compare", str(good["id"]), str(bad["id"]), "--json").stdout)
    assert data["comparison"]["difference"] == 1.0 and data["comparison"]["only_a"] == 8


@pytest.mark.parametrize(
    "args, message",
    [
        (["nonsense"], "Unknown suite or action 'nonsense'"),
        (["bash", "--runtime", "vllm"], "invalid choice: 'vllm'"),
        (["show"], "eval show takes one run id"),
        (["show", "99"], "No evaluation run 99 of yours"),
        (["bash", "--resume", "99"], "No evaluation run 99 of yours"),
        (["fim", "--answers", "reference"], "give --repo DIR"),
        (["bash", "--limit", "0"], "--limit must be at least 1"),
        (["bash", "--bare"], "--bare goes with a job suite (gen, review, debug, doc)"),
    ],
)
def test_bad_input_is_one_line(args: list[str], message: str) -> None:
    proc = run_cli("eval", *args)
    assert proc.returncode == 2
    err = proc.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_fim_suite_on_a_repository_with_known_answers(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.py").write_text(
        "def area(w, h):\n    result = w * h\n    return result\n\n\nprint(area(2, 3))\n"
    )
    (repo / "run.sh").write_text('#!/bin/bash\nfor f in *.txt; do\n    wc -l "$f"\ndone\n')
    data = _json_run("fim", "--repo", str(repo), "--answers", "reference", "--limit", "6")
    assert data["done"] == 6 and data["score"] == 1.0
    empty = _json_run("fim", "--repo", str(repo), "--answers", "empty", "--limit", "6")
    assert empty["passed"] == 0 and empty["score"] == 0.0
    assert _run(data["id"]).task_ids == _run(empty["id"]).task_ids  # same seed, same gaps


def test_the_command_is_listed() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "codenook", "eval", "--help"], capture_output=True, check=False
    )
    assert proc.returncode == 0
    assert b"--resume ID" in proc.stdout and b"--plot FILE.png" in proc.stdout


def test_project_suite_with_and_without_context_is_stored_as_such() -> None:
    from tests.assist.project.conftest import FIXTURE_REPO

    repo = str(FIXTURE_REPO)
    good = _json_run("project", "--repo", repo, "--answers", "reference")
    assert good["done"] == 20 and good["passed"] == 20 and good["score"] == 1.0
    assert good["settings"]["context"] is True
    bare = _json_run("project", "--repo", repo, "--answers", "empty", "--no-context")
    assert bare["passed"] == 0 and bare["settings"]["context"] is False
    shown = run_cli("eval", "show", str(bare["id"])).stdout.decode()
    assert "project (no context)" in shown


@pytest.mark.parametrize("suite", ["review", "debug", "doc"])
def test_a_job_suites_sides_are_stored_and_paired_by_compare(suite: str) -> None:
    # The known-good answers on codenook's side, none on the bare side: compare pairs them.
    good = _json_run(suite, "--answers", "reference", "--limit", "4", "--seed", "2")
    assert good["settings"]["side"] == "codenook" and good["passed"] == 4
    bare = _json_run(suite, "--answers", "empty", "--bare", "--limit", "4", "--seed", "2")
    assert bare["settings"]["side"] == "bare" and bare["passed"] == 0
    assert _run(good["id"]).task_ids == _run(bare["id"]).task_ids
    proc = run_cli("eval", "compare", str(good["id"]), str(bare["id"]))
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert f"{suite} (codenook)" in out and f"{suite} (bare)" in out
    assert "only A passed: 4; only B passed: 0; common tasks: 4" in out
    listed = run_cli("eval", "list").stdout.decode()
    assert f"{suite} (codenook)" in listed and f"{suite} (bare)" in listed
