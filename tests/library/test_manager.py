"""Pull, use, remove and recommend: what the command line and the window call."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from codenook import config
from codenook.engine.download import Progress
from codenook.engine.embedded import embedded_model_path
from codenook.engine.hardware import Gpu, Hardware
from codenook.errors import ModelError
from codenook.library import hftoken, manager, registry
from tests.ggufs import write_gguf
from tests.hubserver import fake_hub

REPO, FILE = "mradermacher/Qwen2.5-Coder-1.5B-GGUF", "Qwen2.5-Coder-1.5B.Q4_K_M.gguf"
TOKEN = "hf_ManagerTestToken0123456789abcdef"
GIB = 1024**3


@pytest.fixture
def model_bytes(tmp_path: Path) -> bytes:
    """A small GGUF file standing in for the catalog's Qwen2.5-Coder 1.5B."""
    return write_gguf(tmp_path / "src.gguf", layers=28, heads=12, kv_heads=2).read_bytes()


def test_weights_folder_setting(tmp_path: Path) -> None:
    assert manager.weights_folder() == config.paths().models
    settings = config.load_settings()
    custom = replace(settings, models=config.ModelsSettings(folder=str(tmp_path / "w")))
    config.save_settings(custom)
    assert manager.weights_folder() == tmp_path / "w"


def test_pull_downloads_into_the_weights_folder_and_registers(model_bytes: bytes) -> None:
    seen: list[Progress] = []
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, model_bytes)
        result = manager.pull("qwen2.5-coder-1.5b", endpoint=endpoint, on_progress=seen.append)
        again = manager.pull("qwen2.5-coder-1.5b:Q4_K_M", endpoint=endpoint)
        gets = hub.gets()
    assert result.path == config.paths().models / FILE
    assert result.path.read_bytes() == model_bytes
    assert not result.already and again.already
    assert len(gets) == 1  # the second pull found it installed
    m = result.model
    assert m.name == "qwen2.5-coder-1.5b:Q4_K_M" and m.source == "pull"
    assert m.sha256 == hashlib.sha256(model_bytes).hexdigest()
    assert seen[-1].phase == "done"
    assert registry.find_installed("qwen2.5-coder-1.5b").path == str(result.path)


def test_pull_uses_the_stored_token_for_a_gated_repository(model_bytes: bytes) -> None:
    hftoken.save_token(TOKEN)
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, model_bytes)
        hub.gated.add(REPO)
        manager.pull("qwen2.5-coder-1.5b", endpoint=endpoint)
        heads = [h for _, p, h in hub.requests if p.startswith("/mradermacher/")]
    assert heads and heads[0]["authorization"] == f"Bearer {TOKEN}"


def test_pull_of_the_embedded_model_downloads_nothing() -> None:
    result = manager.pull("smollm2-135m-instruct")
    assert result.already and result.path == embedded_model_path()


def test_a_file_placed_by_hand_is_registered_by_pull(model_bytes: bytes) -> None:
    folder = config.paths().models
    folder.mkdir(parents=True)
    (folder / FILE).write_bytes(model_bytes)
    # HF_ENDPOINT points nowhere in tests: no download is attempted for a file that is there.
    result = manager.pull("qwen2.5-coder-1.5b")
    assert not result.already and result.model.source == "pull"


def test_use_sets_the_model_path_and_the_embedded_name_clears_it(model_bytes: bytes) -> None:
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, model_bytes)
        pulled = manager.pull("qwen2.5-coder-1.5b", endpoint=endpoint)
    manager.use("qwen2.5-coder-1.5b")
    assert config.load_settings().model.path == str(pulled.path)
    manager.use("smollm2-135m-instruct")
    assert config.load_settings().model.path is None


def test_use_of_a_path_registers_it(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "mine.gguf")
    found, settings_file = manager.use(str(path))
    assert found.path == path and settings_file.is_file()
    assert registry.find_installed("mine").source == "use"


def test_use_of_a_catalog_model_not_downloaded_says_pull() -> None:
    with pytest.raises(manager.NotInstalledError, match="codenook models pull codellama-7b:Q4_K_M"):
        manager.use("codellama-7b")


def test_remove_deletes_files_in_the_weights_folder_only(
    model_bytes: bytes, tmp_path: Path
) -> None:
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, model_bytes)
        pulled = manager.pull("qwen2.5-coder-1.5b", endpoint=endpoint)
    manager.use("qwen2.5-coder-1.5b")
    _, deleted = manager.remove("qwen2.5-coder-1.5b")
    assert deleted and not pulled.path.exists()
    assert config.load_settings().model.path is None  # no dangling setting
    outside = write_gguf(tmp_path / "keep.gguf")
    registry.register_file(outside, source="scan")
    _, deleted = manager.remove("keep")
    assert not deleted and outside.exists()
    with pytest.raises(ModelError, match="No installed model"):
        manager.remove("keep")
    with pytest.raises(ModelError, match="ships inside codenook"):
        manager.remove("smollm2-135m-instruct")


def machine(*gpus: Gpu, cores: int = 12) -> Hardware:
    return Hardware(gpus, 32 * 10**9, 28 * 10**9, cores, True, "nvml" if gpus else "none")


def test_recommendation_follows_the_machine() -> None:
    rtx = Gpu(0, "NVIDIA GeForce RTX 4060", 8 * GIB, int(7.5 * GIB), 272.0)
    assert manager.recommend(machine(rtx)).spec == "qwen2.5-coder-7b-instruct:Q4_K_M"
    gtx = Gpu(0, "NVIDIA GeForce GTX 1050 Ti", 4 * GIB, 4000 * 1024**2, 112.0)
    # No 7B fits the 1050 Ti fully, but 18 of 28 layers still make over 10 tokens/s.
    assert manager.recommend(machine(gtx)).spec == "qwen2.5-coder-7b-instruct:Q4_K_M"
    assert manager.recommend(machine(cores=2)).spec == "qwen2.5-coder-1.5b-instruct:Q4_K_M"
    assert manager.recommend(machine(cores=1)).spec == "smollm2-135m-instruct:Q4_1"


def test_rows_cover_catalog_and_installed_files(tmp_path: Path) -> None:
    registry.register_file(write_gguf(tmp_path / "mine.gguf"), source="scan")
    rows = manager.catalog_rows(machine(), context=4096)
    names = [r.name for r in rows]
    assert names[0] == "mistral-7b-instruct-v0.2:Q4_K_M" and "mine" in names
    smol = next(r for r in rows if r.name.startswith("smollm2"))
    assert smol.installed == "embedded" and smol.fit.mode == "cpu"
    assert all(r.fit is not None for r in rows)
