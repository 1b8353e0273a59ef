"""The real window under Xvfb, with the real embedded model and a real database."""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from codenook import config
from codenook.gui.app import App
from codenook.gui.theme import THEMES
from codenook.store import conversations as store
from codenook.store.db import open_database
from tests.conftest import PASSWORD
from tests.gui.conftest import pump

FAST = config.GenerationSettings(max_tokens=24, temperature=0.0, seed=1)
LONG_QUESTION = "Count from 1 to 500, one number per line."


def make_app(generation: config.GenerationSettings = FAST) -> tuple[tk.Tk, App]:
    root = tk.Tk()
    settings = config.Settings(
        model=config.ModelSettings(context_length=2048, threads=2), generation=generation
    )
    return root, App(root, settings=settings)


@pytest.fixture
def window(account) -> Iterator[tuple[tk.Tk, App]]:
    root, app = make_app()
    yield root, app
    if not app.closing:
        app.close()


def login(root: tk.Tk, app: App, name: str = "tester", password: str = PASSWORD) -> None:
    pump(root, lambda: app.backend is not None)
    app.login.name_entry.insert(0, name)
    app.login.password_entry.insert(0, password)
    app.login.submit()
    pump(
        root, lambda: app.user is not None or app.login.error.cget("text") not in ("", "Checking…")
    )


def answered(app: App) -> bool:
    return app.answering.state == "ready" and not app.transcript.streaming


def stored_messages(app: App) -> list[store.MessageRow]:
    db = open_database()
    try:
        return store.messages(db, app.user.id, app.conversation_id)
    finally:
        db.close()


def test_window_opens_at_once_and_logs_in(window) -> None:
    root, app = window
    root.update()
    assert root.title() == "codenook"
    assert app.login_frame.winfo_ismapped()
    login(root, app)
    assert app.user is not None and app.user.name == "tester"
    assert app.main_frame.winfo_ismapped()
    assert "SmolLM2-135M-Instruct · llama.cpp · CPU" in app.status.cget("text")


def test_wrong_password_shows_the_message(window) -> None:
    root, app = window
    login(root, app, password="not-the-password")
    assert app.user is None
    assert app.login.error.cget("text") == "Wrong user name or password."


def test_first_start_offers_to_create_an_account() -> None:
    root, app = make_app()
    try:
        pump(root, lambda: app.login.creating)
        assert app.login.button.cget("text") == "Create account"
        app.login.name_entry.insert(0, "first")
        app.login.password_entry.insert(0, "a-long-enough-password")
        app.login.repeat_entry.insert(0, "a-long-enough-password")
        app.login.submit()
        pump(root, lambda: app.user is not None)
        assert app.user.is_admin
    finally:
        app.close()


def test_send_streams_the_answer_into_the_transcript(window) -> None:
    root, app = window
    login(root, app)
    app.answering.input.insert("1.0", "What is a Python list?")
    app.answering.send()
    assert app.answering.input.get("1.0", "end-1c") == ""
    seen: list[int] = []
    pump(root, lambda: seen.append(len(app.transcript.content())) or answered(app))
    assert len(set(seen)) > 3, "the answer did not grow piece by piece"
    msgs = stored_messages(app)
    assert [m.role for m in msgs] == ["user", "assistant"]
    assert msgs[1].complete
    shown = app.transcript.content()
    assert "What is a Python list?" in shown
    assert msgs[1].content.split()[0] in shown
    assert "tok/s" in app.status.cget("text")
    assert "context" in app.status.cget("text")
    app.answering.send("And a tuple?")
    pump(root, lambda: answered(app))
    shown = app.transcript.content()
    assert "What is a Python list?" in shown and "And a tuple?" in shown
    assert shown.count("codenook") == 2
    assert len(stored_messages(app)) == 4


def test_stop_mid_answer(account) -> None:
    root, app = make_app(config.GenerationSettings(max_tokens=2000, temperature=0.0))
    try:
        login(root, app)
        app.answering.send(LONG_QUESTION)
        pump(root, lambda: len(app.transcript.content()) > 200)
        app.answering.stop()
        pump(root, lambda: answered(app), timeout=5)
        last = stored_messages(app)[-1]
        assert last.figures["finish_reason"] == "cancelled"
        assert not last.complete and last.content
        assert "(stopped)" in app.transcript.content()
    finally:
        app.close()


