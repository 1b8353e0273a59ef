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
    # Which prompt formats are in use, and that completion goes through an instruction.
    assert "chat format:    the model file's own template, chatml" in out
    assert "fill in middle: none: no fill-in-the-middle tokens" in out


def test_info_shows_a_format_named_on_the_command_line() -> None:
    proc = run_cli("info", "--threads", "1", "--context", "256", "--format", "llama3")
    assert proc.returncode == 0, proc.stderr.decode()
    assert "chat format:    llama3 (named by --format or model.chat_format)" in proc.stdout.decode()


def test_info_refuses_an_unknown_format_in_one_line() -> None:
    proc = run_cli("info", "--format", "nope")
    assert proc.returncode == 2
    assert proc.stderr.decode().strip().startswith("codenook: error: Unknown chat format 'nope'")


def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith(b"codenook ")
