"""The input area's job selector, without a display: what each job runs on."""

from __future__ import annotations

import pytest

from codenook.errors import UsageError
from codenook.gui import dispatch
from codenook.gui.dispatch import plan


def test_ask_sends_the_question_with_the_chosen_language() -> None:
    r = plan("Ask", "Bash", "How do I loop over files?")
    assert (r.name, r.options) == (
        "ask",
        {"question": "How do I loop over files?", "language": "bash"},
    )
    assert r.shown == "How do I loop over files?"


def test_ask_with_an_attached_file_names_it() -> None:
    r = plan("Ask", "Auto", "What does this do?", "/tmp/x/tool.py")
    assert r.attach == "/tmp/x/tool.py"
    assert r.options["language"] is None
    assert r.shown.endswith("(attached: tool.py)")


def test_generate_picks_bash_from_the_words_when_auto() -> None:
    assert (
        plan("Generate", "Auto", "a shell script that counts lines").options["language"] == "bash"
    )
    assert plan("Generate", "Auto", "a function that counts lines").options["language"] == "python"
    assert plan("Generate", "Bash", "count lines").options["language"] == "bash"


@pytest.mark.parametrize("job", ["Review", "Document", "Complete"])
def test_file_jobs_run_on_the_attached_file(job: str) -> None:
    r = plan(job, "Auto", "", "/src/app.py")
    assert r.name == job.lower()
    assert r.options["path"] == "/src/app.py"
    assert r.shown == f"{job} app.py"
    if job == "Complete":
        assert "line" not in r.options  # the worker reads the file and finds its end


def test_file_jobs_take_pasted_code_from_a_fence() -> None:
    text = "Please look at this:\n```python\nimport os\nx = 1\n```\nthanks"
    r = plan("Review", "Auto", text)
    assert r.options == {
        "source": "import os\nx = 1\n",
        "language": None,
        "request": "Please look at this:\n\nthanks",  # the words go to the model
    }
    assert r.shown == text


def test_complete_puts_the_cursor_after_pasted_code() -> None:
    r = plan("Complete", "Python", "def add(a, b):\n    return ")
    assert r.options["line"] == 2
    assert r.options["column"] == len("    return ") + 1
    assert r.options["source"] == "def add(a, b):\n    return "


def test_debug_runs_the_attached_file_with_a_pasted_traceback() -> None:
    tb = 'Traceback (most recent call last):\n  File "a.py", line 1\nZeroDivisionError: x'
    r = plan("Debug", "Auto", tb, "/w/a.py")
    assert r.options == {"path": "/w/a.py", "language": None, "error_text": tb}
    plain = plan("Debug", "Auto", "", "/w/a.py")
    assert plain.options["error_text"] is None


def test_debug_of_pasted_code_goes_through_a_scratch_file() -> None:
    r = plan("Debug", "Auto", "print(1/0)")
    assert r.scratch == "print(1/0)"
    assert "path" not in r.options
    assert dispatch.scratch_name("print(1/0)\n", None) == "snippet.py"
    assert dispatch.scratch_name("#!/bin/bash\necho hi\n", None) == "snippet.sh"
    assert dispatch.scratch_name("x=1\n", "bash") == "snippet.sh"


@pytest.mark.parametrize(
    ("job", "text", "attached", "says"),
    [
        ("Ask", "   ", None, "Type a question"),
        ("Generate", "", None, "Describe the code"),
        ("Review", "", None, "paste it in the box or attach a file"),
        ("Debug", "Traceback (most recent call last):\nKeyError: 'x'", None, "attach it"),
        ("Translate", "x", None, "Unknown job"),
    ],
)
def test_what_is_missing_is_said(job: str, text: str, attached: str | None, says: str) -> None:
    with pytest.raises(UsageError, match=says):
        plan(job, "Auto", text, attached)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UsageError, match="Auto, Python or Bash"):
        plan("Ask", "Rust", "hi")


def test_split_code_and_with_file() -> None:
    assert dispatch.split_code("no fence here") == ("", "no fence here")
    assert dispatch.split_code("a\n~~~bash\necho\n~~~\nb") == ("a\n\nb", "echo\n")
    text = dispatch.with_file("Explain", "t.py", "s = '```'\n", "python")
    assert text == "Explain\n\nt.py:\n````python\ns = '```'\n````\n"
    assert dispatch.end_of("a\nbc") == {"line": 2, "column": 3}


def test_review_of_a_request_and_unfenced_code_lints_only_the_code(db, users) -> None:
    """ "Please review this:" then code: the code is linted, the sentence is the request."""
    from codenook.assist import jobs
    from codenook.assist.session import ChatSession
    from codenook.engine.backend import GenerationOptions
    from tests.scripted import ScriptedBackend

    box = "Please review this:\nimport os\n\n\ndef f(x):\n    return y\n"
    req = plan("Review", "Auto", box)
    assert req.options["source"] == "import os\n\n\ndef f(x):\n    return y\n"
    assert req.options["request"] == "Please review this:"
    backend = ScriptedBackend(["Looks fine."])
    session = ChatSession(db, users[0], backend, GenerationOptions(max_tokens=32))
    r = jobs.run_job(req.name, session, on_text=lambda _: None, **req.options)
    assert sorted((f.line, f.code) for f in r.findings) == [(1, "F401"), (5, "F821")]
    assert "The user asks: Please review this:" in backend.user_messages()[0]


def test_the_selector_lists_the_registry_and_plans_a_registered_job() -> None:
    """The job list is the registry's, read at the call: a toy job registered now is in it."""
    from codenook.assist.jobs import registry
    from tests.assist.jobs.toy import TOY

    assert dispatch.job_labels() == ("Ask", "Generate", "Complete", "Review", "Debug", "Document")
    registry.register(TOY)
    try:
        assert dispatch.job_labels()[-1] == "Shout"
        r = plan("Shout", "Auto", "hello")
        assert (r.name, r.options, r.shown) == (
            "shout",
            {"words": "hello", "language": None},
            "hello",
        )
        with pytest.raises(UsageError, match="Type the text for Shout first"):
            plan("Shout", "Auto", " ")
    finally:
        registry.unregister(TOY.name)
    assert "Shout" not in dispatch.job_labels()