def test_regenerate_replaces_the_last_answer(window) -> None:
    root, app = window
    login(root, app)
    app.answering.send("Name a Bash builtin.")
    pump(root, lambda: answered(app))
    first = stored_messages(app)
    app.answering.regenerate()
    pump(root, lambda: answered(app) and app.bus.empty() and app.store.idle)
    pump(root, lambda: "Name a Bash builtin." in app.transcript.content())
    after = stored_messages(app)
    assert [m.role for m in after] == ["user", "assistant"]
    assert after[1].created > first[1].created
    assert app.transcript.content().count("Name a Bash builtin.") == 1


def test_switch_conversations_and_search(window) -> None:
    root, app = window
    login(root, app)
    app.answering.send("Tell me about zebras in Python.")
    pump(root, lambda: answered(app))
    first_id = app.conversation_id
    app.conversations.new_conversation()
    app.answering.send("How do Bash arrays work?")
    pump(root, lambda: answered(app))
    pump(root, lambda: len(app.conversations.conversations) == 2)
    assert app.conversations.conversations[0].title == "How do Bash arrays work?"  # newest first
    app.conversations.open_conversation(first_id)
    pump(root, lambda: "zebras" in app.transcript.content())
    assert "Bash arrays" not in app.transcript.content()
    app.conversations.search_entry.insert(0, "zebras")
    app.conversations.search()
    pump(root, lambda: len(app.conversations.conversations) == 1)
    assert app.conversations.conv_list.get(0) == "Tell me about zebras in Python."
    app.conversations.clear_search()
    pump(root, lambda: len(app.conversations.conversations) == 2)


def test_change_theme_is_applied_and_remembered(window) -> None:
    root, app = window
    login(root, app)
    app.set_theme("dark")
    root.update()
    assert app.transcript.text.cget("background") == THEMES["dark"].bg
    pump(root, lambda: config.paths().settings_file.exists())
    pump(root, lambda: config.load_settings().ui.theme == "dark")
    app.set_font_size(14)
    assert app.transcript.text.tag_cget("h1", "font")


def test_code_block_copy_puts_code_on_the_clipboard(window) -> None:
    root, app = window
    login(root, app)
    app.transcript.add_answer("Try:\n\n```python\nprint(2 + 2)\n```\n", message_id=1)
    root.update()
    [block] = app.transcript.code_blocks
    app.code_actions.copy_code(block)
    assert root.clipboard_get() == "print(2 + 2)\n"


def test_closing_mid_answer_exits_quickly_and_keeps_the_partial_answer(account) -> None:
    root, app = make_app(config.GenerationSettings(max_tokens=2000, temperature=0.0))
    login(root, app)
    app.answering.send(LONG_QUESTION)
    pump(root, lambda: len(app.transcript.content()) > 200)
    user, conv_id = app.user, app.conversation_id
    start = time.monotonic()
    app.close()
    assert time.monotonic() - start < 2.0
    db = open_database()
    msgs = store.messages(db, user.id, conv_id)
    db.close()
    assert msgs[-1].role == "assistant"
    assert msgs[-1].content and not msgs[-1].complete


def test_run_button_shows_the_output_in_the_transcript(window) -> None:
    root, app = window
    login(root, app)
    app.transcript.add_answer("Run this:\n\n```python\nprint(2+2)\n```\n", message_id=1)
    [block] = app.transcript.code_blocks
    app.code_actions.run_code(block)
    pump(root, lambda: "isolation:" in app.transcript.content())
    shown = app.transcript.content()
    assert "\n4\n" in shown
    assert "exit 0" in shown
    assert "WARNING" not in shown  # bubblewrap is installed by make test


def test_settings_dialog_validates_saves_and_reloads_the_model(window) -> None:
    root, app = window
    login(root, app)
    dialog = app.open_settings()
    root.update()
    dialog.vars["temperature"].set("hot")
    dialog.apply()
    assert "not a valid value for temperature" in dialog.error.cget("text")
    dialog.vars["temperature"].set("9")
    dialog.apply()
    assert "generation.temperature" in dialog.error.cget("text")
    dialog.vars["temperature"].set("0.5")
    dialog.vars["context_length"].set("1024")
    dialog.vars["theme"].set("dark")
    dialog.prompt.delete("1.0", "end")
    dialog.prompt.insert("1.0", "Answer in one sentence.")
    dialog.apply()
    pump(root, lambda: app.backend is not None and app.backend.info.context_length == 1024)
    assert app.transcript.text.cget("background") == THEMES["dark"].bg
    pump(root, lambda: config.load_settings().model.context_length == 1024)
    saved = config.load_settings()
    assert saved.generation.temperature == 0.5
    assert saved.prompts.ask == "Answer in one sentence."
    assert saved.ui.theme == "dark"
    app.answering.send("What is Bash?")
    pump(root, lambda: answered(app))
    db = open_database()
    conv = store.get_conversation(db, app.user.id, app.conversation_id)
    db.close()
    assert conv.system_prompt == "Answer in one sentence."


