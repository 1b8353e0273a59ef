"""The login controller against a minimal host: first account, wrong password, log out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.gui.controllers.login import LoginController
from codenook.gui.events import LoggedIn, LoggedOut
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
    assert login.error.cget("text") == "The two passwords differ." and not logged_in
    login.repeat_entry.delete(0, "end")
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
