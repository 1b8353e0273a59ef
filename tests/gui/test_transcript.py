"""The transcript in the real window under Xvfb, driven with xdotool as a person would:
Run output under its block, Regenerate in place, Stop and Esc alike, the sidebar and the
status bar following the conversation (issue 18, points 6 and 8 and the smaller ones)."""

from __future__ import annotations

from codenook import config
from tests.gui.person import Person
from tests.gui.test_app import LONG_QUESTION, login, make_app, stored_messages

LONG = config.GenerationSettings(max_tokens=2000, temperature=0.0)
PROSE = "\n\n".join(f"Paragraph {n} says something about the code." for n in range(40))


def test_run_output_goes_under_its_block_and_the_view_stays(account) -> None:
    root, app = make_app()
    person = Person(root)
    try:
        login(root, app)
        t = app.transcript
        t.add_answer(
            f"{PROSE}\n\n```python\nprint(6 * 7)\n```\n\nAfter the code.\n\n{PROSE}",
            message_id=None,
        )
        t.text.see("1.0")
        person.settle()
        t.text.see(t.text.search("print(6 * 7)", "1.0"))
        person.settle()
        top = t.text.yview()[0]
        assert t.text.yview()[1] < 1.0  # the end is not in view
        [run] = [b for b in t._buttons if b.cget("text") == "Run"]
        person.click(run)
        person.wait(lambda: "exit 0" in t.content())
        person.settle()
        shown = t.content()
        code, out, after = (shown.index(s) for s in ("print(6 * 7)", "\n42\n", "After the code."))
        assert code < out < after, shown[
            out - 200 : out + 100
        ]  # under the block, not at the end of the conversation
        assert t.text.yview()[1] < 1.0 and abs(t.text.yview()[0] - top) < 0.1  # no jump
    finally:
        app.close()


def test_regenerate_leaves_the_earlier_turns_shown_while_it_streams(account) -> None:
    root, app = make_app(LONG)
    person = Person(root)
    try:
        login(root, app)
        a = app.answering
        person.click(a.input)
        assert a.regen_button.instate(["disabled"])  # nothing to regenerate yet
        person.type("Name a Bash builtin.")
        person.key("Return")
        person.wait(lambda: a.state == "ready" and not app.transcript.streaming)
        person.wait(lambda: not a.regen_button.instate(["disabled"]))
        seen: list[str] = []
        person.click(a.regen_button)
        person.wait(lambda: a.state == "generating")
        while a.state == "generating":
            seen.append(app.transcript.content())
            person.settle()
        assert seen and all("Name a Bash builtin." in s for s in seen)
        person.wait(lambda: not app.transcript.streaming and app.store.idle and app.bus.empty())
        assert app.transcript.content().count("Name a Bash builtin.") == 1
        assert [m.role for m in stored_messages(app)] == ["user", "assistant"]
    finally:
        app.close()


def test_new_resets_the_status_bars_context_count(account) -> None:
    root, app = make_app()
    person = Person(root)
    try:
        login(root, app)
        person.click(app.answering.input)
        person.type("Say hi.")
        person.key("Return")
        person.wait(lambda: app.answering.state == "ready" and app.conversation_id is not None)
        person.settle()
        assert "context " in app.status.cget("text"), app.status.cget("text")
        person.click(app.conversations.new_button)
        person.wait(lambda: app.conversation_id is None)
        assert "context " not in app.status.cget("text")
    finally:
        app.close()


def test_stop_and_esc_label_a_stopped_answer_alike_and_log_it_cancelled(account) -> None:
    root, app = make_app(LONG)
    person = Person(root)
    try:
        login(root, app)
        a, t = app.answering, app.transcript
        labels = []
        for stop in (lambda: person.click(a.stop_button), lambda: person.key("Escape")):
            person.click(a.input)
            person.type(LONG_QUESTION)
            person.key("Return")
            # The new conversation is in the sidebar while its first answer streams.
            person.wait(lambda: a.state == "generating" and len(t.content()) > 120)
            assert app.conversations.conv_list.get(0).startswith("Count from 1 to 500")
            stop()
            person.wait(lambda: a.state == "ready" and not t.streaming)
            labels.append(t.text.get("end-2l linestart", "end-1c").strip())
            last = stored_messages(app)[-1]
            assert last.figures["finish_reason"] == "cancelled" and not last.complete
        assert labels == ["(stopped)", "(stopped)"], labels
    finally:
        app.close()
