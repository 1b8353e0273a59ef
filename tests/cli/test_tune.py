"""--adapter on the commands: a missing or corrupt adapter file is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

from codenook.engine.embedded import embedded_model_path
from codenook.engine.model_hash import sha256_of
from codenook.library.registry import InstalledAdapter, register_adapter
from tests.conftest import run_cli


def test_missing_or_corrupt_adapter_is_one_line_and_exit_2(account: str, tmp_path: Path) -> None:
    digest = sha256_of(embedded_model_path())
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    register_adapter(InstalledAdapter("broken", str(broken), str(tmp_path), "smollm2", digest, 0.0))
    gone = tmp_path / "gone.gguf"
    register_adapter(InstalledAdapter("gone", str(gone), str(tmp_path), "smollm2", digest, 0.0))
    for name, word in (("broken", "corrupt"), ("gone", "missing"), ("nothere", "No adapter")):
        proc = run_cli("ask", "--adapter", name, "say hi", timeout=300)
        err = proc.stderr.decode().strip().splitlines()
        assert proc.returncode == 2, err
        assert len(err) == 1 and word in err[0], err


def test_models_use_adapter_on_wrong_base_is_refused(tmp_path: Path) -> None:
    register_adapter(
        InstalledAdapter(
            "qwen-code",
            str(tmp_path / "a.gguf"),
            str(tmp_path),
            "qwen2.5-coder-1.5b",
            "ab" * 32,
            0.0,
        )
    )
    proc = run_cli("models", "use", "smollm2-135m-instruct", "--adapter", "qwen-code", timeout=300)
    err = proc.stderr.decode().strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1
    assert "trained on qwen2.5-coder-1.5b" in err[0]
