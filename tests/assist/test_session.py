"""Chat sessions with the real model and a real database."""

import pytest

from codenook.assist.session import ChatSession, NotFoundError, drafting
from codenook.engine.backend import GenerationOptions
from codenook.engine.embedded import embedded_model_path
from codenook.engine.llama import LlamaBackend
from codenook.errors import GenerationError
from codenook.store import conversations as store
from tests.scripted import ScriptedBackend

OPTS = GenerationOptions(max_tokens=24, temperature=0.0, seed=1)
PW = "pumpkin-harbor-31"


def quiet(_: str) -> None:
    pass


def test_three_turns_are_stored_in_order_and_carried(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    answers = [s.send(q, on_text=quiet) for q in ("What is Bash?", "And Python?", "Compare.")]
    msgs = store.messages(db, alice.id, s.conversation_id)
    assert [m.role for m in msgs] == ["user", "assistant"] * 3
    assert [m.content for m in msgs[::2]] == ["What is Bash?", "And Python?", "Compare."]
    assert [m.content for m in msgs[1::2]] == [a.text for a in answers]
    assert all(m.complete for m in msgs)
    first, third = answers[0].result, answers[2].result
    assert third.prompt_tokens > first.prompt_tokens + answers[0].result.completion_tokens
    conv = store.get_conversation(db, alice.id, s.conversation_id)
    assert conv.title == "What is Bash?"


def test_next_turn_reuses_the_evaluated_prefix(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    a1 = s.send("What is a Python list?", on_text=quiet)
    a2 = s.send("Show an example.", on_text=quiet)
    # Everything up to the first answer's end was already in the model.
    assert a2.result.cached_tokens >= a1.result.prompt_tokens + a1.result.completion_tokens - 2


def test_another_conversation_in_between_does_not_cost_the_cache(
    db, users, embedded_backend
) -> None:
    alice, bob = users
    a = ChatSession(db, alice, embedded_backend, OPTS)
    b = ChatSession(db, bob, embedded_backend, OPTS)
    a1 = a.send("What is a Bash array?", on_text=quiet)
    b.send("Tell me about Python decorators in detail.", on_text=quiet)
    embedded_backend.stream_completion("def f(x):", options=OPTS).read()
    a2 = a.send("And how do I loop over it?", on_text=quiet)
    assert a2.result.cached_tokens >= a1.result.prompt_tokens


@pytest.mark.timeout(900)  # ten real answers: slow on a loaded two-core machine
def test_small_context_drops_old_turns_but_keeps_them_on_disk(db, users) -> None:
    alice, _ = users
    backend = LlamaBackend(embedded_model_path(), context_length=512, threads=2)
    try:
        s = ChatSession(db, alice, backend, GenerationOptions(max_tokens=48, temperature=0.0))
        long_question = (
            "Explain this Python code in detail: " + "x = [i * i for i in range(10)]; " * 6
        )
        answers = [s.send(f"{i}. {long_question}", on_text=quiet) for i in range(10)]
    finally:
        backend.close()
    for a in answers:
        assert a.result.prompt_tokens + 48 <= 512
        assert a.result.finish_reason in ("stop", "length")
    assert answers[-1].turns_dropped > 0
    assert answers[0].turns_dropped == 0
    msgs = store.messages(db, alice.id, s.conversation_id)
    assert len(msgs) == 20
    stored = [m for m in msgs if m.role == "assistant"]
    assert stored[-1].figures["turns_dropped"] == answers[-1].turns_dropped


def test_message_longer_than_context_is_refused_and_saved(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    huge = "print('hello world')\n" * 50_000  # about 1 MB
    with pytest.raises(GenerationError, match=r"tokens.*context holds 2,048"):
        s.send(huge, on_text=quiet)
    msgs = store.messages(db, alice.id, s.conversation_id)
    assert msgs[0].content == huge
    assert msgs[1].figures["finish_reason"] == "error"
    # The conversation goes on afterwards.
    assert s.send("Say hi.", on_text=quiet).result.finish_reason in ("stop", "length")


def test_nul_and_control_bytes_are_answered_and_kept_exactly(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    weird = "\x00\x01\x02\x1b[31m what \x7f is \x00 this?\x08"
    s.send(weird, on_text=quiet)
    assert store.messages(db, alice.id, s.conversation_id)[0].content == weird


def test_cancelled_answer_is_kept_and_marked_partial(db, users, embedded_backend) -> None:
    alice, _ = users
    s = ChatSession(db, alice, embedded_backend, GenerationOptions(max_tokens=300, temperature=0.0))
    seen: list[str] = []

    def stop_soon(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 5:
            embedded_backend.cancel()

    answer = s.send("Write a long Python tutorial.", on_text=stop_soon)
    assert answer.result.finish_reason == "cancelled"
    last = store.messages(db, alice.id, s.conversation_id)[-1]
    assert not last.complete
    assert last.content == "".join(seen) == answer.text
    assert last.figures["finish_reason"] == "cancelled"


def test_ctrl_c_mid_answer_is_logged_cancelled_not_error(db, users) -> None:
    """Ctrl-C is the user stopping the answer (issue 18): the log says cancelled."""
    alice, _ = users

    class Interrupted(ScriptedBackend):
        def _stream(self, text: str):
            stream = super()._stream(text)
            pieces = stream._pieces

            def then_ctrl_c():
                yield next(pieces)
                raise KeyboardInterrupt

            stream._pieces = then_ctrl_c()
            return stream

    s = ChatSession(db, alice, Interrupted(["one\ntwo\nthree\n"]), GenerationOptions())
    with pytest.raises(KeyboardInterrupt):
        s.send("Count.", on_text=quiet)
    last = store.messages(db, alice.id, s.conversation_id)[-1]
    assert last.figures["finish_reason"] == "cancelled"
    assert last.content == "one\n" and not last.complete


def test_resume_unknown_and_foreign_conversations_look_the_same(
    db, users, embedded_backend
) -> None:
    alice, bob = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    s.send("Alice's secret question", on_text=quiet)
    with pytest.raises(NotFoundError) as foreign:
        ChatSession.resume(db, bob, embedded_backend, s.conversation_id, options=OPTS)
    with pytest.raises(NotFoundError) as missing:
        ChatSession.resume(db, bob, embedded_backend, 9999, options=OPTS)
    assert str(foreign.value).replace(str(s.conversation_id), "N") == str(missing.value).replace(
        "9999", "N"
    )
    resumed = ChatSession.resume(db, alice, embedded_backend, s.conversation_id, options=OPTS)
    assert len(resumed.turns()) == 1


def test_users_never_see_each_others_conversations(db, users, embedded_backend) -> None:
    alice, bob = users
    s = ChatSession(db, alice, embedded_backend, OPTS)
    s.send("zebra-keyword question", on_text=quiet)
    cid = s.conversation_id
    assert store.list_conversations(db, bob.id) == []
    assert store.get_conversation(db, bob.id, cid) is None
    assert store.messages(db, bob.id, cid) == []
    assert store.search(db, bob.id, "zebra") == []
    assert not store.rename_conversation(db, bob.id, cid, "mine now")
    assert not store.delete_conversation(db, bob.id, cid)
    assert store.search(db, alice.id, "zebra")[0].conversation_id == cid
    assert store.get_conversation(db, alice.id, cid).title == "zebra-keyword question"


def test_record_keeps_a_one_off_exchange_with_its_task(db, users) -> None:
    alice, _ = users
    backend = ScriptedBackend(fills=["x + 1\n"])
    s = ChatSession(db, alice, backend, OPTS)
    seen: list[str] = []
    answer = s.record(
        "Complete f.py at line 2, column 12.",
        start=lambda: backend.fill("def f(x):\n    return ", "\n", options=OPTS),
        on_text=seen.append,
        task="complete",
        language="python",
    )
    assert answer.text == "".join(seen) == "x + 1\n"
    q, a = store.messages(db, alice.id, s.conversation_id)
    assert (q.role, q.content) == ("user", "Complete f.py at line 2, column 12.")
    assert (a.content, a.complete, a.figures["task"], a.figures["language"]) == (
        "x + 1\n",
        True,
        "complete",
        "python",
    )
    assert s.turns()[0][1].content == "x + 1\n"  # a later chat turn sees the exchange


def test_record_stops_where_the_caller_says_the_answer_ends(db, users) -> None:
    alice, _ = users
    backend = ScriptedBackend(["one\ntwo\nthree\nfour\n"])
    s = ChatSession(db, alice, backend, OPTS)
    seen: list[str] = []
    answer = s.record(
        "q",
        start=lambda: backend.stream_chat([], options=OPTS),
        on_text=seen.append,
        task="document",
        ended=lambda: len(seen) == 2,
    )
    assert answer.text == "one\ntwo\n" and backend.served == [2]
    assert answer.result.finish_reason == "stop"
    last = store.messages(db, alice.id, s.conversation_id)[-1]
    assert last.complete and last.figures["finish_reason"] == "stop"


def test_record_whose_stream_cannot_start_is_kept_as_an_error(db, users) -> None:
    alice, _ = users
    s = ChatSession(db, alice, ScriptedBackend(), OPTS)

    def broken() -> None:
        raise GenerationError("the model is gone")

    with pytest.raises(GenerationError):
        s.record("q", start=broken, on_text=quiet, task="complete")  # type: ignore[arg-type]
    q, a = store.messages(db, alice.id, s.conversation_id)
    assert q.content == "q" and a.figures["finish_reason"] == "error"


class _OptionsSeen(ScriptedBackend):
    """A scripted backend that keeps the drafting each answer was asked with."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__(answers)
        self.drafts: list[str] = []

    def stream_chat(self, messages, *, options: GenerationOptions, cache_key=None):  # type: ignore[override]
        self.drafts.append(options.draft)
        return super().stream_chat(messages, options=options, cache_key=cache_key)


def test_auto_drafting_is_on_only_for_answers_that_copy_their_input(db, users) -> None:
    alice, _ = users
    backend = _OptionsSeen(["a\n", "b\n", "c\n"])
    s = ChatSession(db, alice, backend, GenerationOptions(draft="auto"))
    s.send("What is a generator?", on_text=lambda _: None)
    s.send("Review this file.", on_text=lambda _: None, drafts=True)
    s.regenerate(on_text=lambda _: None, drafts=True)
    assert backend.drafts == ["off", "on", "on"]
    # A user's choice of on or off holds whatever the job.
    assert drafting(GenerationOptions(draft="off"), True).draft == "off"
    assert drafting(GenerationOptions(draft="on"), False).draft == "on"


def test_the_edit_jobs_are_declared_as_drafting() -> None:
    from codenook.assist.jobs import registry

    assert {j.name for j in registry.all_jobs() if j.drafts} == {"review", "debug", "document"}
    assert registry.drafts("review") and not registry.drafts("ask")
    assert not registry.drafts("no_such_job")
