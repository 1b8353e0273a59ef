"""``codenook gui`` as a real process on Xvfb, driven by xdotool like a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from codenook.store.db import open_database
from tests.conftest import CODENOOK, PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def xdotool(*args: str) -> str:
    proc = subprocess.run(
        ["xdotool", *args], capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def wait_for(check, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def answers() -> list[tuple]:
    db = open_database()
    try:
        return db.execute("SELECT role, content, complete FROM messages ORDER BY id").fetchall()
    finally:
        db.close()


@pytest.mark.usefixtures("account")
def test_a_person_logs_in_asks_and_gets_an_answer(codenook_home: Path) -> None:
    assert shutil.which("xdotool"), "xdotool is missing: make test installs it"
    assert shutil.which("import"), "ImageMagick's import is missing: make test installs it"
    (codenook_home / "config").mkdir(parents=True, exist_ok=True)
    (codenook_home / "config" / "settings.toml").write_text(
        "[generation]\nmax_tokens = 48\ntemperature = 0.0\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("CODENOOK_USER", "CODENOOK_PASSWORD")}
    proc = subprocess.Popen(
        [str(CODENOOK), "gui"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        window = xdotool("search", "--sync", "--onlyvisible", "--name", "^codenook$").split()[0]
        xdotool("windowfocus", "--sync", window)
        xdotool("type", "--delay", "20", "tester")
        xdotool("key", "Tab")
        xdotool("type", "--delay", "20", PASSWORD)
        xdotool("key", "Return")
        time.sleep(3)  # password check (Argon2) and the main view
        xdotool("type", "--delay", "20", "Write a Python function that adds two numbers")
        xdotool("key", "Return")
        wait_for(lambda: any(r[0] == "assistant" and r[2] == 1 and r[1] for r in answers()))
        rows = [tuple(r) for r in answers()]
        assert rows[0] == ("user", "Write a Python function that adds two numbers", 1)
        time.sleep(1)  # let the rendered answer reach the screen
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "end-to-end.png"
        subprocess.run(["import", "-window", "root", str(shot)], check=True, timeout=30)
        assert shot.stat().st_size > 10_000
        xdotool("key", "--window", window, "ctrl+q")
        proc.wait(timeout=10)
        assert proc.returncode == 0, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