def test_thumbs_and_the_feedback_form_are_stored(window) -> None:
    root, app = window
    login(root, app)
    app.answering.send("Say hi.")
    pump(root, lambda: answered(app))
    message_id = app.answering.last_figures["message_id"]
    app.code_actions.vote(message_id, 1)
    pump(root, lambda: "Thanks" in app.status.cget("text"))
    app.code_actions.vote(message_id, -1)  # a thumbs-down opens the form
    pump(root, lambda: any(isinstance(w, tk.Toplevel) for w in root.winfo_children()))
    [form] = [w for w in root.winfo_children() if isinstance(w, tk.Toplevel)]
    form.rating.set(2)
    form.category.set("wrong code")
    form.comment.insert("1.0", "x" * 5001)
    form.submit()
    assert "limit is 5,000" in form.error.cget("text")
    form.comment.delete("1.0", "end")
    form.comment.insert("1.0", "The function was wrong.")
    form.include.set(True)
    form.submit()
    pump(root, lambda: "Feedback saved" in app.status.cget("text"))
    db = open_database()
    row = db.execute(
        "SELECT rating, category, comment, include_conversation FROM feedback"
    ).fetchone()
    vote = db.execute("SELECT vote FROM messages WHERE id = ?", (message_id,)).fetchone()[0]
    db.close()
    assert tuple(row) == (2, "wrong_code", "The function was wrong.", 1)
    assert vote == -1


def test_a_worker_exception_is_logged_shown_and_the_window_keeps_working(window) -> None:
    from codenook import applog

    root, app = window
    applog.setup_logging(debug=False)
    try:
        login(root, app)

        def broken() -> None:
            raise RuntimeError("disk on fire")

        app.store.submit(broken)
        pump(root, lambda: "Error: disk on fire" in app.transcript.content())
        log_text = applog.log_file().read_text()
        assert "disk on fire" in log_text and "Traceback" in log_text
        app.answering.send("Say hi.")  # still working
        pump(root, lambda: answered(app))
        assert len(stored_messages(app)) == 2
    finally:
        applog.shutdown_logging()


def test_job_selector_reviews_an_attached_file_findings_first(window, tmp_path) -> None:
    root, app = window
    login(root, app)
    src = tmp_path / "tool.py"
    src.write_text("import os\n\n\ndef double(x):\n    return x * 2\n", encoding="utf-8")
    app.answering.job.set("Review")
    app.answering.attach_file(str(src))
    pump(root, lambda: app.answering.attached is not None)
    assert "tool.py" in app.answering.attached_label.cget("text")
    app.answering.send("")
    pump(root, lambda: answered(app))
    shown = app.transcript.content()
    assert "Review tool.py" in shown
    # The linter's finding is shown before the model's answer.
    assert "F401" in shown
    assert shown.index("F401") < shown.rindex("codenook")
    assert app.answering.attached is None  # the attachment went with the job
    last = stored_messages(app)[-1]
    assert last.role == "assistant" and last.figures["task"] == "review"
    assert src.read_text(encoding="utf-8").startswith("import os")  # reviewed, not changed


def test_a_reopened_review_shows_what_was_typed_not_the_job_prompt(window, tmp_path) -> None:
    """Issue 18, point 7: "You" is the user's words; the listing went to the model only."""
    root, app = window
    login(root, app)
    src = tmp_path / "tool.py"
    src.write_text("import os\n\n\ndef double(x):\n    return x * 2\n", encoding="utf-8")
    app.answering.job.set("Review")
    app.answering.attach_file(str(src))
    pump(root, lambda: app.answering.attached is not None)
    app.answering.send("Are the names clear?")
    pump(root, lambda: answered(app))
    asked = stored_messages(app)[0]
    assert "1 | import os" in asked.content  # the model was given the listing
    conv_id = app.conversation_id
    app.conversations.new_conversation()
    pump(root, lambda: "Are the names clear?" not in app.transcript.content())
    app.conversations.open_conversation(conv_id)
    pump(root, lambda: "Are the names clear?" in app.transcript.content())
    shown = app.transcript.content()
    you = shown.split("\ncodenook")[0]  # the user's turn, before the answer
    assert you.startswith("You\nReview tool.py") and "Are the names clear?" in you, shown
    assert "1 | import os" not in you and "Propose a fix" not in you, shown


