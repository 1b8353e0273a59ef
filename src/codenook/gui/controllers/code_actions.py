"""Code actions: what the transcript's buttons do (copy, save, run, vote, feedback, links)."""

from __future__ import annotations

import webbrowser
from dataclasses import dataclass
from tkinter import filedialog
from typing import Any

from codenook import safefile
from codenook.assist import feedback, interactions
from codenook.assist.tools import sandbox
from codenook.gui.commands import Command
from codenook.gui.events import (
    AnswerDone,
    ConversationLoaded,
    FeedbackSaved,
    Note,
    RunResult,
    Saved,
    Voted,
)
from codenook.gui.feedback_dialog import FeedbackDialog
from codenook.gui.host import Host
from codenook.gui.markdown import CodeBlock
from codenook.gui.transcript import Actions


class CodeActionsController:
    """The code blocks' and answers' buttons; results come back on the bus."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.last_message_id: int | None = None
        bus = host.bus
        bus.subscribe(AnswerDone, self._on_answer_done)
        bus.subscribe(RunResult, self._on_run_result)
        bus.subscribe(Saved, lambda e: bus.publish(Note(f"Saved {e.path}")))
        bus.subscribe(Voted, self._on_voted)
        # After the conversations controller has drawn the reopened conversation.
        bus.subscribe(ConversationLoaded, self._read_votes)
        bus.subscribe(VotesRead, self._on_votes_read)
        bus.subscribe(FeedbackSaved, lambda _e: bus.publish(Note("Feedback saved")))

    def commands(self) -> list[Command]:
        """Feedback…, in the Edit menu."""
        return [Command("Feedback…", lambda: self.open_feedback(), menu="Edit")]

    def actions(self) -> Actions:
        """The transcript's buttons, wired to this controller."""
        return Actions(
            copy=self.copy_code,
            save=self.save_code,
            run=self.run_code,
            vote=self.vote,
            open_link=self.open_link,
            insert=lambda block: self.host.insert_into_editor(block.code),
        )

    def copy_code(self, block: CodeBlock) -> None:
        """Put a code block's text on the clipboard."""
        root = self.host.root
        root.clipboard_clear()
        root.clipboard_append(block.code)
        self.host.bus.publish(Note("Code copied"))

    def save_code(self, block: CodeBlock) -> None:
        """Save a code block to a file the user picks."""
        ext = ".py" if (block.language or "").startswith("py") else ".sh"
        path = filedialog.asksaveasfilename(parent=self.host.root, defaultextension=ext)
        if path:
            code, store = block.code, self.host.store

            def job() -> None:
                safefile.write_file(path, code, force=True)
                store.post(Saved(path))

            store.submit(job)

    def run_code(self, block: CodeBlock) -> None:
        """Run a code block in the sandbox (the user clicked Run); output shows below."""
        lang = (block.language or "").lower()
        language = "python" if lang.startswith("py") else "bash"
        code, settings, tools = block.code, self.host.settings, self.host.tools
        limits = sandbox.Limits.from_settings(settings.sandbox)
        allow = settings.sandbox.allow_unisolated
        self.host.bus.publish(Note(f"Running {language} in the sandbox…"))

        def job() -> None:
            result = sandbox.run_code(
                code, language=language, limits=limits, allow_unisolated=allow
            )
            lines = []
            if not result.isolated:
                lines.append(
                    "WARNING: no sandbox isolation on this machine; the code ran "
                    "as a plain process with limits only."
                )
            lines += [
                result.stdout.rstrip("\n"),
                result.stderr.rstrip("\n"),
                f"[{result.summary()}]",
            ]
            tools.post(RunResult("\n".join(x for x in lines if x)))

        tools.submit(job)

    def vote(self, message_id: int, value: int) -> None:
        """Thumbs up (1) or down (-1) on an answer; stored, and a thumbs-down asks why."""
        user = self.host.user
        if user is None:
            return
        transcript = self.host.transcript
        if transcript.vote_shown(message_id) == value:
            value = 0  # pressing the marked vote again takes it back
        choice = {1: "up", -1: "down", 0: "clear"}[value]
        transcript.show_vote(message_id, value)
        store, db = self.host.store, self.host.store_db
        store.submit(
            lambda: store.post(Voted(interactions.vote(db.get(), user, message_id, choice)))
        )
        if value < 0:
            self.open_feedback(message_id)

    def open_feedback(self, message_id: int | None = None) -> FeedbackDialog | None:
        """The Feedback… form for an answer (the last one when none is named)."""
        message_id = message_id or self.last_message_id
        if message_id is None or self.host.user is None:
            self.host.transcript.add_error("Feedback is about an answer: ask something first.")
            return None
        return FeedbackDialog(self.host.root, message_id=message_id, on_submit=self.submit_feedback)

    def submit_feedback(self, message_id: int, **fields: Any) -> None:
        """Store the form's feedback (on the store worker)."""
        user = self.host.user
        if user is None:
            return
        store, db = self.host.store, self.host.store_db
        store.submit(
            lambda: store.post(
                FeedbackSaved(feedback.submit_feedback(db.get(), user, message_id, **fields))
            )
        )

    @staticmethod
    def open_link(href: str) -> None:
        """Open a link in the browser, only after a click and only for web addresses."""
        if href.startswith(("http://", "https://")):
            webbrowser.open(href)

    def _on_answer_done(self, event: AnswerDone) -> None:
        if "message_id" in event.figures:
            self.last_message_id = event.figures["message_id"]

    def _on_run_result(self, event: RunResult) -> None:
        self.host.bus.publish(Note(""))
        self.host.transcript.add_output(event.text)

    def _on_voted(self, event: Voted) -> None:
        self.host.bus.publish(Note("Thanks for the feedback" if event.value > 0 else "Noted"))

    def _read_votes(self, event: ConversationLoaded) -> None:
        """Read the stored votes of a reopened conversation's answers (store worker)."""
        user, conv_id = self.host.user, event.doc["id"]
        if user is None:
            return
        store, db = self.host.store, self.host.store_db

        def job() -> None:
            entries = interactions.log_entries(db.get(), user)
            votes = {e.id: e.vote for e in entries if e.conversation_id == conv_id and e.vote}
            store.post(VotesRead(conv_id, votes))

        store.submit(job)

    def _on_votes_read(self, event: VotesRead) -> None:
        if event.conversation_id == self.host.conversation_id:
            for message_id, value in event.votes.items():
                self.host.transcript.show_vote(message_id, value)


@dataclass(frozen=True)
class VotesRead:
    """The stored votes of a reopened conversation's answers, by message id (store worker)."""

    conversation_id: int
    votes: dict[int, int]
