"""A screen and a fresh CODENOOK_HOME for the window benchmarks (not a benchmark itself)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def screen_and_home(display: str) -> Iterator[str]:
    """Start Xvfb on ``display`` unless DISPLAY is set; yield a temporary CODENOOK_HOME."""
    xvfb = None
    if not os.environ.get("DISPLAY"):
        binary = shutil.which("Xvfb")
        if not binary:
            sys.exit("Xvfb is needed: apt-get install xvfb")
        xvfb = subprocess.Popen(
            [binary, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stderr=subprocess.DEVNULL,
        )
        os.environ["DISPLAY"] = display
        time.sleep(1)
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["CODENOOK_HOME"] = home
            yield home
    finally:
        if xvfb:
            xvfb.terminate()