def test_an_editor_job_gets_a_conversation_of_its_own(window, tmp_path) -> None:
    """Issue 18, point 7: a Review from the editor is not appended to the open chat."""
    root, app = window
    login(root, app)
    app.answering.send("Say hi.")
    pump(root, lambda: answered(app))
    chat = app.conversation_id
    src = tmp_path / "tool.py"
    src.write_text("import os\n\n\ndef double(x):\n    return x * 2\n", encoding="utf-8")
    app.open_in_editor(str(src))
    pump(root, lambda: app.editor.path == str(src))
    assert app.editor.jobs.review()
    pump(root, lambda: answered(app) and app.conversation_id not in (None, chat), timeout=180)
    assert [m.role for m in stored_messages(app)] == ["user", "assistant"]
    db = open_database()
    try:
        assert len(store.messages(db, app.user.id, chat)) == 2  # the chat is as it was
        title = store.get_conversation(db, app.user.id, app.conversation_id).title
    finally:
        db.close()
    assert title.startswith("Review tool.py")
    assert "Say hi." not in app.transcript.content()


def test_job_selector_debugs_pasted_code_in_the_sandbox(window) -> None:
    root, app = window
    login(root, app)
    app.answering.job.set("Debug")
    app.answering.send("print(1 / 0)")
    pump(root, lambda: answered(app))
    shown = app.transcript.content()
    assert "ZeroDivisionError" in shown
    assert stored_messages(app)[-1].figures["task"] == "debug"


def test_job_selector_says_what_is_missing_and_keeps_the_text(window, tmp_path) -> None:
    root, app = window
    login(root, app)
    app.answering.job.set("Debug")
    text = "Traceback (most recent call last):\nKeyError: 'x'"
    app.answering.input.insert("1.0", text)
    app.answering.send()
    assert "attach it" in app.transcript.content()
    assert app.answering.input.get("1.0", "end-1c") == text
    bad = tmp_path / "latin1.py"
    bad.write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    app.answering.attach_file(str(bad))
    pump(root, lambda: "Not attached" in app.transcript.content())
    assert "UTF-8" in app.transcript.content()
    assert app.answering.attached is None


def test_a_remote_backend_that_is_down_fails_over_and_the_status_bar_says_so(account) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    root = tk.Tk()
    settings = config.Settings(
        model=config.ModelSettings(context_length=2048, threads=2),
        generation=FAST,
        backends={"box": config.RemoteBackendSettings(url=url, connect_timeout=1.0)},
        routing=config.RoutingSettings(ask="box", failover=True),
    )
    app = App(root, settings=settings)
    try:
        login(root, app)
        shown = app.status.cget("text")
        assert "failover" in shown and url in shown, shown
        app.answering.send("Say hi.")
        pump(root, lambda: answered(app))
        last = stored_messages(app)[-1]
        assert last.role == "assistant" and last.content.strip()
        assert "failover" in last.figures["backend"]  # the answer says which machine
        assert "this machine" in app.status.cget("text")
    finally:
        if not app.closing:
            app.close()


def test_a_job_routed_to_a_served_model_answers_from_there_and_ask_stays_local(
    account, tmp_path
) -> None:
    from tests.cli.test_serve import start_serve, stop

    proc, url = start_serve(tmp_path / "server-home")
    root = tk.Tk()
    settings = config.Settings(
        model=config.ModelSettings(context_length=2048, threads=1),
        generation=FAST,
        backends={"box": config.RemoteBackendSettings(url=url, context_length=2048)},
        routing=config.RoutingSettings(review="box"),
    )
    app = App(root, settings=settings)
    try:
        login(root, app)
        local = app.backend.info.backend
        assert url not in local
        src = tmp_path / "tool.py"
        src.write_text("import os\n\n\ndef double(x):\n    return x * 2\n", encoding="utf-8")
        app.answering.job.set("Review")
        app.answering.attach_file(str(src))
        pump(root, lambda: app.answering.attached is not None)
        app.answering.send("")
        pump(root, lambda: answered(app), timeout=120)
        review = stored_messages(app)[-1]
        assert review.role == "assistant" and review.figures["task"] == "review"
        assert url in review.figures["backend"], review.figures
        assert url in app.status.cget("text")  # the status bar says which machine
        app.answering.job.set("Ask")
        app.answering.send("Say hi.")
        pump(root, lambda: answered(app))
        assert stored_messages(app)[-1].figures["backend"] == local
    finally:
        if not app.closing:
            app.close()
        stop(proc)


