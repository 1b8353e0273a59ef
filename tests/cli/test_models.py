"""``codenook models`` through the real command, with a hub-like server on loopback."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from codenook import config
from codenook.engine.download import Progress
from codenook.engine.embedded import embedded_model_path
from tests.conftest import run_cli
from tests.ggufs import write_gguf
from tests.hubserver import fake_hub

REPO, FILE = "mradermacher/Qwen2.5-Coder-1.5B-GGUF", "Qwen2.5-Coder-1.5B.Q4_K_M.gguf"
TOKEN = "hf_CliSecretToken9876543210zyxwvu"
NAMES = [
    "mistral-7b-instruct-v0.2",
    "mistral-7b-instruct-v0.3",
    "codellama-7b-instruct",
    "codellama-7b",
    "qwen2.5-coder-7b-instruct",
    "qwen2.5-coder-1.5b",
    "qwen2.5-coder-1.5b-instruct",
    "deepseek-coder-6.7b-instruct",
    "smollm2-135m-instruct",
]


def ok(*args: str, **kwargs: object) -> tuple[str, str]:
    proc = run_cli(*args, **kwargs)  # type: ignore[arg-type]
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode(), proc.stderr.decode()


def refused(*args: str, **kwargs: object) -> str:
    proc = run_cli(*args, **kwargs)  # type: ignore[arg-type]
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_list_shows_the_catalog_with_fit_and_the_model_in_use() -> None:
    out, _ = ok("models", "list")
    assert out.startswith("This machine: ")
    for name in NAMES:
        assert name in out
    smol = next(line for line in out.splitlines() if "smollm2-135m-instruct" in line)
    assert smol.startswith("*") and "embedded" in smol and "tokens/s" in smol
    rows = json.loads(ok("models", "list", "--json")[0])
    assert [r["name"].split(":")[0] for r in rows] == NAMES
    assert next(r for r in rows if r["name"].startswith("smollm2"))["in_use"]
    assert all(r["fit"] and r["tokens_per_second"] for r in rows)


def test_list_offers_the_shared_models_folder_beside_yours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "no shared models folder" in refused("models", "pull", "--shared", NAMES[1])
    shared = tmp_path / "shared"
    shared.mkdir()
    system = tmp_path / "system.toml"
    system.write_text(f'[models]\nshared_folder = "{shared}"\n')
    monkeypatch.setenv("CODENOOK_SYSTEM_CONFIG", str(system))
    out, _ = ok("models", "list")
    line = next(x for x in out.splitlines() if x.startswith("Models folders: "))
    assert line.endswith(f"; shared {shared}") and "yours " in line


def test_info_of_a_catalog_model_and_of_the_embedded_file() -> None:
    out, _ = ok("models", "info", "codellama-7b-instruct:Q8_0")
    assert "codellama-7b-instruct:Q8_0 (Code Llama 7B Instruct)" in out
    assert "not downloaded: codenook models pull codellama-7b-instruct:Q8_0" in out
    assert "chat format:     codellama-instruct" in out
    assert "fill format:     codellama" in out
    assert "https://huggingface.co/TheBloke/CodeLlama-7B-Instruct-GGUF" in out
    out, _ = ok("models", "info", "smollm2-135m-instruct")
    assert f"{embedded_model_path()}  (embedded)" in out
    assert "quantization:    Q4_1" in out and "parameters:      135M" in out
    assert "layers:          30, 9 heads, 3 KV heads of 64" in out
    assert "on this machine: runs on the CPU" in out or "on the" in out
    assert "No model called 'gpt-9'" in refused("models", "info", "gpt-9")


def test_scan_then_use_makes_ask_and_info_load_it(tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "my-smol.gguf").symlink_to(embedded_model_path())
    out, err = ok("models", "scan", str(folder))
    assert "added    my-smol" in out and "1 added" in err
    ok("models", "use", "my-smol")
    assert config.load_settings().model.path == str(folder / "my-smol.gguf")
    out, _ = ok("info", "--threads", "1", "--context", "256")
    assert "fit:" in out and "chosen for this machine" in out
    ok("models", "use", "smollm2-135m-instruct")
    assert config.load_settings().model.path is None


def test_pull_list_and_rm(tmp_path: Path) -> None:
    data = write_gguf(tmp_path / "m.gguf", layers=28, heads=12, kv_heads=2).read_bytes()
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, data)
        _, err = ok("models", "pull", "qwen2.5-coder-1.5b", env={"HF_ENDPOINT": endpoint})
    dest = config.paths().models / FILE
    assert dest.read_bytes() == data
    assert f"Downloaded qwen2.5-coder-1.5b:Q4_K_M to {dest} (SHA-256 checked)" in err
    line = next(x for x in ok("models", "list")[0].splitlines() if "coder-1.5b:" in x)
    assert " yes " in line
    assert "--yes" in refused("models", "rm", "qwen2.5-coder-1.5b")
    ok("models", "rm", "qwen2.5-coder-1.5b", "--yes")
    assert not dest.exists()


def test_pull_offline_fails_at_once_with_the_manual_way() -> None:
    err = refused("models", "pull", "codellama-7b")
    assert "offline" in err
    folder = config.paths().models
    assert f"put it in {folder}, then run 'codenook models scan {folder}'" in err


def test_unknown_model_and_quant() -> None:
    assert "No model called 'nope'" in refused("models", "pull", "nope")
    assert "no Q3_K_S file" in refused("models", "pull", "codellama-7b:Q3_K_S")


def test_progress_bar_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from codenook.cli import models as cli_models

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(cli_models.sys, "stderr", screen)
    bar = cli_models._Bar("qwen2.5-coder-1.5b")
    for done in (0, 1_000_000, 2_000_000):
        bar(Progress(done, 2_000_000, "download"))
    bar(Progress(2_000_000, 2_000_000, "verify"))
    bar(Progress(2_000_000, 2_000_000, "done"))
    text = screen.getvalue()
    assert "downloading qwen2.5-coder-1.5b" in text and "100%" in text
    assert "verifying qwen2.5-coder-1.5b" in text


def test_hardware() -> None:
    out, _ = ok("models", "hardware")
    assert "RAM: " in out and "CPU: " in out and "llama.cpp: " in out
    assert "Recommended: " in out


def files_holding(root: Path, secret: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_token_is_kept_in_the_keyring_and_never_shown(
    codenook_home: Path, no_hub_no_keyring: Path, tmp_path: Path
) -> None:
    outputs = []
    _, err = ok("models", "login", "--token-stdin", input=f"{TOKEN}\n".encode())
    outputs.append(err)
    assert "Token hf_****xwvu stored in system keyring (FileKeyring)" in err
    assert TOKEN in no_hub_no_keyring.read_text()
    out, err = ok("models", "token")
    assert out.strip() == "hf_****xwvu from system keyring (FileKeyring)"
    outputs += [out, err]
    data = write_gguf(tmp_path / "m.gguf", layers=28, heads=12, kv_heads=2).read_bytes()
    with fake_hub() as (endpoint, hub):
        hub.add(REPO, FILE, data)
        hub.gated.add(REPO)
        env = {"HF_ENDPOINT": endpoint}
        outputs += ok("-v", "models", "pull", "qwen2.5-coder-1.5b", env=env)
        assert any(h.get("authorization") == f"Bearer {TOKEN}" for _, _, h in hub.requests)
    outputs += ok("-v", "models", "list")
    outputs += ok("-v", "models", "info", "qwen2.5-coder-1.5b")
    outputs += ok("-v", "models", "hardware")
    for text in outputs:
        assert TOKEN not in text
    assert files_holding(codenook_home, TOKEN) == []  # not in settings, logs, registry
    _, err = ok("models", "logout")
    assert "Removed the token from system keyring (FileKeyring)" in err
    assert TOKEN not in no_hub_no_keyring.read_text()
    assert ok("models", "token")[0].startswith("No Hugging Face token")


def test_hf_token_in_the_environment_wins() -> None:
    ok("models", "login", "--token-stdin", input=f"{TOKEN}\n".encode())
    env_token = "hf_FromEnvironment0000000000000000"
    out, _ = ok("models", "token", env={"HF_TOKEN": env_token})
    assert out.strip() == "hf_****0000 from the HF_TOKEN environment variable"
    _, err = ok("models", "logout", env={"HF_TOKEN": env_token})
    assert "HF_TOKEN is still set" in err and env_token not in err


def test_without_a_keyring_the_token_goes_to_a_private_file(codenook_home: Path) -> None:
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    _, err = ok("models", "login", "--token-stdin", input=f"{TOKEN}\n".encode(), env=env)
    path = config.paths().config / "hf-token"
    assert f"stored in the file {path} (readable only by you" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert files_holding(codenook_home, TOKEN) == [path]
    assert ok("models", "token", env=env)[0].startswith("hf_****xwvu from the file")
    ok("models", "logout", env=env)
    assert not path.exists()


def test_the_token_is_never_taken_from_the_command_line() -> None:
    err = refused("models", "login", TOKEN)
    assert "Do not give the token on the command line" in err and TOKEN not in err
    assert "--token-stdin" in refused("models", "login")  # no terminal to ask at
    assert "start with 'hf_'" in refused("models", "login", "--token-stdin", input=b"secret\n")
    assert not os.environ.get("HF_TOKEN")
