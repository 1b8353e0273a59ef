"""The command line's last defence: a bug is one line on stderr and a traceback in the log."""

import argparse

import pytest

from codenook import applog
from codenook.cli import main as cli
from codenook.errors import UsageError


class Explode:
    """A command with a bug in it."""

    NAME = "explode"
    HELP = "raise an unexpected error"

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """None."""

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Fail the way a bug does."""
        return {}["missing key"]


class Refuse(Explode):
    """A command that refuses, as user errors do."""

    NAME = "refuse"

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        """Fail the way a user's mistake does."""
        raise UsageError("That will not work: try another way.")


@pytest.fixture(autouse=True)
def commands(monkeypatch):
    monkeypatch.setitem(cli.COMMANDS, "explode", f"{__name__}:Explode")
    monkeypatch.setitem(cli.COMMANDS, "refuse", f"{__name__}:Refuse")
    yield
    applog.shutdown_logging()


def test_a_bug_is_one_line_on_stderr_and_a_traceback_in_the_log(capsys) -> None:
    assert cli.main(["explode"]) == 1
    err = capsys.readouterr().err
    log_file = applog.log_file()
    assert err == (
        "codenook: unexpected error in codenook explode (KeyError: 'missing key'); "
        f"the details are in {log_file}\n"
    )
    text = log_file.read_text()
    assert "CRITICAL codenook.cli: unexpected error in codenook explode" in text
    assert "  | Traceback (most recent call last):" in text
    assert "  | KeyError: 'missing key'" in text


def test_verbose_shows_the_traceback_too(capsys) -> None:
    assert cli.main(["-v", "explode"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_users_error_is_printed_once_and_logged(capsys) -> None:
    assert cli.main(["refuse"]) == 2
    assert capsys.readouterr().err == "codenook: error: That will not work: try another way.\n"
    assert "WARNING codenook.cli: refuse: That will not work" in applog.log_file().read_text()


def test_only_the_command_run_is_imported() -> None:
    assert cli._command_in(["-v", "stats", "--json"]) == "stats"
    assert cli._command_in(["--help"]) is None
    assert cli._command_in(["bogus"]) is None
    parser = cli.build_parser("stats")
    assert parser.parse_args(["stats"]).command == "stats"
    with pytest.raises(UsageError, match="invalid choice"):
        cli.build_parser().parse_args(["bogus"])
