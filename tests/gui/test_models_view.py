"""The first-run panel and the model manager in the real window under Xvfb."""

from __future__ import annotations

import os
import shutil
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path
from tkinter import font as tkfont

import pytest

from codenook import config
from codenook.engine import hardware
from codenook.engine.download import Progress
from codenook.engine.embedded import embedded_model_path
from codenook.engine.hardware import Hardware
from codenook.gui.app import App
from codenook.gui.models_view import FirstRunPanel, Recommended, progress_text, size_text
from codenook.library import manager, registry
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


#: The hardware the issue's newcomer had: no GPU library, nothing from nvidia-smi.
NO_GPU = Hardware(
    gpus=(),
    ram_total_bytes=64 * 10**9,
    ram_available_bytes=60 * 10**9,
    physical_cores=8,
    gpu_offload=False,
    gpu_note="NVML unavailable: NVML Shared Library Not Found; nvidia-smi not found",
)


def settle_library(root: tk.Tk, app: App) -> None:
    """Wait until the library worker has done what it was given (the real recommendation)."""
    done: list[bool] = []
    app.library.submit(lambda: done.append(True))
    pump(root, lambda: bool(done) and app.bus.empty(), timeout=60)
    root.update()


def not_cut(label: tk.Misc) -> bool:
    """Whether a label shows all it asks for (its lines wrap within its width and height)."""
    label.update_idletasks()
    return (
        label.winfo_reqwidth() <= label.winfo_width()
        and label.winfo_reqheight() <= label.winfo_height()
    )


def test_first_start_shows_the_whole_download_button_and_a_plain_sentence(first_start) -> None:
    root, app = first_start
    login(root, app)
    panel = app.first_run
    settle_library(root, app)
    choice = manager.recommend(NO_GPU, context=4096)
    fit = manager.fit_for_choice(choice, NO_GPU, context=4096)
    label = f"Download {choice.spec} ({size_text(choice.quant.size)})"
    app.bus.publish(Recommended(panel, choice.spec, label, fit))
    root.update()
    button = panel.download_button
    assert button.cget("text") == label
    needed = tkfont.nametofont("TkDefaultFont").measure(label)
    assert button.winfo_reqwidth() >= needed and button.winfo_width() >= needed
    said = panel.message.cget("text")
    assert "processor" in said and "tokens/s" in said
    for raw in ("NVML", "nvidia-smi", "GB/s assumed"):
        assert raw not in said
    assert not panel.details.winfo_ismapped()
    panel.details_button.invoke()
    root.update()
    assert panel.details.winfo_ismapped() and "NVML unavailable" in panel.details.cget("text")
    panel.details_button.invoke()
    root.update()
    assert not panel.details.winfo_ismapped()
    # The offline instructions end with the command to run: all of it is on screen.
    panel.download()
    pump(root, lambda: "models scan" in panel.message.cget("text"), timeout=60)
    assert not_cut(panel.message)


def test_the_models_table_scrolls_sideways_and_cuts_no_column(account, monkeypatch) -> None:
    monkeypatch.setattr(hardware, "detect", lambda: NO_GPU)
    root, app = make_app(first_run_done=True)
    try:
        login(root, app)
        win = app.models.open_models()
        pump(root, lambda: bool(win.rows))
        root.update()
        assert win.xscroll.winfo_ismapped()
        font = tkfont.nametofont("TkDefaultFont")
        children = win.table.get_children()
        for col in win.COLUMNS:
            width = int(win.table.column(col, "width"))
            for iid in children:
                assert font.measure(win.table.set(iid, col)) < width, (col, win.table.set(iid, col))
        width = int(win.table.column("#0", "width"))
        assert all(font.measure(win.table.item(i, "text")) < width for i in children)
        for iid in children:
            assert "NVML" not in win.table.set(iid, "fit")
        # The lines under the table are whole at the default size, a long one included.
        win.select("qwen2.5-coder-1.5b:Q4_K_M")
        root.update()
        assert "NVML unavailable" in win.fit_line.cget("text")
        win.download_selected()
        pump(root, lambda: "models scan" in win.message.cget("text"), timeout=60)
        root.update()
        for line in (win.fit_line, win.message):
            assert not_cut(line), line.cget("text")
            bottom = line.winfo_rooty() + line.winfo_height()
            assert bottom <= win.winfo_rooty() + win.winfo_height()
    finally:
        app.close()


def test_the_models_window_lists_adapters_and_uses_the_chosen_one(account, tmp_path) -> None:
    """Issue 21: a choice of adapter in the Models window, saved and loaded like
    `models use --adapter`; one made for another base is refused with its reason."""
    import time as _time

    from codenook.gui.adapter_row import NONE

    registry.register_adapter(
        registry.InstalledAdapter(
            name="quoll",
            path=str(tmp_path / "adapter.gguf"),
            peft=str(tmp_path / "peft"),
            base_name="another-model.gguf",
            base_sha256="0" * 64,
            added=_time.time(),
            ppl_before=22.6,
            ppl_after=3.1,
        )
    )
    root, app = make_app()
    try:
        login(root, app)
        window = app.models.open_models()
        row = window.adapters
        pump(root, lambda: len(row.choice.cget("values")) == 2)
        label = row.choice.cget("values")[1]
        assert row.choice.get() == NONE
        assert label == "quoll (for another-model.gguf; held-out perplexity 22.6 → 3.1)"
        row.choice.set(label)
        row.use()
        assert app.settings.model.adapter == "quoll"
        pump(root, lambda: config.load_settings().model.adapter == "quoll")
        assert "adapter quoll" in window.message.cget("text")
        # The load refuses an adapter trained on another base, and says which it needs.
        pump(root, lambda: "another-model.gguf" in app.transcript.content(), timeout=60)
    finally:
        app.close()
