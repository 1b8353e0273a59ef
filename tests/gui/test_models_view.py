"""The first-run panel and the model manager in the real window under Xvfb."""

from __future__ import annotations

import os
import shutil
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook import config
from codenook.engine.download import Progress
from codenook.engine.embedded import embedded_model_path
from codenook.gui.app import App
from codenook.gui.models_view import FirstRunPanel, progress_text, size_text
from codenook.library import registry
from tests.ggufs import write_gguf
from tests.gui.conftest import pump
from tests.gui.test_app import login
from tests.hubserver import fake_hub

REPO, FILE = "mradermacher/Qwen2.5-Coder-1.5B-GGUF", "Qwen2.5-Coder-1.5B.Q4_K_M.gguf"
TOKEN = "hf_WindowTestToken0123456789abcdef"


def make_app(**models: object) -> tuple[tk.Tk, App]:
    root = tk.Tk()
    settings = config.Settings(
        model=config.ModelSettings(context_length=2048, threads=2),
        generation=config.GenerationSettings(max_tokens=16, temperature=0.0, seed=1),
        models=config.ModelsSettings(**models),
    )
    return root, App(root, settings=settings)


@pytest.fixture
def first_start(account) -> Iterator[tuple[tk.Tk, App]]:
    root, app = make_app()
    yield root, app
    if not app.closing:
        app.close()


def test_sizes_and_progress_read_well() -> None:
    assert size_text(4_368_439_584) == "4.37 GB"
    assert size_text(270_000_000) == "270 MB"
    assert progress_text(Progress(512 * 10**6, 2 * 10**9, "download")) == (
        "Downloading: 512 MB of 2.00 GB (26%)"
    )
    assert "checksum" in progress_text(Progress(1, 1, "verify"))


def test_first_start_asks_and_a_folder_of_gguf_files_is_registered(first_start, tmp_path) -> None:
    root, app = first_start
    login(root, app)
    panel = app.first_run
    assert isinstance(panel, FirstRunPanel) and panel.winfo_ismapped()
    folder = tmp_path / "weights"
    (folder / "old").mkdir(parents=True)
    # A runnable model (a copy of the embedded one) and a header-only file beside it.
    shutil.copyfile(embedded_model_path(), folder / "a-smol.gguf")
    write_gguf(folder / "old" / "tiny.gguf")
    (folder / "notes.gguf").write_text("not a model")
    panel.scan(str(folder))
    pump(root, lambda: bool(panel.found))
    paths = {Path(m.path).name for m in registry.load_registry()}
    assert {"a-smol.gguf", "tiny.gguf"} <= paths
    assert "notes.gguf" not in paths
    assert "Found 2 model(s)" in panel.message.cget("text") and "1 skipped" in panel.message.cget(
        "text"
    )
    assert config.load_settings().models.folder == str(folder)  # the weights folder, saved
    assert panel.picked.get().startswith("a-smol")
    panel.use_picked()
    pump(root, lambda: app.first_run is None, timeout=30)
    pump(root, lambda: app.backend is not None and app.answering.state == "ready", timeout=60)
    assert app.backend.info.path == str(folder / "a-smol.gguf")
    saved = config.load_settings()
    assert saved.model.path == str(folder / "a-smol.gguf") and saved.models.first_run_done
    status = app.status.cget("text")
    assert "ready" in status and "loading" not in status


def test_using_the_embedded_model_answers_the_question_for_good(first_start) -> None:
    root, app = first_start
    login(root, app)
    assert app.first_run is not None
    app.first_run.use_embedded()
    assert app.first_run is None
    pump(root, lambda: config.load_settings().models.first_run_done)
    app.close()
    root2, again = make_app(first_run_done=True)
    try:
        login(root2, again)
        assert again.first_run is None
    finally:
        again.close()


def test_model_manager_downloads_uses_removes_and_keeps_the_token(account, tmp_path, monkeypatch):
    data = write_gguf(tmp_path / "q.gguf", layers=28, heads=12, kv_heads=2).read_bytes()
    root, app = make_app(first_run_done=True)
    try:
        login(root, app)
        win = app.models.open_models()
        pump(root, lambda: bool(win.rows))
        names = [r.name for r in win.rows.values()]
        assert "qwen2.5-coder-1.5b:Q4_K_M" in names
        embedded = next(r for r in win.rows.values() if r.installed == "embedded")
        [iid] = [i for i, r in win.rows.items() if r is embedded]
        assert "in use" in win.table.set(iid, "where")
        assert win.table.set(iid, "fit")  # the fit on this machine is shown
        with fake_hub() as (endpoint, hub):
            hub.add(REPO, FILE, data)
            monkeypatch.setenv("HF_ENDPOINT", endpoint)
            win.select("qwen2.5-coder-1.5b:Q4_K_M")
            win.download_selected()
            pump(root, lambda: "Select it and press Use" in win.message.cget("text"), timeout=60)
        dest = config.paths().models / FILE
        assert dest.read_bytes() == data
        assert float(win.progress.cget("value")) == pytest.approx(1.0)
        pump(root, lambda: any(r.installed == str(dest) for r in win.rows.values()))
        # The token: stored, shown masked, never in the settings file.
        win.token_entry.insert(0, TOKEN)
        win.save_token()
        assert win.token_entry.get() == ""
        pump(root, lambda: "hf_****cdef" in win.token_state.cget("text"))
        home = Path(os.environ["CODENOOK_HOME"])  # settings, logs, database: never the token
        assert not [f for f in home.rglob("*") if f.is_file() and TOKEN.encode() in f.read_bytes()]
        win.remove_token()
        pump(root, lambda: win.token_state.cget("text") == "none stored")
        # A bad token is said, not stored.
        win.token_entry.insert(0, "not-a-token")
        win.save_token()
        pump(root, lambda: "not a Hugging Face access token" in win.message.cget("text"))
        win.select("qwen2.5-coder-1.5b:Q4_K_M")
        win.remove_selected(confirm=False)
        pump(root, lambda: "deleted its file" in win.message.cget("text"))
        assert not dest.exists()
    finally:
        app.close()


def test_first_run_download_failure_is_shown_and_the_window_keeps_working(first_start) -> None:
    root, app = first_start
    login(root, app)
    panel = app.first_run
    # HF_ENDPOINT points at a dead port in tests: the download fails at once, clearly.
    panel.recommended = "qwen2.5-coder-1.5b"
    panel.download()
    pump(root, lambda: "models scan" in panel.message.cget("text"), timeout=60)
    assert panel.message.cget("foreground") == "#dc2626"
    assert "disabled" not in panel.download_button.state()
    app.answering.send("Say hi.")
    pump(root, lambda: app.answering.state == "ready" and not app.transcript.streaming)
    assert "codenook" in app.transcript.content()
