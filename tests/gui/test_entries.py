"""Fields that behave as people expect: the real window on Xvfb, driven with xdotool keys."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tkinter as tk
from pathlib import Path

from codenook.auth import Auth, AuthError
from codenook.store.db import open_database
from tests.conftest import CODENOOK
from tests.gui.test_end_to_end import wait_for, xdotool

NEW_PASSWORD = "violet-kettle-drums"
#: A recovery code as the window shows it (24 base32 characters in groups of four).
CODE_RE = re.compile(r"[A-Z2-7]{4}(?:-[A-Z2-7]{4}){5}")


def start_window(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``codenook gui`` as a person starts it (no credentials in the environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CODENOOK_USER", "CODENOOK_PASSWORD")}
    proc = subprocess.Popen(
        [str(CODENOOK), "gui"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    window = xdotool("search", "--sync", "--onlyvisible", "--name", "^codenook$").split()[0]
    xdotool("windowfocus", "--sync", window)
    time.sleep(1)  # the login frame takes the focus once the window is mapped
    return proc, window


def quit_window(proc: subprocess.Popen[bytes], window: str) -> None:
    xdotool("windowfocus", "--sync", window)
    xdotool("key", "--window", window, "ctrl+q")
    proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""


def typed(text: str) -> None:
    xdotool("type", "--delay", "20", text)


def user_names() -> list[str]:
    db = open_database()
    try:
        return [r[0] for r in db.execute("SELECT name FROM users")]
    finally:
        db.close()


def questions() -> list[str]:
    db = open_database()
    try:
        return [r[0] for r in db.execute("SELECT content FROM messages WHERE role = 'user'")]
    finally:
        db.close()


def test_a_refused_password_retyped_with_ctrl_a_is_the_one_that_logs_in(
    codenook_home: Path,
) -> None:
    assert shutil.which("xdotool"), "xdotool is missing: make test installs it"
    (codenook_home / "config").mkdir(parents=True, exist_ok=True)
    (codenook_home / "config" / "settings.toml").write_text(
        "[generation]\nmax_tokens = 8\ntemperature = 0.0\n"
    )
    proc, window = start_window(codenook_home)
    try:
        time.sleep(5)  # the store worker says there is no account: Repeat appears
        typed("someone")
        xdotool("key", "ctrl+a")  # selects the name: typing replaces it
        typed("alice")
        xdotool("key", "Tab")
        typed("password123")  # among the most common: refused
        xdotool("key", "Tab")
        typed("password123")
        xdotool("key", "Return")
        log = codenook_home / "logs" / "codenook.log"
        wait_for(lambda: log.exists() and "Account refused" in log.read_text(), timeout=60)
        time.sleep(0.5)  # the refusal reaches the window: both fields are emptied
        assert user_names() == []
        # The person does what anyone would: select all, type the new one, in both fields.
        xdotool("key", "ctrl+a")
        typed(NEW_PASSWORD)
        xdotool("key", "Tab")
        xdotool("key", "ctrl+a")
        typed(NEW_PASSWORD)
        xdotool("key", "Return")
        wait_for(lambda: user_names() == ["alice"], timeout=60)
        time.sleep(2)  # the recovery code's dialog
        xdotool("key", "Escape")
        quit_window(proc, window)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    db = open_database()
    try:
        assert Auth(db).verify("alice", NEW_PASSWORD).name == "alice"
        for wrong in ("password123", NEW_PASSWORD + "password123"):
            try:
                Auth(db).verify("alice", wrong)
            except AuthError:
                pass
            else:
                raise AssertionError(f"{wrong!r} logged in")
    finally:
        db.close()
    log_text = (codenook_home / "logs" / "codenook.log").read_text()
    assert not CODE_RE.search(log_text), "a recovery code reached the log"
    assert " ERROR " not in log_text and "Traceback" not in log_text

    # The next start: that password logs in; Ctrl+A in the question box selects all too.
    proc, window = start_window(codenook_home)
    try:
        typed("alice")
        xdotool("key", "Tab")
        typed(NEW_PASSWORD)
        xdotool("key", "Return")
        time.sleep(6)  # Argon2 and the main view
        typed("not this")
        xdotool("key", "ctrl+a")
        typed("Say hi.")
        xdotool("key", "Return")
        wait_for(lambda: questions() == ["Say hi."], timeout=60)
        quit_window(proc, window)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_select_all_bindings_cover_every_kind_of_field() -> None:
    root = tk.Tk()
    try:
        from tkinter import ttk

        from codenook.gui import entries  # here: the xdotool test runs on older sources too

        entries.install(root)

        fields = [tk.Entry(root), ttk.Entry(root), ttk.Combobox(root)]
        text = tk.Text(root)
        for w in (*fields, text):
            w.pack()
            w.insert("end", "old words")
        root.update()
        for w in fields:
            w.focus_force()
            w.event_generate("<Control-a>")
            assert w.selection_present() and w.index("insert") == len("old words"), w
        text.focus_force()
        text.event_generate("<Control-a>")
        assert text.get("sel.first", "sel.last") == "old words"
    finally:
        root.destroy()
