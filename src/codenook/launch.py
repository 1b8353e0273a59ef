"""The ``codenook`` program: the window when there is a screen, else the command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def has_display() -> bool:
    """Whether a graphical session is there to show a window on."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window for ``codenook`` / ``codenook gui``; run a command otherwise."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["gui"] or (not args and has_display() and sys.stdin.isatty()):
        from codenook import config
        from codenook.cli.main import register_stored_secrets
        from codenook.gui.app import main as gui_main

        settings = config.load_settings()
        if settings.logging.debug:
            # The window logs what is typed in debug mode: a pasted token must not show.
            register_stored_secrets(settings)
        return gui_main()
    from codenook.cli.main import main as cli_main

    return cli_main(args)
