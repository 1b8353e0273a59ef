"""Answering: load the model, send, regenerate, stop, run jobs, attach files.

The only owner of the chat's :class:`~codenook.assist.session.ChatSession`. The session is
created, used and dropped on the model worker only: the Tk thread never touches it, it
only moves a counter (:meth:`AnsweringController.forget_session`) that the worker reads
with the next request and then starts a fresh session.
"""

from __future__ import annotations

import itertools
import logging
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tkinter import filedialog, ttk
from typing import Any

from codenook.assist.session import DEFAULT_SYSTEM_PROMPT, Answer, ChatSession, options_from
from codenook.assist.tools import sandbox
from codenook.assist.tools.files import read_source
from codenook.auth import User
from codenook.engine.backend import Backend, GenerationOptions
from codenook.errors import UsageError
from codenook.gui import dispatch
from codenook.gui.commands import Command
from codenook.gui.dispatch import LANGUAGES, JobRequest
from codenook.gui.dnd import enable_file_drop
from codenook.gui.events import (
    AnswerDone,
    AnswerFailed,
    Attached,
    AttachFailed,
    ConversationOpened,
    ConversationStarted,
    FileJobDone,
    JobNote,
    LoggedOut,
    ModelFailed,
    ModelReady,
    Note,
    QuestionSent,
    SettingsApplied,
    StateChanged,
    StatusText,
    Token,
    WorkerFailed,
)
from codenook.gui.flowrow import FlowRow
from codenook.gui.host import Host
from codenook.gui.jobrun import run_request
from codenook.gui.sourcelinks import ProjectChooser, SourceLinks, grounded
from codenook.gui.transcript import Tooltip, finish_label
from codenook.library.pool import BackendPool
from codenook.library.routing import open_for_job

log = logging.getLogger(__name__)

#: What the model worker runs for one answer: ``call(session, on_text)``.
Call = Callable[[ChatSession, Callable[[str], None]], Any]
#: Between a job's first attempt and its retry, in the streamed answer (Markdown).
RETRY_DIVIDER = "\n\n---\n\n**Second attempt** (the first failed the checks):\n\n"
#: What a file job's starter gets back (Tk thread): the job's result and its events.
OnJobResult = Callable[[Any, list[Any]], None]


