"""A real X server (Xvfb) for the window tests, started once per run."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def xvfb() -> Iterator[str]:
    """Start Xvfb on a free display number and point DISPLAY at it."""
    binary = shutil.which("Xvfb")
    assert binary, "Xvfb is missing: `make test` installs the Debian package xvfb"
    for number in range(90, 140):
        if (
            not Path(f"/tmp/.X11-unix/X{number}").exists()
            and not Path(f"/tmp/.X{number}-lock").exists()
        ):
            break
    display = f":{number}"
    proc = subprocess.Popen(
        [binary, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert proc.poll() is None, "Xvfb exited at start"
        assert time.monotonic() < deadline, "Xvfb did not start"
        time.sleep(0.05)
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    yield display
    proc.terminate()
    proc.wait(5)
    if old is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = old


def pump(root: tk.Misc, until: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the Tk event loop until ``until()`` holds (or fail after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out waiting for the window"
        root.update()
        time.sleep(0.005)


@pytest.fixture(autouse=True)
def collect_windows_on_the_main_thread() -> Iterator[None]:
    """Free closed windows here: Tcl aborts if the garbage collector frees a Tk
    interpreter on a worker thread (any thread can trigger a collection)."""
    yield
    gc.collect()
