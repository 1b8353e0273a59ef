"""The job registry: each job declared once, read wherever jobs are listed."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from codenook import config
from codenook.assist import prompts
from codenook.assist.jobs import registry
from codenook.assist.jobs.registry import Job, JobError
from tests.assist.jobs.toy import TOY, WORDS

BUILT_IN = ("ask", "generate", "complete", "review", "debug", "document")


@pytest.fixture
def toy() -> Iterator[Job]:
    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)


def test_the_built_in_jobs_in_their_order() -> None:
    assert registry.names() == BUILT_IN
    assert [j.label for j in registry.all_jobs()] == [n.capitalize() for n in BUILT_IN]
    assert {j.command for j in registry.all_jobs()} == {
        "ask", "gen", "complete", "review", "debug", "doc"
    }  # fmt: skip
    assert registry.get("generate").needs_language
    assert registry.get("ask").text_keyword() == "question"


def test_an_unknown_name_is_refused_with_the_jobs_listed() -> None:
    with pytest.raises(JobError, match="Unknown job 'fix'; codenook's jobs are ask, generate"):
        registry.get("fix")


def test_lists_read_the_registry_when_asked(toy: Job) -> None:
    """A job registered after everything was imported is in every list."""
    assert registry.names() == (*BUILT_IN, "shout")
    assert registry.get("shout").run is TOY.run
    assert registry.by_command("shout") is toy
    assert registry.by_label("SHOUT") is toy
    assert "shout" not in registry.routable()  # declared not routable
    assert prompts.system_prompt("shout", "bash") == WORDS
    assert prompts.system_prompt("shout", None, config.PromptSettings()) == WORDS


def test_a_declaration_is_checked() -> None:
    with pytest.raises(JobError, match="lowercase"):
        Job(name="Bad Name", label="x", run=print, python="", bash="")
    with pytest.raises(JobError, match="reads must be one of"):
        Job(name="x", label="x", run=print, python="", bash="", reads="mind")
    clash = Job(name="other", label="Other", run=print, python="", bash="", command="gen")
    with pytest.raises(JobError, match="runs the job generate already"):
        registry.register(clash)
    assert "other" not in registry.names()


def test_words_per_language_and_the_users_setting() -> None:
    review = registry.get("review")
    assert "Python code reviewer" in review.words("python")
    assert "Bash code reviewer" in review.words("bash")
    assert "Python and Bash" in review.words(None)
    mine = config.PromptSettings(review="Be brief.")
    assert registry.system_prompt("review", "bash", mine) == "Be brief."


def test_check_settings_names_keys_that_name_no_job() -> None:
    assert registry.check_settings(config.Settings()) == []
    settings = SimpleNamespace(
        prompts={"revew": "Be brief.", "review": ""},
        routing={"complete": "xeon", "failover": True, "generat": "local"},
    )
    warnings = registry.check_settings(settings)
    assert len(warnings) == 2  # failover is the table's own flag, not a job
    assert warnings[0].startswith("[prompts] revew: no job is called 'revew'")
    assert warnings[1].startswith("[routing] generat:")
    assert "the jobs are ask, generate, complete" in warnings[1]


def test_check_settings_sees_a_registered_job(toy: Job) -> None:
    settings = SimpleNamespace(prompts={"shout": "Louder."}, routing={})
    assert registry.check_settings(settings) == []