class AnsweringController:
    """The input row and box, the model, and every answer streamed into the transcript."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.backend: Backend | None = None
        self.state = "loading"
        self.last_figures: dict[str, Any] = {}
        self.attached: str | None = None
        self.can_drop = False
        self.worker = ModelSide(host)
        self._epoch = 0  # Tk thread: moved on to make the worker start a fresh session
        self._late_notes: list[str] = []
        self._tickets = itertools.count(1)
        self._file_jobs: dict[int, OnJobResult] = {}
        bus = host.bus
        for kind, handler in (
            (ModelReady, self._on_model_ready),
            (ModelFailed, self._on_model_failed),
            (AnswerDone, self._on_answer_done),
            (AnswerFailed, self._on_answer_failed),
            (Token, lambda e: host.transcript.append(e.text)),
            (JobNote, self._on_job_note),
            (ConversationStarted, self._on_started),
            (ConversationOpened, self._on_opened),
            (FileJobDone, self._on_file_job_done),
            (Attached, self._on_attached),
            (AttachFailed, lambda e: host.transcript.add_error(f"Not attached: {e.error}")),
            (WorkerFailed, lambda _e: self._set_state("ready" if self.backend else self.state)),
            (LoggedOut, lambda _e: self._logged_out()),
            (SettingsApplied, self._on_settings),
        ):
            bus.subscribe(kind, handler)
        self.sources = SourceLinks(host)  # after AnswerDone's handler above: links follow

    def commands(self) -> list[Command]:
        """Esc stops the answer; Ctrl+R answers again; Ctrl+L goes to the input box."""
        return [
            Command("Stop", self.stop, key="<Escape>"),
            Command("Regenerate", self.regenerate, key="<Control-r>"),
            Command("Input", lambda: self.input.focus_set(), key="<Control-l>"),
        ]

    # -- building ------------------------------------------------------------------

    def build(self, master: tk.Misc) -> tk.Frame:
        """The row under the transcript (job, language, Attach, Send…) and the input box."""
        bottom = tk.Frame(master, padx=6, pady=6)
        # Three groups that flow like words: the job's choices, the attached file, the
        # answer's buttons (on the right). When the chat is too narrow for all on one
        # line, a group wraps to the next line rather than be cut (see FlowRow).
        self.row = row = FlowRow(bottom)
        row.pack(fill="x")
        left, attached, right = row.group(), row.group(), row.group(right=True)
        self._attached_group = attached
        row.show(attached, False)
        # The registry's labels are read when the list opens: importing the jobs at start
        # would delay the window's first appearance (~0.2 s), and a job registered later shows.
        self.job = ttk.Combobox(left, values=("Ask",), state="readonly", width=9)
        self.job.configure(postcommand=lambda: self.job.configure(values=dispatch.job_labels()))
        self.job.set("Ask")
        self.job.pack(side="left")
        # The language is chosen per job: a new job starts from Auto (issue 18, point 3).
        self.job.bind("<<ComboboxSelected>>", lambda _e: self.language.set("Auto"), add="+")
        Tooltip(self.job, "What codenook should do")
        self.language = ttk.Combobox(left, values=LANGUAGES, state="readonly", width=7)
        self.language.set("Auto")
        self.language.pack(side="left", padx=4)
        Tooltip(self.language, "The code's language for this job (Auto: from the file or code)")
        self.projects = ProjectChooser(self.host, left)
        self.projects.box.pack(side="left", padx=(0, 4))
        Tooltip(self.projects.box, "Which of your indexed projects grounds the jobs")
        self.attach_button = self._button(left, "Attach…", self.attach, 7, "left", 0)
        Tooltip(self.attach_button, "Attach a file for the job to work on")
        self.attached_label = ttk.Button(attached, text="", command=self.detach)
        self.attached_label.pack(side="left", padx=(4, 0))
        Tooltip(self.attached_label, "Attached: the job works on this file (click to remove)")
        self.regen_button = self._button(right, "Regenerate", self.regenerate, 11, "left", 0)
        Tooltip(self.regen_button, "Answer the last question again")
        self.stop_button = self._button(right, "Stop", self.stop, 5, "left", 4)
        Tooltip(self.stop_button, "Stop the answer (Esc)")
        self.send_button = self._button(right, "Send", self.send, 6, "left", 0)
        Tooltip(self.send_button, "Send (Enter; Shift+Enter for a new line)")
        self.input = tk.Text(bottom, height=4, wrap="word", undo=True, padx=6, pady=4)
        self.input.pack(fill="x", pady=(6, 0))
        self.input.bind("<Return>", self._on_return)
        self.input.bind("<Control-Return>", lambda _e: self.send() or "break")
        # Dropping a file on the input (or the transcript) attaches it, as Attach… does;
        # tkdnd loads once the window is up (it costs tens of ms).
        self.host.root.after(300, self._enable_drop)
        return bottom

    @staticmethod
    def _button(row: tk.Misc, text: str, command: Any, width: int, side: str, padx: int) -> Any:
        button = ttk.Button(row, text=text, command=command, width=width)
        button.pack(side=side, padx=padx)  # type: ignore[arg-type]
        return button

    def start(self) -> None:
        """Load the configured model on the model worker."""
        self.host.model.submit(self.worker.load_model, on_error=ModelFailed)

    def model_context(self) -> Any:
        """What a completion needs: (database, user, backend, options). Model worker."""
        return self.worker.model_context(self.backend)

    # -- actions (Tk thread) -------------------------------------------------------------

    def forget_session(self) -> None:
        """The next answer starts a fresh session (new prompts, a new backend ...)."""
        self._epoch += 1

    def send(self, text: str | None = None) -> None:
        """Run the selected job on the input box's text (or ``text``) and stream the answer."""
        if text is None:
            text = self.input.get("1.0", "end-1c")
        if self.host.user is None or (not text.strip() and self.attached is None):
            return
        if self.backend is None:
            self.host.transcript.add_error(
                "The model is still loading; your text stays in the box."
            )
            return
        if self.state == "generating":
            return
        try:
            request = dispatch.plan(self.job.get(), self.language.get(), text, self.attached)
        except UsageError as exc:
            # Nothing is taken out of the box: the user fixes the request and sends again.
            self.host.transcript.add_error(str(exc))
            return
        note = dispatch.override_note(self.language.get(), self.attached)
        self.input.delete("1.0", "end")
        self.detach()
        self.run(request)
        if note:  # said above the answer and in the status bar, never silently
            self.host.transcript.add_tool_note(note)
            self.host.bus.publish(Note(note))

    def run_file_job(
        self, name: str, label: str, options: dict[str, Any], on_result: OnJobResult
    ) -> bool:
        """Run a job on the editor's file; the answer streams into the chat."""
        if self.host.user is None:
            return False
        if self.backend is None or self.state == "generating":
            busy = "The model is still loading" if self.backend is None else "An answer is running"
            self.host.transcript.add_error(f"{busy}; try {label} again in a moment.")
            return False
        ticket = next(self._tickets)
        self._file_jobs[ticket] = on_result
        # A conversation of its own (the job names it after itself and the file), never
        # appended to the chat that happens to be open.
        self.host.conversation_id = None
        self.host.transcript.clear()
        self.run(JobRequest(name, dict(options), label), ticket=ticket)
        return True

    def run(self, request: JobRequest, *, ticket: int | None = None) -> None:
        """Run ``request``: the one path for the chat's selector and the editor's jobs.

        With a ``ticket`` (an editor job) the result goes back as :class:`FileJobDone`
        and the tools' notes with it; without, the notes show in the transcript.
        """
        self.host.transcript.add_user(request.shown)
        # The sidebar shows a new conversation now, not once the answer is done.
        self.host.bus.publish(QuestionSent(self.host.conversation_id, request.shown))
        settings = self.host.settings
        prompts, post = settings.prompts, self.host.model.post
        limits = sandbox.Limits.from_settings(settings.sandbox)
        choice, found = self.projects.get(), self.sources.finder(self.host.user, self.projects)

        def call(session: ChatSession, on_text: Callable[[str], None]) -> Any:
            events: list[Any] = []
            say = events.append if ticket else (lambda e: post(JobNote(e.text)))

            def on_event(event: Any) -> None:
                if event.kind == "retry":  # the second attempt is not glued to the first
                    on_text(RETRY_DIVIDER)
                if found(event) and ticket is None:
                    return  # the sources show as links under the answer
                say(event)

            result = run_request(
                grounded(request, choice), session, on_text=on_text, on_event=on_event,
                prompts=prompts, limits=limits,
            )  # fmt: skip
            if ticket is None:
                return result
            post(FileJobDone(ticket, result, events))
            if result.answer is None:  # the tools found nothing to ask the model
                from codenook.assist.jobs import JobError

                raise JobError(" ".join(result.notes) or f"{request.shown}: nothing to do.")
            return result.answer

        self._start_answer(call, job=request.name)

    def regenerate(self) -> None:
        """Redo the last answer: the new one streams in its place, the rest stays shown."""
        if self.backend is None or self.state == "generating":
            return
        if self.host.conversation_id is None:
            # Ctrl+R in an empty conversation: the button is greyed, the key says why.
            self.host.bus.publish(Note("Nothing to regenerate: ask a question first."))
            return
        self.host.transcript.drop_last_answer()
        self._start_answer(
            lambda session, on_text: session.regenerate(on_text=on_text), reload=True
        )

    def stop(self) -> None:
        """Stop the answer being generated (Esc). Safe at any time."""
        answering = self.worker.answering or self.backend
        if answering is not None and self.state == "generating":
            answering.cancel()

    def _start_answer(self, call: Call, *, reload: bool = False, job: str = "ask") -> None:
        """Run ``call(session, on_text)`` on the model worker, streaming into the transcript.

        ``job`` picks the backend through the routing settings; a job answered by another
        backend than the chat's runs in a session of its own on the same conversation.
        """
        self.host.bus.publish(Note(""))
        self._set_state("generating")
        host = self.host
        backend = self.backend
        assert host.user is not None and backend is not None
        turn = Turn(
            call=call,
            job=job,
            user=host.user,
            backend=backend,
            conversation_id=host.conversation_id,
            epoch=self._epoch,
            options=options_from(host.settings.generation),
            system=host.settings.prompts.ask or DEFAULT_SYSTEM_PROMPT,
            reload=reload,
        )
        host.transcript.begin_answer()
        host.model.submit(lambda: self.worker.answer(turn), on_error=AnswerFailed)

    # -- attaching ------------------------------------------------------------------------

    def attach(self) -> None:
        """Pick a file for the job to work on (Review, Debug, Document ... run on it)."""
        path = filedialog.askopenfilename(parent=self.host.root)
        if path:
            self.attach_file(path)

    def attach_file(self, path: str) -> None:
        """Attach ``path`` once a worker has checked it is UTF-8 text under 5 MB."""
        store = self.host.store

        def job() -> None:
            read_source(path)  # a binary, non-UTF-8, huge or missing file is said now
            store.post(Attached(path))

        store.submit(job, on_error=AttachFailed)

    def drop_files(self, paths: list[str]) -> None:
        """Files dropped on the window: the first is attached; more are said to be left."""
        self.attach_file(paths[0])
        if len(paths) > 1:
            left = ", ".join(Path(p).name for p in paths[1:])
            self.host.transcript.add_error(
                f"One file at a time: attached {Path(paths[0]).name}, not {left}."
            )

    def detach(self) -> None:
        """Forget the attached file."""
        self.attached = None
        self.row.show(self._attached_group, False)

    def _enable_drop(self) -> None:
        self.can_drop = enable_file_drop(self.input, self.drop_files)
        if self.can_drop:
            enable_file_drop(self.host.transcript.text, self.drop_files)

    def _on_attached(self, event: Attached) -> None:
        self.attached = event.path
        self.attached_label.configure(text=f"{Path(event.path).name} ✕")
        self.row.show(self._attached_group)

    # -- events (Tk thread) ---------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = state == "generating"
        self.send_button.state(["disabled"] if busy else ["!disabled"])
        can_redo = not busy and self.host.conversation_id is not None
        self.regen_button.state(["!disabled"] if can_redo else ["disabled"])
        self.stop_button.state(["!disabled"] if busy else ["disabled"])
        self.host.bus.publish(StateChanged(state, self.backend, self.last_figures))

    def _on_return(self, event: tk.Event) -> str | None:
        if event.state & 0x1:  # Shift+Enter: a new line
            return None
        self.send()
        return "break"

    def _on_model_ready(self, event: ModelReady) -> None:
        self.backend = event.backend
        self.host.bus.publish(Note(""))  # "loading model…" is over
        self._set_state("ready")

    def _on_model_failed(self, event: ModelFailed) -> None:
        self._set_state("no model")
        self.host.bus.publish(Note(str(event.error)))
        self.host.transcript.add_error(f"The model could not be loaded: {event.error}")

    def _on_started(self, event: ConversationStarted) -> None:
        self.host.conversation_id = event.conversation_id

    def _on_opened(self, event: ConversationOpened) -> None:
        # Another conversation (or a new one): its context count is not the last one's.
        if event.conversation_id is None or event.conversation_id != self.last_figures.get(
            "conversation_id"
        ):
            self.last_figures = {}
        self._set_state(self.state)  # the status bar and Regenerate follow

    def _on_job_note(self, event: JobNote) -> None:
        # What the tools found before the model speaks (lint findings, the error) shows
        # above the answer at once; what they find later follows the answer.
        if not self.host.transcript.add_tool_note(event.text):
            self._late_notes.append(event.text)

    def _on_answer_done(self, event: AnswerDone) -> None:
        figures, transcript = event.figures, self.host.transcript
        late, self._late_notes = self._late_notes, []
        if "message_id" not in figures:  # a job that never asked the model
            self._set_state("ready")
            transcript.finish_answer(figures["text"], message_id=None)
        else:
            self.last_figures = figures
            self.host.conversation_id = figures["conversation_id"]
            note = finish_label(figures)
            if figures.get("turns_dropped"):
                note += f" ({figures['turns_dropped']} oldest turns left out to fit the context)"
            by = figures.get("backend")
            if by and self.backend is not None and by != self.backend.info.backend:
                self.host.bus.publish(Note(f"answered by {by}"))  # a job routed elsewhere
            self._set_state("ready")
            # A regenerated answer streamed where the old one was: it ends like any other.
            transcript.finish_answer(
                figures["text"], message_id=figures["message_id"], note=note.strip()
            )
        for text in late:
            transcript.add_note(text)

    def _on_answer_failed(self, event: AnswerFailed) -> None:
        transcript = self.host.transcript
        if transcript.streaming:
            transcript.finish_answer("", message_id=None)
        transcript.add_error(f"Error: {event.error}")
        self._set_state("ready")

    def _on_file_job_done(self, event: FileJobDone) -> None:
        on_result = self._file_jobs.pop(event.ticket, None)
        if on_result is not None:
            on_result(event.result, event.events)

    def _logged_out(self) -> None:
        self.stop()
        self.forget_session()

    def _on_settings(self, event: SettingsApplied) -> None:
        old, new = event.old, event.new
        self.forget_session()  # the next answer uses the new prompts and sampling
        if (new.routing, new.backends) != (old.routing, old.backends):
            self.host.model.submit(self.worker.pool.close_all)  # reopened on first use
        if new.model != old.model:
            self.stop()
            self.backend = None
            self._set_state("loading")
            self.host.model.submit(self.worker.reload, on_error=ModelFailed)

    # -- closing --------------------------------------------------------------------------

    def cancel_all(self) -> None:
        """Cancel whatever is answering (closing: the partial answer is saved)."""
        for b in (self.worker.answering, self.backend):
            if b is not None:
                b.cancel()

    def release(self) -> None:
        """Close the loaded backends once the model worker has stopped. Tk thread, closing."""
        loaded = self.worker.loaded or self.backend
        if loaded is not None and self.host.model.idle:
            try:
                loaded.close()
            except Exception:
                log.exception("closing the backend failed")
            self.worker.pool.close_all()


