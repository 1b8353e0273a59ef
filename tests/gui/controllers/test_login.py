"""The login controller against a minimal host: first account, wrong password, log out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from tkinter import ttk

import pytest

from codenook import applog
from codenook.auth import Auth
from codenook.gui.controllers.login import LoginController
from codenook.gui.events import LoggedIn, LoggedOut
from codenook.store.db import open_database
from tests.conftest import PASSWORD
from tests.gui.controllers.fakehost import FakeHost, recorder


@pytest.fixture
def host() -> Iterator[FakeHost]:
    h = FakeHost()
    yield h
    h.close()


def make(host: FakeHost) -> LoginController:
    login = LoginController(host)
    login.build(host.root).pack()
    return login


def test_no_account_yet_offers_to_create_the_first_one(host: FakeHost) -> None:
    login = make(host)
    logged_in = recorder(host.bus, LoggedIn)
    login.check_accounts()
    host.pump(lambda: login.creating)
    assert login.button.cget("text") == "Create account"
    login.name_entry.insert(0, "first")
    login.password_entry.insert(0, "a-long-enough-password")
    login.repeat_entry.insert(0, "not the same")
    login.submit()
    assert login.error.cget("text").startswith("The two passwords differ.") and not logged_in
    assert "cleared" in login.error.cget("text")
    assert login.password_entry.get() == "" and login.repeat_entry.get() == ""
    login.password_entry.insert(0, "a-long-enough-password")
    login.repeat_entry.insert(0, "a-long-enough-password")
    login.submit()
    host.pump(lambda: bool(logged_in))
    assert logged_in[0].user.name == "first" and logged_in[0].user.is_admin
    assert login.password_entry.get() == "" and login.repeat_entry.get() == ""


def test_a_wrong_password_is_said_and_the_button_comes_back(account, host: FakeHost) -> None:
    login = make(host)
    login.check_accounts()
    host.pump(lambda: host.store.idle and host.bus.empty())
    assert not login.creating
    login.name_entry.insert(0, "tester")
    login.password_entry.insert(0, "not-the-password")
    login.submit()
    assert login.error.cget("text") == "Checking…"
    assert "disabled" in login.button.state()
    host.pump(lambda: login.error.cget("text") != "Checking…")
    assert login.error.cget("text") == "Wrong user name or password."
    assert "disabled" not in login.button.state()


def test_login_then_logout_is_announced_on_the_bus(account, host: FakeHost) -> None:
    login = make(host)
    logged_in, logged_out = recorder(host.bus, LoggedIn), recorder(host.bus, LoggedOut)
    login.name_entry.insert(0, "tester")
    login.password_entry.insert(0, PASSWORD)
    login.submit()
    host.pump(lambda: bool(logged_in))
    assert logged_in[0].user.name == "tester" and login.error.cget("text") == ""
    [command] = [c for c in login.commands() if c.label == "Log out"]
    assert command.menu == "File"
    command.invoke()
    assert logged_out == [LoggedOut()]


@pytest.fixture
def applog_file() -> Iterator[Path]:
    """codenook's real log file for the test (set up as the window does)."""
    path = applog.setup_logging(debug=False)
    assert path is not None
    yield path
    applog.shutdown_logging()


def log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def create_first(login: LoginController, host: FakeHost, password: str, repeat: str) -> str:
    """Type a first account's fields and press the button; the line the user is shown."""
    login.name_entry.insert(0, "first")
    login.password_entry.insert(0, password)
    login.repeat_entry.insert(0, repeat)
    login.submit()
    host.pump(lambda: login.error.cget("text") != "Checking…")
    return login.error.cget("text")


def test_a_refused_password_clears_both_fields_and_is_a_mistake_not_a_crash(
    host: FakeHost, applog_file: Path
) -> None:
    login = make(host)
    crashes: list[str] = []
    applog.add_crash_listener(crashes.append)
    try:
        login.check_accounts()
        host.pump(lambda: login.creating)
        said = create_first(login, host, "password123", "password123")
    finally:
        applog.remove_crash_listener(crashes.append)
    assert said.startswith("That password is among the most common ones") and "cleared" in said
    assert "store job failed" not in said and "AuthError" not in said
    assert login.password_entry.get() == "" and login.repeat_entry.get() == ""
    assert "disabled" not in login.button.state()
    assert crashes == []
    lines = log_lines(applog_file)
    refused = [line for line in lines if "most common" in line]
    assert refused and all(" INFO " in line for line in refused), lines
    assert not any(" ERROR " in line or "Traceback" in line for line in lines), lines
    assert not any("password123" in line for line in lines)


def test_a_wrong_password_is_logged_as_a_warning_without_a_traceback(
    account, host: FakeHost, applog_file: Path
) -> None:
    login = make(host)
    login.check_accounts()
    host.pump(lambda: host.store.idle and host.bus.empty())
    login.name_entry.insert(0, "tester")
    login.password_entry.insert(0, "not-the-password")
    login.submit()
    host.pump(lambda: login.error.cget("text") != "Checking…")
    assert login.error.cget("text") == "Wrong user name or password."
    lines = log_lines(applog_file)
    assert any(" WARNING codenook.auth: Refused a login for 'tester'" in ln for ln in lines)
    assert not any(" ERROR " in line or "Traceback" in line for line in lines), lines
    assert not any("store job failed" in line for line in lines)


def test_the_first_account_shows_its_recovery_code_once_and_never_logs_it(
    host: FakeHost, applog_file: Path
) -> None:
    login = make(host)
    logged_in = recorder(host.bus, LoggedIn)
    login.check_accounts()
    host.pump(lambda: login.creating)
    create_first(login, host, "a-long-enough-password", "a-long-enough-password")
    host.pump(lambda: login.code_dialog is not None)
    dialog = login.code_dialog
    assert dialog is not None and dialog.winfo_exists()
    code = dialog.code.get()
    labels = [w for f in dialog.winfo_children() for w in f.winfo_children()]
    words = " ".join(str(w.cget("text")) for w in labels if isinstance(w, ttk.Label))
    assert "shown only this once" in words and "codenook users recover first" in words
    # The logged-in user carries no code further than the dialog.
    assert not hasattr(logged_in[0].user, "recovery_code")
    dialog.copy()
    assert host.root.clipboard_get() == code
    # The code shown is the account's real one: it sets a new password, once.
    db = open_database()
    try:
        recovered = Auth(db).recover("first", code, "another-long-password")
        assert recovered.name == "first"
    finally:
        db.close()
    dialog.destroy()
    plain = code.replace("-", "")
    assert not any(code in line or plain in line for line in log_lines(applog_file))
