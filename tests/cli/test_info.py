import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.usefixtures("account")


def test_info_names_model_backend_and_folders(codenook_home) -> None:
    proc = run_cli("info", "--threads", "1", "--context", "1024")
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "SmolLM2" in out and "(embedded)" in out
    assert "llama.cpp" in out
    assert "CPU-only build" in out or "GPU offload available" in out
    assert "1,024 tokens" in out
    assert "threads:" in out and " 1\n" in out
    assert str(codenook_home) in out


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith(b"codenook ")
