"""The answering controller against a minimal host, with a scripted model.

Send, stop and regenerate without the whole window; the chat session lives on the
model worker only; the editor's jobs and the chat's selector share one path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from codenook import config
from codenook.auth import Auth
from codenook.gui.controllers import answering as module
from codenook.gui.controllers.answering import AnsweringController
from codenook.gui.events import AnswerDone, ModelReady, StateChanged
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.gui.controllers.fakehost import FakeHost, recorder
from tests.scripted import PausingBackend, ScriptedBackend

FAST = config.Settings(generation=config.GenerationSettings(max_tokens=64, temperature=0.0))


@pytest.fixture
def host() -> Iterator[FakeHost]:
    h = FakeHost(FAST)
    db = open_database()
    h.user = Auth(db).create_user("alice", "pumpkin-harbor-31")
    db.close()
    yield h
    h.close()


def ready(host: FakeHost, backend: ScriptedBackend) -> AnsweringController:
    a = AnsweringController(host)
    a.build(host.root).pack()
    host.bus.publish(ModelReady(backend))  # as the model worker says once it loaded one
    return a


def answered(host: FakeHost, a: AnsweringController) -> bool:
    return a.state == "ready" and not host.transcript.streaming and host.idle()


def stored(host: FakeHost) -> list[store.MessageRow]:
    db = open_database()
    try:
        return store.messages(db, host.user.id, host.conversation_id)
    finally:
        db.close()


def test_send_streams_stores_and_keeps_the_session_on_the_model_worker(
    host: FakeHost, monkeypatch
) -> None:
    made: list[str] = []

    class Recorded(module.ChatSession):
        def __init__(self, *args, **kwargs) -> None:
            made.append(threading.current_thread().name)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(module, "ChatSession", Recorded)
    backend = ScriptedBackend(["A list holds\nitems in order.\n", "A tuple\ndoes not change.\n"])
    a = ready(host, backend)
    states = recorder(host.bus, StateChanged)
    a.input.insert("1.0", "What is a list?")
    a.send()
    assert a.input.get("1.0", "end-1c") == "" and a.state == "generating"
    host.pump(lambda: answered(host, a))
    assert [s.state for s in states] == ["generating", "ready"]
    assert "items in order." in host.transcript.content()
    assert [(m.role, m.complete) for m in stored(host)] == [("user", True), ("assistant", True)]
    first = a.worker.session
    a.send("And a tuple?")
    host.pump(lambda: answered(host, a))
    assert a.worker.session is first  # the same conversation goes on in the same session
    a.forget_session()  # the Tk thread only moves a counter ...
    assert a.worker.session is first
    backend.answers.append("Again.\n")
    a.send("Once more?")
    host.pump(lambda: answered(host, a))
    assert a.worker.session is not first  # ... and the worker starts afresh
    assert made == ["codenook-model", "codenook-model"]
    assert len(stored(host)) == 6


def test_send_before_the_model_loads_keeps_the_text(host: FakeHost) -> None:
    a = AnsweringController(host)
    a.build(host.root).pack()
    a.input.insert("1.0", "Hello?")
    a.send()
    assert "still loading" in host.transcript.content()
    assert a.input.get("1.0", "end-1c") == "Hello?"


def test_stop_mid_answer_keeps_the_partial_answer(host: FakeHost) -> None:
    backend = PausingBackend(["one\ntwo\nthree\nfour\n"])
    a = ready(host, backend)
    a.send("Count.")
    host.pump(lambda: backend.answering.is_set())
    a.stop()
    backend.go.set()
    host.pump(lambda: answered(host, a))
    last = stored(host)[-1]
    assert last.figures["finish_reason"] == "cancelled" and not last.complete
    assert "(stopped)" in host.transcript.content()


def test_regenerate_replaces_the_last_answer(host: FakeHost) -> None:
    a = ready(host, ScriptedBackend(["First answer.\n", "Second answer.\n"]))
    done = recorder(host.bus, AnswerDone)
    a.send("Name a builtin.")
    host.pump(lambda: answered(host, a))
    a.regenerate()
    host.pump(lambda: answered(host, a) and len(done) == 2)
    assert done[-1].figures["reload"] is True
    msgs = stored(host)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].content.strip() == "Second answer."


def test_an_editor_job_runs_on_the_same_path_and_hands_back_its_result(host: FakeHost) -> None:
    a = ready(host, ScriptedBackend(["It prints a greeting.\n"]))
    results: list[tuple[object, list, str]] = []
    started = a.run_file_job(
        "ask",
        "Explain the selection in tool.py",
        {"question": "Explain:\n\n```python\nprint('hi')\n```", "language": "python"},
        lambda result, events: results.append((result, events, threading.current_thread().name)),
    )
    assert started
    host.pump(lambda: answered(host, a) and bool(results))
    [(result, _events, thread)] = results
    assert result.job == "ask" and result.answer is not None
    assert thread == threading.main_thread().name  # handed back on the Tk thread
    assert "Explain the selection in tool.py" in host.transcript.content()
    assert "It prints a greeting." in host.transcript.content()
    assert stored(host)[-1].figures["task"] == "ask"
    # While an answer runs, a second job is refused with a reason.
    a.state = "generating"
    assert not a.run_file_job("review", "Review tool.py", {}, lambda *_: None)
    assert "An answer is running" in host.transcript.content()


def test_a_job_registered_alone_runs_from_the_selector(host: FakeHost) -> None:
    """The toy job (tests/assist/jobs/toy.py) is offered and run with no GUI file naming it."""
    from codenook.assist.jobs import registry
    from tests.assist.jobs.toy import TOY, WORDS

    backend = ScriptedBackend(["HELLO THERE\n"])
    a = ready(host, backend)
    registry.register(TOY)
    try:
        assert "Shout" not in a.job.cget("values")
        a.job.tk.eval(a.job.cget("postcommand"))  # what Tk runs as the list opens
        assert a.job.cget("values")[-1] == "Shout"
        a.job.set("Shout")
        a.send("hello there")
        host.pump(lambda: answered(host, a))
    finally:
        registry.unregister(TOY.name)
    assert backend.calls[-1][0].content == WORDS  # its declared words are the system prompt
    assert backend.calls[-1][-1].content == "Shout: hello there"
    assert "HELLO THERE" in host.transcript.content()
    assert [m.role for m in stored(host)] == ["user", "assistant"]


def pick(combo, label: str) -> None:
    """Choose ``label`` in a read-only combobox, as the list's click does."""
    combo.set(label)
    combo.event_generate("<<ComboboxSelected>>")


