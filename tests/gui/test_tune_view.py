"""Tune on my code… in the real window under Xvfb: the embedded model, two fixture
repositories, a Q&A dataset and a liked answer."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import tkinter as tk
from pathlib import Path

from codenook.gui.tune_view import TuneView
from codenook.store import conversations, interactions
from codenook.store.db import open_database
from codenook.tuning import session
from tests.gui.conftest import pump
from tests.gui.test_app import answered, login, window  # noqa: F401  (the fixture)
from tests.tuning.fixture_repo import make_style_repo

#: The longest the event loop may go without a tick while the model trains.
MAX_STALL = 0.2


class Ticks:
    """The event loop's heartbeat: an ``after`` callback every 10 ms, its times kept."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root
        self.times: list[float] = []
        self.on = False
        self._beat()

    def _beat(self) -> None:
        if self.on:
            self.times.append(time.monotonic())
        self.job = self.root.after(10, self._beat)

    def longest_gap(self) -> float:
        return max(b - a for a, b in zip(self.times, self.times[1:], strict=False))


def _material(root: Path) -> tuple[Path, Path, Path]:
    """Two repositories (the Python fixture, and a folder of Bash tools) and a Q&A file."""
    repo = make_style_repo(root, modules=12, heldout=2)
    (repo / "vendor").mkdir()
    (repo / "vendor" / "six.py").write_text("def six():\n    return 6\n")
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    tools = root / "tools"
    tools.mkdir()
    for i in range(3):
        (tools / f"qk_tool_{i}.sh").write_text(
            f'#!/usr/bin/env bash\nset -euo pipefail\nqk_log() {{ echo "tool {i}: $*"; }}\n'
            f'qk_log "start"\nfor f in "$@"; do\n    qk_log "$f"\ndone\n'
        )
    qa = root / "qa.jsonl"
    records = [
        {"instruction": f"What does qk_fold {i} do?", "output": "Folds a batch."} for i in range(2)
    ]
    qa.write_text("".join(json.dumps(r) + "\n" for r in records))
    return repo, tools, qa


def _like_an_answer(user_id: int) -> None:
    db = open_database()
    try:
        cid = conversations.create_conversation(db, user_id, title="t", system_prompt="sys")
        conversations.add_message(db, user_id, cid, role="user", content="How do I guard?")
        mid = conversations.add_message(
            db, user_id, cid, role="assistant", content="Call qk_guard(batch, name) first."
        )
        assert interactions.set_vote(db, user_id, mid, 1)
    finally:
        db.close()


def _configure(view: TuneView, *, steps: int, name: str) -> None:
    view.steps.set(str(steps))
    view.seq_len.set("64")
    view.lr.set("0.003")
    view.name.delete(0, "end")
    view.name.insert(0, name)


def test_tune_window_trains_off_the_tk_thread_stops_and_shows_the_result(
    window,  # noqa: F811
    tmp_path: Path,
) -> None:
    root, app = window
    login(root, app)
    repo, scripts, qa = _material(tmp_path)
    _like_an_answer(app.user.id)
    # Tools ▸ Tune on my code… opens it; a second time raises the same window.
    bar = app.menu
    [tools] = [
        root.nametowidget(bar.entrycget(i, "menu"))
        for i in range(bar.index("end") + 1)
        if bar.type(i) == "cascade" and bar.entrycget(i, "label") == "Tools"
    ]
    assert tools.entrycget(0, "label") == "Tune on my code…"
    tools.invoke(0)
    view = app.models.tune_window
    assert isinstance(view, TuneView) and view.winfo_exists()
    assert app.models.open_tune() is view
    assert view.steps.get() == "200" and view.rank.get() == "8"  # the tuning module's defaults
    ticks = Ticks(root)

    # The summary first (nothing trained): the files used from both folders, the Q&A
    # records and the liked answer, and what was skipped and why.
    view.sources.add_repo(str(repo))
    view.sources.add_repo(str(scripts))
    view.sources.add_repo(str(scripts))  # once is enough
    view.sources.add_qa(str(qa))
    view.sources.liked.set(True)
    assert view.sources.material().repos == (str(repo), str(scripts))
    _configure(view, steps=500, name="stopped")
    view.check()
    pump(root, lambda: not view.running, 120)
    summary = view.summary.cget("text")
    assert "Files: 15 used" in summary, (summary, view.status.cget("text"))
    assert "Skipped: 1 vendored." in summary, summary
    assert "3 chat" in summary, summary  # two Q&A records and the liked answer
    assert not view.losses and not session.adapter_folder("stopped").exists()

    # A long run, stopped once the loss curve has begun: the checkpoint stays.
    view.start()
    assert view.thread is not None and view.thread is not threading.current_thread()
    pump(root, lambda: len(view.losses) >= 1 or not view.running, 180)
    assert view.summary.cget("text") == summary
    ticks.on = True
    pump(root, lambda: len(view.losses) >= 3 or not view.running, 60)
    ticks.on = False
    assert view.losses and len(view.losses) >= 3, view.status.cget("text")
    assert "loss" in view.status.cget("text") and "tokens/s" in view.status.cget("text")
    assert float(view.bar.cget("value")) >= 3
    assert len(view.curve.find_all()) >= 2  # the curve and its label
    assert len(ticks.times) >= 10 and ticks.longest_gap() < MAX_STALL, ticks.longest_gap()
    gap = ticks.longest_gap() * 1000
    print(f"longest event-loop gap while training: {gap:.0f} ms, {len(ticks.times)} ticks")
    view.stop()
    pump(root, lambda: not view.running, 60)
    status = view.status.cget("text")
    assert "Stopped at step" in status, status
    assert (session.adapter_folder("stopped") / "checkpoint.pt").is_file()
    assert str(view.use_button.cget("state")) == "disabled" and view.adapter is None

    # A short run to the end: the before/after figures (perplexity, and the fim suite on
    # the held-out files), the adapter, and "Use this adapter".
    _configure(view, steps=3, name="quoll")
    view.fim_tasks.set("3")
    view.start()
    pump(root, lambda: not view.running, 400)
    result = view.result.cget("text")
    assert "held-out perplexity" in result, (result, view.status.cget("text"))
    assert "fim exact match (3 gaps)" in result and "fim edit similarity" in result, result
    assert "codenook eval compare" in result, result
    adapter = session.adapter_folder("quoll") / "adapter.gguf"
    assert adapter.is_file() and str(adapter) in result
    assert str(view.use_button.cget("state")) == "normal"
    view.use_adapter()
    assert app.settings.model.adapter == "quoll"
    pump(root, lambda: app.backend is not None, 120)  # the chat reloads with the adapter
    root.after_cancel(ticks.job)
    assert app.backend.info.adapter == str(adapter)
    assert "adapter quoll" in app.status.cget("text")

    # Every answer's log entry names the adapter.
    app.answering.send("Write qk_guard.")
    pump(root, lambda: answered(app), 120)
    db = open_database()
    try:
        # The newest answer; the other is the liked one planted before training.
        entry, liked = interactions.answers(db, app.user.id)
    finally:
        db.close()
    assert entry.adapter == "quoll" and entry.complete
    assert liked.vote == 1 and liked.adapter is None
