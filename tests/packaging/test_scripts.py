"""The Debian package's scripts (packaging/): shellcheck-clean, and the maintainer scripts
are POSIX sh (dpkg runs them with /bin/sh, dash on Debian). ``make test-deb`` runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"
MAINTAINER = [
    PACKAGING / "debian" / name for name in ("config", "postinst", "prerm", "postrm")
] + sorted((PACKAGING / "debian-torch").iterdir())


def test_the_scripts_pass_shellcheck() -> None:
    scripts = sorted(PACKAGING.glob("*.sh")) + MAINTAINER
    assert len(scripts) >= 9
    shellcheck = Path(sys.executable).with_name("shellcheck")
    proc = subprocess.run(
        [str(shellcheck), "-x", "--severity=warning", *map(str, scripts)],
        capture_output=True,
        text=True,
        cwd=PACKAGING.parent,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_maintainer_scripts_are_posix_sh() -> None:
    for script in [*MAINTAINER, PACKAGING / "codenook.sh", PACKAGING / "make-venv.sh"]:
        assert script.read_text().startswith("#!/bin/sh\n"), script
        proc = subprocess.run(["dash", "-n", str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, f"{script}: {proc.stderr}"
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
