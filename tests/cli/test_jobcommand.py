"""A job declared through the registry alone is a command, in the help, run like the others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codenook.assist.jobs import registry
from codenook.cli.main import main
from tests.assist.jobs.toy import TOY, WORDS
from tests.cli.jobs_support import run_scripted
from tests.scripted import ScriptedBackend

pytestmark = pytest.mark.usefixtures("account")


@pytest.fixture
def toy() -> Iterator[registry.Job]:
    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)


def test_a_registered_toy_job_runs_from_the_command_line(
    toy: registry.Job, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = ScriptedBackend(["HELLO THERE\n"])
    code, out, err = run_scripted(monkeypatch, capsys, backend, "shout", "hello there")
    assert code == 0, err
    assert out == "HELLO THERE\n"
    system, request = backend.calls[0]
    assert system.content == WORDS  # its declared words are its system prompt
    assert request.content == "Shout: hello there"


def test_a_registered_toy_job_is_in_the_help(
    toy: registry.Job, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "shout" in shown and "toy job for the tests" in shown
    with pytest.raises(SystemExit):
        main(["shout", "--help"])
    assert "the words to work on" in capsys.readouterr().out


def test_without_the_registration_there_is_no_such_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["shout", "hi"]) != 0
    assert "shout" in capsys.readouterr().err