@dataclass(frozen=True)
class Turn:
    """One answer to run on the model worker, with what the Tk thread knew when it began."""

    call: Call
    job: str
    user: User
    backend: Backend
    conversation_id: int | None
    #: The Tk thread's session counter: a new value makes the worker start a fresh session.
    epoch: int
    options: GenerationOptions
    system: str
    reload: bool = False


class ModelSide:
    """The model worker's half of answering: the loaded backend, the routed ones, and the
    chat's session. Every method runs on the model worker; ``answering`` and ``loaded`` are
    read by the Tk thread only to cancel or close (closing, once the worker stopped)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.pool = BackendPool(on_note=lambda text: host.model.post(StatusText(text)))
        self.session: ChatSession | None = None
        self.session_epoch = 0
        self.loaded: Backend | None = None  # the backend the model worker holds
        #: The backend answering now (the chat's, or a routed job's): what Stop cancels.
        self.answering: Backend | None = None

    def load_model(self) -> None:
        """Load the configured model. Runs on the model worker."""
        post = self.host.model.post
        post(StatusText("loading model…"))
        # The window's chat follows the ask route: local, or a remote backend (with failover).
        backend = open_for_job(
            self.host.settings, "ask", on_note=lambda text: post(StatusText(text))
        )
        # The jobs are imported here, on the thread that runs them, rather than at window
        # start (the window maps sooner) or in the first request (which would wait for it).
        import codenook.assist.jobs  # noqa: F401

        self.loaded = backend
        post(ModelReady(backend))

    def reload(self) -> None:
        """Close the loaded model and load the configured one. Model worker."""
        old, self.loaded, self.session = self.loaded, None, None
        if old is not None:
            old.close()
        self.load_model()

    def backend_for(self, job: str, chat: Backend) -> Backend:
        """The backend ``job`` is routed to (settings ``[routing]``). Runs on the model worker.

        The chat's own backend follows the ask route; a job routed elsewhere gets its own,
        opened once (with failover when allowed) and kept until the settings change.
        """
        settings = self.host.settings
        target = settings.routing.for_job(job)
        if target == settings.routing.for_job("ask"):
            return chat
        if not self.pool.has(settings, job):
            self.host.model.post(StatusText(f"opening the {job} backend ({target})…"))
        return self.pool.get(settings, job)

    def model_context(self, chat: Backend | None) -> Any:
        """What a completion needs: (database, user, backend, options). Model worker."""
        user = self.host.user
        if user is None or chat is None:
            return None
        backend = self.backend_for("complete", chat)
        return self.host.model_db.get(), user, backend, options_from(self.host.settings.generation)

    def _session_for(self, turn: Turn, answering: Backend) -> ChatSession:
        db = self.host.model_db.get()

        def fresh(backend: Backend) -> ChatSession:
            if turn.conversation_id is not None:
                return ChatSession.resume(
                    db, turn.user, backend, turn.conversation_id, options=turn.options
                )
            return ChatSession(db, turn.user, backend, turn.options, system_prompt=turn.system)

        if answering is not turn.backend:
            self.session = None  # the chat resumes on its own backend afterwards
            return fresh(answering)
        s = self.session
        if (
            s is None
            or self.session_epoch != turn.epoch
            or s.conversation_id != turn.conversation_id
        ):
            s = self.session = fresh(turn.backend)
            self.session_epoch = turn.epoch
        return s

    def answer(self, turn: Turn) -> None:
        """Run one turn, streaming tokens onto the bus. Model worker."""
        post = self.host.model.post
        answering = self.answering = self.backend_for(turn.job, turn.backend)
        try:
            session = self._session_for(turn, answering)
            streamed: list[str] = []

            def on_text(piece: str) -> None:
                if not streamed:  # the window learns a new conversation's id at once
                    post(ConversationStarted(session.conversation_id))
                streamed.append(piece)
                post(Token(piece))

            outcome = turn.call(session, on_text)
        finally:
            self.answering = None
        if isinstance(outcome, Answer):
            post(AnswerDone({"text": outcome.text, "reload": turn.reload, **outcome.figures()}))
            return
        # A job may ask more than once (a retry, one docstring each): the transcript keeps
        # all that streamed, and the tools' verdicts follow.
        done = {"text": "".join(streamed), "reload": turn.reload, "job": outcome.summary()}
        if outcome.answer is not None:
            done.update(outcome.answer.figures())
        post(AnswerDone(done))
