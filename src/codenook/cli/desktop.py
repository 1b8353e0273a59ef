"""``codenook install-desktop`` / ``uninstall-desktop``: the launcher in the applications menu."""

from __future__ import annotations

import argparse
import importlib.resources
import os
import shlex
import shutil
import sys
from pathlib import Path

from codenook import safefile

DESKTOP_ID = "codenook.desktop"


def data_home() -> Path:
    """The XDG data folder where menus look for applications and icons."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher_paths() -> tuple[Path, Path]:
    """Where the .desktop file and the icon go."""
    base = data_home()
    return (
        base / "applications" / DESKTOP_ID,
        base / "icons" / "hicolor" / "scalable" / "apps" / "codenook.svg",
    )


def desktop_entry(executable: str, icon: Path) -> str:
    """The text of the .desktop file."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=codenook",
            "GenericName=Coding assistant",
            "Comment=Private coding assistant for Python and Bash on local models",
            f"Exec={shlex.quote(executable)} gui",
            f"Icon={icon}",
            "Terminal=false",
            "Categories=Development;",
            "Keywords=AI;assistant;Python;Bash;code;",
            "StartupWMClass=codenook",
            "",
        ]
    )


class Install:
    """``codenook install-desktop``."""

    NAME = "install-desktop"
    HELP = "add codenook to the desktop's applications menu"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """No options."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Write the .desktop file and the icon under the XDG data folder."""
        entry, icon = launcher_paths()
        executable = shutil.which("codenook") or str(Path(sys.executable).with_name("codenook"))
        icon.parent.mkdir(parents=True, exist_ok=True)
        source = importlib.resources.files("codenook") / "data" / "codenook.svg"
        safefile.write_file(icon, source.read_bytes(), mode=0o644, keep_mode=False)
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry_text = desktop_entry(str(Path(executable).resolve()), icon)
        safefile.write_file(entry, entry_text, mode=0o644, keep_mode=False)
        print(f"Installed {entry}", file=sys.stderr)
        return 0


class Uninstall:
    """``codenook uninstall-desktop``."""

    NAME = "uninstall-desktop"
    HELP = "remove codenook from the applications menu"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """No options."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Remove the .desktop file and the icon."""
        for path in launcher_paths():
            path.unlink(missing_ok=True)
        print("Removed the codenook launcher.", file=sys.stderr)
        return 0