def test_a_debug_after_a_bash_generate_runs_the_attached_python_file(
    host: FakeHost, tmp_path
) -> None:
    crash = tmp_path / "crash.py"
    crash.write_text(
        "def average(numbers):\n    return sum(numbers) / len(numbers)\n\n\nprint(average([]))\n"
    )
    backend = ScriptedBackend(
        ["```bash\necho hello\n```\n", "```bash\necho hello\n```\n", "The list is empty.\n"]
    )
    a = ready(host, backend)
    pick(a.job, "Generate")
    pick(a.language, "Bash")
    a.send("Print hello in Bash.")
    host.pump(lambda: answered(host, a))
    pick(a.job, "Debug")
    a.attach_file(str(crash))
    host.pump(lambda: a.attached is not None)
    a.send("")
    host.pump(lambda: answered(host, a))
    shown = host.transcript.content()
    assert "ZeroDivisionError" in shown, shown  # run by Python, in the real sandbox
    assert "Bash error" not in shown and "was chosen" not in shown
    assert a.language.get() == "Auto"  # the language is chosen per job


def test_a_language_chosen_over_the_files_own_is_said(host: FakeHost, tmp_path) -> None:
    script = tmp_path / "tool.py"
    script.write_text("print('hi')\n")
    a = ready(host, ScriptedBackend(["Fine.\n"]))
    notes = recorder(host.bus, module.Note)
    pick(a.job, "Review")
    pick(a.language, "Bash")
    a.attach_file(str(script))
    host.pump(lambda: a.attached is not None)
    a.send("")
    host.pump(lambda: answered(host, a))
    said = "Bash was chosen: tool.py is treated as Bash, not as the Python its name says"
    assert said in host.transcript.content()
    assert any(said in n.text for n in notes)


def test_regenerate_keeps_the_earlier_turns_while_the_new_answer_streams(host: FakeHost) -> None:
    backend = PausingBackend(["Tuples are fixed.\n", "A set.\n", "Unordered,\nunique items.\n"])
    backend.answering.set()  # the first two answers do not pause
    a = ready(host, backend)
    a.send("What is a tuple?")
    host.pump(lambda: answered(host, a))
    a.send("What is a set?")
    host.pump(lambda: answered(host, a))
    backend.answering.clear()  # the regenerated one does
    a.regenerate()
    host.pump(lambda: backend.answering.is_set() and "Unordered," in host.transcript.content())
    shown = host.transcript.content()
    assert "What is a tuple?" in shown and "Tuples are fixed." in shown
    assert "What is a set?" in shown and "A set." not in shown  # in place of the old one
    backend.go.set()
    host.pump(lambda: answered(host, a))
    shown = host.transcript.content()
    assert shown.count("What is a set?") == 1 and "unique items." in shown
    assert (
        shown.index("Tuples are fixed.") < shown.index("What is a set?") < shown.index("Unordered")
    )


def test_regenerate_in_an_empty_conversation_is_greyed_and_the_key_says_why(
    host: FakeHost,
) -> None:
    a = ready(host, ScriptedBackend(["Hi.\n"]))
    notes = recorder(host.bus, module.Note)
    assert a.regen_button.instate(["disabled"])
    [redo] = [c for c in a.commands() if c.label == "Regenerate"]
    assert redo.key == "<Control-r>"
    redo.invoke()
    assert notes[-1].text == "Nothing to regenerate: ask a question first."
    a.send("Hello?")
    host.pump(lambda: answered(host, a))
    assert not a.regen_button.instate(["disabled"])


class CutBackend(ScriptedBackend):
    """Every answer ends at the token limit."""

    def _stream(self, text: str):
        stream = super()._stream(text)
        stream.result.finish_reason = "length"
        return stream


def test_an_answer_cut_at_the_token_limit_is_marked(host: FakeHost) -> None:
    a = ready(host, CutBackend(["def average(numbers):\n    return\n"]))
    a.send("Write average.")
    host.pump(lambda: answered(host, a))
    assert "The answer was cut at the token limit (2 tokens): it is incomplete." in (
        host.transcript.content()
    )


def test_the_generate_retry_is_set_apart_from_the_first_attempt(host: FakeHost) -> None:
    backend = ScriptedBackend(
        ["```python\ndef f(:\n    pass\n```\n", "```python\ndef f():\n    return 1\n```\n"]
    )
    a = ready(host, backend)
    pick(a.job, "Generate")
    a.send("A function f that returns 1.")
    host.pump(lambda: answered(host, a))
    shown = host.transcript.content()
    assert len(backend.calls) == 2, shown
    first, second = shown.index("def f(:"), shown.index("def f():")
    divider = shown.index("Second attempt (the first failed the checks):")
    assert first < divider < second
    assert "—" * 20 in shown[first:divider]  # a visible rule between them
