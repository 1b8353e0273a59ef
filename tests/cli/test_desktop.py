"""The applications-menu launcher."""

import shutil
import subprocess
from pathlib import Path

from tests.conftest import run_cli


def test_install_writes_a_valid_desktop_file_and_uninstall_removes_it(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    proc = run_cli("install-desktop", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    entry = tmp_path / "applications" / "codenook.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "codenook.svg"
    assert icon.read_bytes().startswith(b"<svg")
    text = entry.read_text()
    assert "Exec=" in text and text.split("Exec=")[1].split()[1] == "gui"
    validator = shutil.which("desktop-file-validate")
    assert validator, "desktop-file-validate is missing: make test installs desktop-file-utils"
    check = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    assert run_cli("uninstall-desktop", env=env).returncode == 0
    assert not entry.exists() and not icon.exists()