def test_the_runtime_setting_switches_the_model_and_the_status_bar_says_so(window) -> None:
    root, app = window
    login(root, app)
    assert "llama.cpp · CPU" in app.status.cget("text")
    dialog = app.open_settings()
    root.update()
    assert dialog.vars["runtime"].get() == "auto"
    dialog.vars["runtime"].set("transformers")
    dialog.apply()
    # Loaded on the model worker while the window keeps drawing.
    pump(root, lambda: app.backend is not None, timeout=240)
    assert app.backend.info.runtime == "transformers"
    status = app.status.cget("text")
    assert "SmolLM2-135M-Instruct · transformers · CPU (float32)" in status, status
    pump(root, lambda: config.load_settings().model.runtime == "transformers")
    app.answering.send("Say hi.")
    pump(root, lambda: answered(app), timeout=240)


def test_closing_writes_the_window_state_file_and_leaves_settings_toml_alone(account) -> None:
    import json

    p = config.ensure_dirs()
    p.settings_file.write_text(
        "# my settings\n[model]\ncontext_length = 2048\nthreads = 2\n\n"
        '[ui]\ntheme = "dark"\ngeometry = "700x500"\n'
    )
    before = p.settings_file.read_bytes()
    root = tk.Tk()
    app = App(root)
    assert app.settings.ui.geometry == "700x500"  # an older file's [ui] state still applies
    app._remember(recent_files=("/work/x.py",))  # as opening a file does: the state file alone
    pump(root, lambda: p.state_file.exists())
    assert p.settings_file.read_bytes() == before
    root.geometry("820x540+5+6")
    pump(root, lambda: root.winfo_width() == 820)
    app.close()
    assert p.settings_file.read_bytes() == before
    state = json.loads(p.state_file.read_text())
    assert state["geometry"].startswith("820x540"), state
    assert state["recent_files"] == ["/work/x.py"] and state["sidebar_width"] > 0
    again = config.load_settings()
    assert again.ui.geometry == state["geometry"] and again.ui.theme == "dark"


def test_a_person_debugs_an_attached_python_file_after_a_bash_generate(
    account, tmp_path: Path
) -> None:
    """Issue 18, point 3, with keys and clicks: the language is chosen per job (back to
    Auto), so the .py attached through the file dialog runs as Python, not as Bash."""
    import threading

    from tests.gui.person import Person, xdotool

    crash = tmp_path / "crash.py"
    crash.write_text(
        "def average(numbers):\n    return sum(numbers) / len(numbers)\n\n\nprint(average([]))\n"
    )
    root, app = make_app(config.GenerationSettings(max_tokens=24, temperature=0.0))
    person = Person(root)
    a = app.answering

    def choose(combo, downs: int) -> None:
        person.click(combo)  # the list opens on the current choice, and holds the keys
        xdotool("key", "--delay", "30", *(["Down"] * downs), "Return")
        person.settle()

    def done() -> bool:
        return a.state == "ready" and not app.transcript.streaming

    try:
        login(root, app)
        choose(a.job, 1)  # Ask -> Generate
        choose(a.language, 2)  # Auto -> Bash
        assert (a.job.get(), a.language.get()) == ("Generate", "Bash")
        person.click(a.input)
        person.type("Print hello.")
        person.key("Return")
        person.wait(lambda: a.state == "generating", timeout=120)
        person.wait(done, timeout=300)
        choose(a.job, 3)  # Generate -> Debug
        assert (a.job.get(), a.language.get()) == ("Debug", "Auto")

        def type_the_path() -> None:  # the file dialog holds the Tk loop while it is open
            time.sleep(1.5)
            xdotool("type", "--delay", "10", str(crash))
            xdotool("key", "Return")

        typist = threading.Thread(target=type_the_path)
        typist.start()
        person.click(a.attach_button)
        typist.join(timeout=60)
        person.wait(lambda: a.attached == str(crash))
        person.click(a.send_button)
        person.wait(lambda: a.state == "generating", timeout=120)
        person.wait(done, timeout=300)
        shown = app.transcript.content()
        assert "ZeroDivisionError" in shown, shown  # Python ran it, in the sandbox
        assert "Bash error" not in shown, shown
    finally:
        app.close()
